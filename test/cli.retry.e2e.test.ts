import assert from 'node:assert/strict';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import { runCli } from '../client/cli.js';
import type { CliIo } from '../client/cliSupport.js';
import { approve, startMonthlyDeduction, statisticAwaitingApproval } from '../client/deductions.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import { TASK_QUEUE, WORKFLOW_TYPE, deductionWorkflowId, type MonthlyDeductionResult } from '../workflows/contract.js';
import { LAUNCHER_WORKFLOW_TYPE, retryCommand, type LauncherResult } from '../workflows/launcherContract.js';
import { TEST_WINDOW, periodOpenOn } from './support/calendar.js';
import { startStack, type TestStack } from './support/stack.js';
import { addTaxpayer } from './support/taxpayers.js';
import { waitForStage } from './support/workflows.js';
import { TEST_APPROVERS } from './support/approvers.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
/** What the worker sends as the confirmation password (INVOICE_CLOUD_CONFIRM_PASSWORD's default). */
const WORKER_PASSWORD = '1234567';
const TAX_NO = withCheckCharacter('91440300MA5RTRY01');
const NAME = '重试测试有限公司';
const APPROVER = '王会计';
const WORKFLOW_ID = deductionWorkflowId(TAX_NO, PERIOD);
const EventType = proto.temporal.api.enums.v1.EventType;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `retry` end to end on a dev server, the sandbox and a worker: a month the bureau refuses to
 * confirm (wrong confirmation password at the bureau) fails after approval; once the bureau's
 * password is right, `retry` resets it and it completes, with one confirmation and without asking
 * for approval again.
 */
