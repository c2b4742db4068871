import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approve, startMonthlyDeduction, statisticAwaitingApproval } from '../client/deductions.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import { startStack, type TestStack } from './support/stack.js';
import { waitForStage } from './support/workflows.js';
import { TEST_WINDOW } from './support/calendar.js';
import { TEST_APPROVERS } from './support/approvers.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500, backoffCoefficient: 1.5 };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function metricValue(text: string, name: string, labels = ''): number {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/**
 * The production worker process (workers/main.ts) started from a prebuilt bundle, with
 * METRICS_PORT: its JSON logs, /metrics and /health, against the real dev server and sandbox.
 */
describe('observability: the production worker process from a prebuilt bundle', function () {
  this.timeout(180_000);
  let stack: TestStack;
  let worker: ChildProcess;
  let logs = '';
  let base: string;
  let runtimeMetrics: string;

  before(async () => {
    stack = await startStack();
    await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 20, seed: 5 });
    await stack.admin.setClock(SANDBOX_NOW);
    const bundle = join(mkdtempSync(join(tmpdir(), 'bundle-')), 'workflow-bundle.js');
    const built = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/bundle.ts', bundle], { encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    worker = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: stack.temporal.address,
        TEMPORAL_NAMESPACE: stack.temporal.namespace,
        INVOICE_CLOUD_BASE_URL: stack.sandboxUrl,
        METRICS_PORT: String(port),
        TEMPORAL_METRICS_BIND: (runtimeMetrics = `127.0.0.1:${await freePort()}`),
        WORKFLOW_BUNDLE_PATH: bundle,
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout!.on('data', (chunk) => (logs += chunk));
    worker.stderr!.on('data', (chunk) => (logs += chunk));
    for (let i = 0; i < 150; i++) {
      const health = await fetch(`${base}/health`).catch(() => undefined);
      if (health?.status === 200) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`the worker did not become healthy:\n${logs}`);
  });
  after(async () => {
    if (worker && worker.exitCode === null) {
      worker.kill('SIGTERM');
      await new Promise((r) => worker.once('exit', r));
    }
    await stack?.stop();
  });

  it('reports healthy on /health, as does the sandbox', async () => {
    const health = await (await fetch(`${base}/health`)).json();
    assert.deepEqual(health, { status: 'ok', worker: 'RUNNING' });
    const sandbox = await fetch(`${stack.sandboxUrl}/health`);
    assert.equal(sandbox.status, 200);
  });

  it('counts selected invoices, polls and bureau errors, and serves the Temporal runtime metrics', async () => {
    const taxNo = '91440300591872133B';
    const { handle } = await startMonthlyDeduction(stack.client, {
      approvers: TEST_APPROVERS,
      taxNo,
      taxPeriod: PERIOD,
      polling: FAST_POLLING,
    });
    const waiting = await waitForStage(handle, 'AWAITING_APPROVAL');
    await approve(stack.client, taxNo, PERIOD, {
      approver: '王会计',
      statisticDigest: (await statisticAwaitingApproval(stack.client, taxNo, PERIOD)).digest,
    });
    await handle.result();
    // A taxpayer the invoice cloud does not know: a bureau error with its code.
    const unknown = withCheckCharacter('91440300000000009');
    const failing = await startMonthlyDeduction(stack.client, {
      approvers: TEST_APPROVERS,
      taxNo: unknown,
      taxPeriod: PERIOD,
    });
    await assert.rejects(failing.handle.result());

    const text = await (await fetch(`${base}/metrics`)).text();
    assert.equal(metricValue(text, 'vat_invoices_selected_total'), waiting.selection!.selected);
    assert.ok(metricValue(text, 'vat_bureau_task_polls_total', '{activity="awaitSelectionResult"}') >= 1, text);
    // Our counters leave through the Temporal runtime's exporter (workers/metrics.ts), labels sorted.
    assert.match(text, /^vat_bureau_errors_total\{code="[^"]+",interface="[^"]+"\} [1-9]/m);
    assert.match(text, /^# TYPE vat_invoices_selected_total counter$/m);
    const runtimeText = await (await fetch(`http://${runtimeMetrics}/metrics`)).text();
    assert.equal(metricValue(runtimeText, 'vat_invoices_selected_total'), waiting.selection!.selected);
    assert.match(text, /^temporal_\w+/m, 'the Temporal runtime metrics are included');
  });

  it('writes JSON log lines with taxNo, period and workflow id on activity lines, and no secrets', () => {
    const lines = logs
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const activityLines = lines.filter((l) => typeof l.activityType === 'string');
    assert.ok(activityLines.length > 0, logs);
    for (const line of activityLines) {
      assert.ok(line.workflowId && line.taxNo && line.taxPeriod, JSON.stringify(line));
    }
    assert.ok(!logs.includes('"12345678"'), 'the app secret never reaches a log line');
  });
});
