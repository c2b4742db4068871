import assert from 'node:assert/strict';
import { startMonthlyDeduction } from '../client/deductions.js';
import { retryMonth } from '../client/retryMonth.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import { SandboxAdmin } from '../simulator/adminClient.js';
import { startSandbox } from '../simulator/server.js';
import {
  approveSignal,
  deductionWorkflowId,
  type MonthlyDeductionResult,
  Stage,
  TASK_QUEUE,
  WORKFLOW_TYPE,
} from '../workflows/contract.js';
import { TEST_WINDOW } from './support/calendar.js';
import { startStack, type TestStack } from './support/stack.js';
import { addTaxpayer } from './support/taxpayers.js';
import { serverTimeWorker } from './support/serverTimeWorker.js';
import { startTimeSkippingServer } from './support/timeSkipping.js';
import { waitForStage } from './support/workflows.js';
import { TEST_APPROVERS } from './support/approvers.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const HOUR_MS = 3600_000;
const APPROVER = '王会计';

/** Every business call fails with HTTP 503 before the sandbox processes it: the cloud is down. */
const OUTAGE = { http5xxRate: 1, injectAt: 'before' as const };

describe('A bureau outage longer than the old six-hour retry limit', function () {
  this.timeout(240_000);

  it('does not fail the month: its steps retry until the deduction deadline, then it completes (time-skipping)', async () => {
    const taxNo = '91440300591872133B';
    const env = await startTimeSkippingServer();
    const clock = { ms: await env.currentTimeMs() };
    const refresh = async () => (clock.ms = await env.currentTimeMs());
    const sandbox = await startSandbox({ port: 0, dbFile: ':memory:', followClock: refresh });
    try {
      await env.sleep(Date.parse(SANDBOX_NOW) - (await env.currentTimeMs()));
      const admin = new SandboxAdmin(sandbox.url);
      await admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 12, seed: 5 });
      const worker = await serverTimeWorker(env, sandbox.url, refresh, () => new Date(clock.ms));
      const result = await worker.runUntil(async () => {
        await admin.setFaults(OUTAGE);
        const startedAt = await env.currentTimeMs();
        const handle = await env.client.workflow.start(WORKFLOW_TYPE, {
          taskQueue: TASK_QUEUE,
          workflowId: deductionWorkflowId(taxNo, PERIOD),
          args: [
            {
              taxNo,
              taxPeriod: PERIOD,
              approvers: TEST_APPROVERS,
              polling: { initialIntervalMs: 200, maximumIntervalMs: 500 },
            },
          ],
        });
        // Seven hours of workflow time with the cloud down; the first step keeps retrying.
        await env.sleep(7 * HOUR_MS);
        assert.ok((await env.currentTimeMs()) - startedAt >= 7 * HOUR_MS);
        assert.equal((await handle.describe()).status.name, 'RUNNING', 'still running after seven hours of outage');
        await admin.clearFaults();
        const waiting = await waitForStage(handle, Stage.AwaitingApproval);
        await handle.signal(approveSignal, { approver: APPROVER, statisticDigest: waiting.statistic!.digest });
        const done = (await handle.result()) as MonthlyDeductionResult;
        const history = await handle.fetchHistory();
        const loginAttempts = (history.events ?? [])
          .map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0)
          .reduce((a, b) => Math.max(a, b), 0);
        assert.ok(loginAttempts > 300, `the first step was retried through the outage (${loginAttempts} attempts)`);
        return done;
      });
      assert.equal(result.outcome, 'COMPLETED', result.note);
      const confirmations = await admin.ledger({ taxNo, interfaceCode: 'statisticConfirm' });
      assert.equal(confirmations.length, 1, 'confirmed exactly once');
    } finally {
      await sandbox.close();
      await env.teardown();
    }
  });

  describe('a month failed by an outage that outlasted its limit', () => {
    let stack: TestStack;
    before(async () => {
      stack = await startStack();
      await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 1, seed: 1 });
      await stack.admin.setClock(SANDBOX_NOW);
      await stack.startWorker();
    });
    after(async () => stack?.stop());

    it('is resumed with `retry` where it stopped: the approval stands, one generation, one confirmation', async () => {
      const taxNo = withCheckCharacter('91440300MA5D80001');
      await addTaxpayer(stack.admin, taxNo, { invoices: 20, seed: 8 });
      // The limit stands in for the six hours months were given before (the time-skipping test
      // server has no reset, which `retry` uses): 0.003 h is about eleven seconds.
      const { handle } = await startMonthlyDeduction(stack.client, {
        approvers: TEST_APPROVERS,
        taxNo,
        taxPeriod: PERIOD,
        batchSize: 5,
        outageLimitHours: 0.003,
        polling: { initialIntervalMs: 200, maximumIntervalMs: 1000 },
      });
      const waiting = await waitForStage(handle, Stage.AwaitingApproval, 120_000);
      // The cloud goes down as the approver decides: the re-check of the table after the approval
      // (a bureau call) fails once the month's outage limit has passed.
      await stack.admin.setFaults(OUTAGE);
      await handle.signal(approveSignal, { approver: APPROVER, statisticDigest: waiting.statistic!.digest });
      const failure = await handle.result().then(
        () => assert.fail('the month should have failed'),
        (e: unknown) => e as Error & { cause?: Error },
      );
      // The step's last answer during the outage, once its retry budget ran out.
      assert.match(String(failure.cause?.message), /Deduction for .* failed: .*\[HTTP_503\] HTTP 503/);
      assert.equal((await handle.describe()).status.name, 'FAILED');

      await stack.admin.clearFaults();
      const retried = await retryMonth(stack.client, taxNo, PERIOD, { reason: 'the cloud is back' });
      assert.equal(retried.status, 'FAILED');
      assert.notEqual(retried.newRunId, retried.runId);
      const resumed = stack.client.workflow.getHandle(deductionWorkflowId(taxNo, PERIOD), retried.newRunId);
      // The approval given before the outage stands: the month goes on to confirm without a new one.
      const result = (await resumed.result()) as MonthlyDeductionResult;
      assert.equal(result.outcome, 'COMPLETED', result.note);
      assert.equal(result.decision?.approver, APPROVER);

      const ledger = await stack.admin.ledger({ taxNo });
      const selects = ledger.filter((w) => w.interfaceCode === 'invoiceSelect');
      const sent = selects.flatMap((w) => w.invoiceNos);
      assert.equal(new Set(sent).size, sent.length, 'no invoice selected twice');
      assert.equal(result.statistic?.deductibleCount, sent.length);
      assert.equal(ledger.filter((w) => w.interfaceCode === 'statisticCreate').length, 1, 'one generation');
      assert.equal(ledger.filter((w) => w.interfaceCode === 'statisticConfirm').length, 1, 'one confirmation');
    });
  });
});
