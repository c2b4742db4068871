import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { freePort } from '../scripts/devServer.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import { SandboxAdmin } from '../simulator/adminClient.js';
import { startSandbox } from '../simulator/server.js';
import {
  approveSignal,
  deductionWorkflowId,
  type MonthlyDeductionResult,
  progressQuery,
  Stage,
  TASK_QUEUE,
  WORKFLOW_TYPE,
} from '../workflows/contract.js';
import { TEST_APPROVERS } from './support/approvers.js';
import { TEST_WINDOW } from './support/calendar.js';
import { startTimeSkippingServer } from './support/timeSkipping.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const HOUR_MS = 3600_000;
const TAX_NO = '91440300591872133B';
/** The activities that ask the bureau whether a task is done (workers/metrics.ts). */
const POLLING = ['awaitSelectionResult', 'awaitStatisticTask', 'awaitStatisticSettled', 'awaitConfirmation'];

/** Sums a Prometheus metric over its label sets, optionally only those whose labels match. */
function metricSum(text: string, name: string, labels: (l: string) => boolean = () => true): number {
  return text
    .split('\n')
    .filter((line) => new RegExp(`^${name}(_total)?(\\{|\\s)`).test(line))
    .filter((line) => labels(line.slice(line.indexOf('{') + 1, line.indexOf('}'))))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

interface LogLine {
  level: number;
  msg: string;
  activityType?: string;
  error?: { type?: string };
}

/**
 * Quiet polling: a bureau task that takes an hour is polled for an hour, and none of the polls is a
 * failed activity execution in the worker's metrics, nor a warning in its log. The time-skipping
 * test server skips the hour; the sandbox follows its clock; the worker runs in a process of its
 * own (test/support/metricsWorkerProcess.ts) so that the Temporal runtime exports its metrics.
 */
describe('Quiet polling: a month whose bureau task takes an hour (time-skipping)', function () {
  this.timeout(240_000);
  let env: TestWorkflowEnvironment;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let admin: SandboxAdmin;
  let worker: ChildProcess;
  let logs = '';
  let metricsUrl: string;

  before(async () => {
    env = await startTimeSkippingServer();
    sandbox = await startSandbox({ port: 0, dbFile: ':memory:', followClock: () => env.currentTimeMs() });
    admin = new SandboxAdmin(sandbox.url);
    await env.sleep(Date.parse(SANDBOX_NOW) - (await env.currentTimeMs()));
    await admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 12, seed: 5 });
    await admin.setTaskLatency({ kind: 'select', distribution: { type: 'fixed', ms: HOUR_MS } });
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    worker = spawn(process.execPath, ['--import', 'tsx', 'test/support/metricsWorkerProcess.ts'], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: env.address,
        SANDBOX_URL: sandbox.url,
        METRICS_PORT: String(port),
        TEMPORAL_METRICS_BIND: `127.0.0.1:${await freePort()}`,
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout!.on('data', (chunk) => (logs += chunk));
    worker.stderr!.on('data', (chunk) => (logs += chunk));
    for (let i = 0; i < 300 && !logs.includes('Metrics worker started'); i++) {
      if (worker.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(logs.includes('Metrics worker started'), `the worker did not start:\n${logs}`);
  });
  after(async () => {
    if (worker && worker.exitCode === null) {
      worker.kill('SIGTERM');
      await new Promise((r) => worker.once('exit', r));
    }
    await sandbox?.close();
    await env?.teardown();
  });

  const metrics = async () => (await fetch(metricsUrl)).text();
  const logLines = () =>
    logs
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as LogLine);

  it('polls the task for an hour with zero failed activity executions and no warning', async () => {
    const handle = await env.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: TASK_QUEUE,
      workflowId: deductionWorkflowId(TAX_NO, PERIOD),
      // The default polling schedule (1 s, growing by 1.25 up to 50 s), as a month runs in production.
      args: [{ approvers: TEST_APPROVERS, taxNo: TAX_NO, taxPeriod: PERIOD }],
    });
    let progress = await handle.query(progressQuery);
    for (let i = 0; i < 20 && progress.stage !== Stage.AwaitingApproval; i++) {
      await env.sleep(10 * 60_000);
      progress = await handle.query(progressQuery);
    }
    assert.equal(progress.stage, Stage.AwaitingApproval, `the month reached ${progress.stage}`);
    await handle.signal(approveSignal, { approver: TEST_APPROVERS[0]!, statisticDigest: progress.statistic!.digest });
    const result = (await handle.result()) as MonthlyDeductionResult;
    assert.equal(result.outcome, 'COMPLETED', result.note);

    // The selection task took the hour, awaited by one activity retried on the polling schedule.
    const events = (await handle.fetchHistory()).events ?? [];
    const scheduled = events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'awaitSelectionResult',
    )!;
    const started = events.find(
      (e) => e.activityTaskStartedEventAttributes?.scheduledEventId?.toString() === scheduled.eventId?.toString(),
    )!;
    const waitedMs = Number(started.eventTime!.seconds) * 1000 - Number(scheduled.eventTime!.seconds) * 1000;
    const attempts = started.activityTaskStartedEventAttributes!.attempt!;
    assert.ok(waitedMs >= HOUR_MS - 60_000, `the task was awaited for ${waitedMs / 60_000} min`);
    assert.ok(attempts >= 60, `the result was asked for ${attempts} times`);

    const text = await metrics();
    const polls = metricSum(text, 'vat_bureau_task_polls', (l) => l.includes('activity="awaitSelectionResult"'));
    assert.equal(polls, attempts, 'every attempt was a poll the worker counted');
    const executions = metricSum(text, 'temporal_activity_execution_latency_count');
    const failed = metricSum(text, 'temporal_activity_execution_failed');
    assert.ok(executions >= attempts, `the runtime counted ${executions} activity executions`);
    assert.equal(failed, 0, 'no failed activity execution');
    assert.equal(
      metricSum(text, 'vat_bureau_errors', (l) => l.includes('code="6910"')),
      0,
      'a poll is no bureau error',
    );
    const warnings = logLines().filter((l) => l.level >= 40);
    assert.deepEqual(warnings, [], 'no warning in the worker log');
    console.log(
      `      one-hour task: ${attempts} polls over ${(waitedMs / 60_000).toFixed(1)} min (server time), ` +
        `${executions} activity executions in the month, ${failed} failed`,
    );
  });

  it('a real failure still counts as one and warns', async () => {
    const unknown = withCheckCharacter('91440300000000009');
    const handle = await env.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: TASK_QUEUE,
      workflowId: deductionWorkflowId(unknown, PERIOD),
      args: [{ approvers: TEST_APPROVERS, taxNo: unknown, taxPeriod: PERIOD }],
    });
    await assert.rejects(handle.result());
    const text = await metrics();
    const failed = metricSum(text, 'temporal_activity_execution_failed');
    assert.ok(failed >= 1, 'the refusal is a failed activity execution');
    const failedPolls = POLLING.map((a) =>
      metricSum(text, 'temporal_activity_execution_failed', (l) => l.includes(`activity_type="${a}"`)),
    );
    assert.deepEqual(failedPolls, [0, 0, 0, 0], 'no polling activity among the failures');
    const warned = logLines().filter((l) => l.level >= 40 && l.msg === 'Activity failed');
    assert.ok(warned.length >= 1, 'the refusal is a warning in the log');
    assert.ok(
      warned.every((l) => l.error?.type !== 'BureauTaskPending'),
      'no poll among the warnings',
    );
  });
});