describe('npm run cli -- retry: a failed month resumed from where it stopped', function () {
  this.timeout(180_000);
  let stack: TestStack;
  let failedRunId: string;

  before(async () => {
    stack = await startStack();
    await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 2, seed: 5 });
    await stack.admin.setClock(SANDBOX_NOW);
    // The bureau holds another password than the worker sends: it refuses the confirmation.
    await addTaxpayer(stack.admin, TAX_NO, { name: NAME, invoices: 6, seed: 31, confirmPassword: 'not-the-workers' });
    await stack.startWorker();
  });
  after(async () => stack?.stop());

  async function cli(...args: string[]): Promise<Run> {
    let stdout = '';
    let stderr = '';
    const io: Partial<CliIo> = {
      env: {},
      out: (text) => (stdout += text),
      err: (text) => (stderr += text),
      // The CLI closes the client's connection after each command: a new one each time.
      connect: async () =>
        new Client({
          connection: await Connection.connect({ address: stack.temporal.address }),
          namespace: stack.temporal.namespace,
        }),
    };
    const code = await runCli(['node', 'cli', ...args], io);
    return { code, stdout, stderr };
  }

  it('refuses to retry a running month and a month that never started (exit code 4)', async () => {
    const { handle } = await startMonthlyDeduction(stack.client, {
      approvers: TEST_APPROVERS,
      taxNo: TAX_NO,
      taxPeriod: PERIOD,
      polling: { initialIntervalMs: 200, maximumIntervalMs: 500 },
    });
    await waitForStage(handle, 'AWAITING_APPROVAL');

    const running = await cli('retry', '--tax-no', TAX_NO, '--period', PERIOD);
    assert.equal(running.code, 4, running.stderr);
    assert.match(
      running.stderr,
      new RegExp(`Cannot retry ${WORKFLOW_ID}: its latest run \\S+ is RUNNING; only a month`),
    );
    assert.ok(running.stderr.includes(`npm run cli -- status --tax-no ${TAX_NO} --period ${PERIOD}`), running.stderr);
    assert.equal(running.stdout, '', 'nothing shown as if it were retried');

    const other = withCheckCharacter('91440300MA5RTRY02');
    const missing = await cli('retry', '--tax-no', other, '--period', PERIOD);
    assert.equal(missing.code, 4, missing.stderr);
    assert.match(missing.stderr, /No deduction workflow for taxNo .* nothing to retry/);
  });

  it('the approved month fails at confirmation: the bureau refuses the password (确认密码错误)', async () => {
    await approve(stack.client, TAX_NO, PERIOD, {
      approver: APPROVER,
      comment: '核对无误',
      statisticDigest: (await statisticAwaitingApproval(stack.client, TAX_NO, PERIOD)).digest,
    });
    const handle = stack.client.workflow.getHandle(WORKFLOW_ID);
    await assert.rejects(handle.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError, String(err));
      assert.match(String(err.cause?.message), /确认密码错误/);
      return true;
    });
    const description = await handle.describe();
    assert.equal(description.status.name, 'FAILED');
    failedRunId = description.runId;
    const refused = (await stack.admin.ledger({ taxNo: TAX_NO, includeRefused: 'true' })).filter(
      (w) => w.interfaceCode === 'statisticConfirm',
    );
    assert.deepEqual(
      refused.map((w) => w.accepted),
      [false],
      'one confirmation, refused',
    );
  });

  it('`start` and `status` of the failed month print the retry command', async () => {
    const start = await cli('start', '--tax-no', TAX_NO, '--period', PERIOD, '--approver', '王会计');
    assert.equal(start.code, 0, start.stderr);
    assert.match(start.stdout, new RegExp(`Already ran: ${WORKFLOW_ID} \\(run ${failedRunId}\\) ended FAILED`));
    assert.ok(start.stdout.includes(`To resume it from where it stopped: ${retryCommand(TAX_NO, PERIOD)}\n`));
    const status = await cli('status', '--tax-no', TAX_NO, '--period', PERIOD);
    assert.equal(status.code, 0, status.stderr);
    assert.ok(status.stdout.includes(retryCommand(TAX_NO, PERIOD)), status.stdout);
  });

  it('the scheduled launcher says why it started nothing: the existing status and the retry command', async () => {
    // The launcher takes the period from its own start time; a month of that period that failed.
    const launcherPeriod = periodOpenOn(new Date());
    const taxNo = withCheckCharacter('91440300MA5LNCH01'); // not one of the tenant's taxpayers
    const month = await startMonthlyDeduction(stack.client, {
      approvers: TEST_APPROVERS,
      taxNo,
      taxPeriod: launcherPeriod,
    });
    await assert.rejects(month.handle.result(), WorkflowFailedError);

    const launcher = await stack.client.workflow.start(LAUNCHER_WORKFLOW_TYPE, {
      taskQueue: TASK_QUEUE,
      workflowId: `deduction-launch-${taxNo}-retry-test`,
      args: [{ taxNo, approvers: TEST_APPROVERS }],
    });
    const result = (await launcher.result()) as LauncherResult;
    assert.equal(result.taxPeriod, launcherPeriod);
    assert.equal(result.started, false);
    assert.equal(result.existingStatus, 'FAILED');
    assert.equal(result.hint, retryCommand(taxNo, launcherPeriod));
    // The launcher also logs the hint as a warning; not asserted here: the runtime logger is
    // process-wide, and in a full run its lines did not reliably reach this file's sink.

    // A month still running (on a queue no worker polls): its status, no hint, no warning.
    const runningTaxNo = withCheckCharacter('91440300MA5LNCH02');
    const running = await stack.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: 'nobody-polls-this-queue',
      workflowId: deductionWorkflowId(runningTaxNo, launcherPeriod),
      args: [{ taxNo: runningTaxNo, taxPeriod: launcherPeriod, approvers: TEST_APPROVERS }],
    });
    const second = await stack.client.workflow.start(LAUNCHER_WORKFLOW_TYPE, {
      taskQueue: TASK_QUEUE,
      workflowId: `deduction-launch-${runningTaxNo}-retry-test`,
      args: [{ taxNo: runningTaxNo, approvers: TEST_APPROVERS }],
    });
    const secondResult = (await second.result()) as LauncherResult;
    assert.deepEqual(
      { started: secondResult.started, existingStatus: secondResult.existingStatus, hint: secondResult.hint },
      { started: false, existingStatus: 'RUNNING', hint: undefined },
    );
    await running.terminate('end of the test');
  });

  it('after the bureau has the right password, `retry` resumes the month: COMPLETED, one confirmation, no second approval', async () => {
    await addTaxpayer(stack.admin, TAX_NO, { name: NAME, confirmPassword: WORKER_PASSWORD });

    const run = await cli('retry', '--tax-no', TAX_NO, '--period', PERIOD, '--reason', '确认密码已更正');
    assert.equal(run.code, 0, run.stderr);
    // What failed, shown before the reset.
    assert.ok(run.stdout.includes(`${WORKFLOW_ID}, run ${failedRunId}`), run.stdout);
    assert.match(run.stdout, /Status 状态:\s+FAILED at /);
    assert.match(run.stdout, /Failure 失败原因:\s+.*确认密码错误/);
    assert.match(run.stdout, /Stage 阶段:\s+FAILED \(in CONFIRMING when it stopped\)/);
    assert.match(run.stdout, /Reset point 重置点:\s+event \d+, the workflow task that scheduled requestConfirmation/);
    const newRunId = /new run (\S+) goes on/.exec(run.stdout)?.[1];
    assert.ok(newRunId && newRunId !== failedRunId, run.stdout);
    assert.ok(run.stdout.includes(`npm run cli -- status --tax-no ${TAX_NO} --period ${PERIOD} --watch`));

    const handle = stack.client.workflow.getHandle(WORKFLOW_ID);
    const result = (await handle.result()) as MonthlyDeductionResult;
    assert.equal(result.outcome, 'COMPLETED');
    assert.equal(result.decision?.approver, APPROVER, 'the original approval stands');
    assert.equal(result.refusedSignals, undefined);
    const description = await handle.describe();
    assert.equal(description.runId, newRunId);
    assert.equal(description.status.name, 'COMPLETED');
    // The failed run is still there.
    assert.equal((await stack.client.workflow.getHandle(WORKFLOW_ID, failedRunId).describe()).status.name, 'FAILED');

    // The bureau's ledger: one generated table, one accepted confirmation (and the refused one).
    const ledger = await stack.admin.ledger({ taxNo: TAX_NO });
    const of = (code: string) => ledger.filter((w) => w.interfaceCode === code);
    assert.equal(of('statisticCreate').length, 1, 'one statistic generation');
    assert.equal(of('statisticConfirm').length, 1, 'one accepted confirmation');
    const confirms = (await stack.admin.ledger({ taxNo: TAX_NO, includeRefused: 'true' })).filter(
      (w) => w.interfaceCode === 'statisticConfirm',
    );
    assert.deepEqual(
      confirms.map((w) => w.accepted),
      [false, true],
    );

    // The new run went on from the reset: it never entered AWAITING_APPROVAL again, and no decision came.
    const events = (await handle.fetchHistory()).events ?? [];
    const reset = events.findIndex(
      (e) =>
        e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED &&
        e.workflowTaskFailedEventAttributes?.cause ===
          proto.temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW,
    );
    assert.ok(reset > 0, 'the new run starts with the reset');
    const after = events.slice(reset);
    const stages = after.flatMap((e) => {
      const payload = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.DeductionStage;
      return payload ? [String(defaultPayloadConverter.fromPayload(payload as Payload))] : [];
    });
    assert.deepEqual(stages, ['CONFIRMING', 'COMPLETED']);
    const decisions = (es: typeof events) =>
      es.filter(
        (e) =>
          e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED ||
          e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
      ).length;
    assert.equal(decisions(after), 0);
    const before = events.slice(0, reset);
    assert.equal(decisions(before), 1, 'the one approval is part of the history the new run kept');
    assert.equal(result.stage, 'COMPLETED');
  });

  it('refuses to retry the completed month (exit code 4)', async () => {
    const run = await cli('retry', '--tax-no', TAX_NO, '--period', PERIOD);
    assert.equal(run.code, 4, run.stderr);
    assert.match(run.stderr, /is COMPLETED; a completed month is not run again/);
  });
});
