import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const COMPOSE = process.env.DOCKER_COMPOSE ?? 'docker-compose';
const available = spawnSync(COMPOSE, ['version'], { encoding: 'utf8' }).status === 0;

function compose(args: string[], env: Record<string, string | undefined>) {
  const childEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete childEnv[k];
  return spawnSync(COMPOSE, args, { encoding: 'utf8', env: childEnv });
}

describe('docker-compose.yml (production topology)', function () {
  before(function () {
    if (!available) {
      // scripts/setup.sh installs Debian's docker-compose; without it this check cannot run.
      console.warn(`SKIPPED: ${COMPOSE} is not installed, so docker-compose.yml was not validated`);
      this.skip();
    }
  });

  it('is valid for `docker-compose config -q` once the secrets are in the environment', () => {
    const run = compose(['config', '-q'], { POSTGRES_PASSWORD: 'from-the-environment' });
    assert.equal(run.status, 0, run.stderr);
  });

  it('runs PostgreSQL, Temporal, the Web UI, the sandbox, two workers and the inbox (codec server with encryption)', () => {
    const run = compose(['--profile', 'encryption', 'config', '--services'], { POSTGRES_PASSWORD: 'x' });
    assert.equal(run.status, 0, run.stderr);
    const services = run.stdout.split('\n').filter(Boolean).sort();
    for (const s of [
      'postgresql',
      'temporal',
      'temporal-setup',
      'temporal-ui',
      'sandbox',
      'worker-1',
      'worker-2',
      'inbox',
      'codec-server',
    ]) {
      assert.ok(services.includes(s), `service ${s} in ${services.join(', ')}`);
    }
  });

  it('keeps the database password out of the file: without it, config names the variable', () => {
    const run = compose(['config', '-q'], { POSTGRES_PASSWORD: undefined });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr + run.stdout, /POSTGRES_PASSWORD/);
  });

  it('starts the workers from the prebuilt bundle with health and metrics', () => {
    const run = compose(['config'], { POSTGRES_PASSWORD: 'x' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /WORKFLOW_BUNDLE_PATH: \/app\/\.build\/workflow-bundle\.js/);
    assert.match(run.stdout, /METRICS_PORT: '?9464'?/);
  });
});
