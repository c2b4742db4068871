import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { MAX_HEARTBEAT_THROTTLE_MS, SHUTDOWN_DEFAULTS, shutdownTimesFromEnv } from '../workers/createWorker.js';
import { SELECTION_BEAT_MS } from '../activities/selectionProgress.js';

const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };

/** Compose durations as the file writes them: "30s", "1m30s", "500ms". */
function composeDurationMs(value: string): number {
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  assert.ok(parts.length > 0 && parts.map((p) => p[0]).join('') === value, `not a compose duration: ${value}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3600_000 } as const;
  return parts.reduce((ms, [, n, u]) => ms + Number(n) * unit[u as keyof typeof unit], 0);
}

/** YAML merge keys (`<<: *anchor`) resolved, as compose resolves them (js-yaml keeps them as keys). */
function merged(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(merged);
  if (node === null || typeof node !== 'object') return node;
  const { '<<': base, ...own } = node as Record<string, unknown>;
  const bases = (Array.isArray(base) ? base : base === undefined ? [] : [base]).map(merged) as object[];
  return Object.assign({}, ...bases, Object.fromEntries(Object.entries(own).map(([k, v]) => [k, merged(v)])));
}

function withEnv<T>(env: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const unset = { WORKER_SHUTDOWN_GRACE_SECONDS: undefined, WORKER_SHUTDOWN_FORCE_SECONDS: undefined };

describe('worker shutdown times', () => {
  it("default to a grace for running activities, then a force time, both below the container's stop timeout", () => {
    assert.deepEqual(
      withEnv(unset, () => shutdownTimesFromEnv()),
      SHUTDOWN_DEFAULTS,
    );
    assert.ok(SHUTDOWN_DEFAULTS.graceMs < SHUTDOWN_DEFAULTS.forceMs);
    const compose = merged(yaml.load(readFileSync('docker-compose.yml', 'utf8'))) as {
      services: Record<string, { command?: string[]; stop_grace_period?: string }>;
    };
    const workers = Object.entries(compose.services).filter(([, s]) => s.command?.includes('workers/main.ts'));
    assert.deepEqual(workers.map(([name]) => name).sort(), ['worker-1', 'worker-2', 'worker-dev']);
    for (const [name, service] of workers) {
      assert.ok(service.stop_grace_period, `${name} has a stop_grace_period`);
      const stopMs = composeDurationMs(service.stop_grace_period);
      assert.ok(
        stopMs > SHUTDOWN_DEFAULTS.forceMs,
        `${name}: stop_grace_period ${service.stop_grace_period} must exceed the force time ${SHUTDOWN_DEFAULTS.forceMs} ms`,
      );
    }
  });

  it('are read from WORKER_SHUTDOWN_GRACE_SECONDS and WORKER_SHUTDOWN_FORCE_SECONDS, and bad values are named', () => {
    assert.deepEqual(
      withEnv({ WORKER_SHUTDOWN_GRACE_SECONDS: '5', WORKER_SHUTDOWN_FORCE_SECONDS: '12.5' }, () =>
        shutdownTimesFromEnv(),
      ),
      { graceMs: 5000, forceMs: 12_500 },
    );
    assert.throws(
      () => withEnv({ ...unset, WORKER_SHUTDOWN_GRACE_SECONDS: 'soon' }, () => shutdownTimesFromEnv()),
      /WORKER_SHUTDOWN_GRACE_SECONDS=soon: must be a number of seconds/,
    );
    assert.throws(
      () => withEnv({ ...unset, WORKER_SHUTDOWN_FORCE_SECONDS: '10' }, () => shutdownTimesFromEnv()),
      /the force time \(10 s, WORKER_SHUTDOWN_FORCE_SECONDS\) must be longer than the grace time \(15 s/,
    );
  });

  it('a selection heartbeats more often than the heartbeat throttle lets one through', () => {
    assert.ok(SELECTION_BEAT_MS <= MAX_HEARTBEAT_THROTTLE_MS);
  });
});
