import assert from 'node:assert/strict';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { approve, startMonthlyDeduction, statisticAwaitingApproval } from '../client/deductions.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import {
  type MonthlyDeductionResult,
  progressQuery,
  TASK_QUEUE,
  WORKFLOW_TYPE,
  deductionWorkflowId,
} from '../workflows/contract.js';
import { SANDBOX_NOW, shanghaiDate, TEST_PERIOD, testToday, yyyymm } from './support/calendar.js';
import { startStack, type TestStack } from './support/stack.js';
import { addTaxpayer } from './support/taxpayers.js';
import { searchAttributes, waitForStage } from './support/workflows.js';
import { TEST_APPROVERS } from './support/approvers.js';

/**
 * Three states of the bureau the month must read correctly, on the real parts (a Temporal dev
 * server, the sandbox over loopback, a real worker): confirmation asked for before the period's
 * month has ended, a bureau period other than the requested one, and a month already confirmed.
 *
 * Every date comes from test/support/calendar.ts (the period is the month containing the test's
 * day); the expectations below are written out by hand from the bureau's rules, not computed by
 * the product's code.
 */
const PERIOD = TEST_PERIOD;
const YEAR = Number(PERIOD.slice(0, 4));
const MONTH = Number(PERIOD.slice(4));
/** YYYY-MM of a period (YYYYMM). */
const dashed = (period: string) => `${period.slice(0, 4)}-${period.slice(4)}`;
const PREVIOUS_PERIOD = yyyymm(YEAR, MONTH - 1);
const NEXT_PERIOD = yyyymm(YEAR, MONTH + 1);
/**
 * Inside the period's own month: the statistic says it cannot be confirmed yet (04, isAllowQrtj
 * false), so the confirmation waits without being sent (a sent one would answer 3002 未到统计确认时间).
 */
const MID_PERIOD = `${dashed(PERIOD)}-20T10:00:00+08:00`;
/** The first instant of the following month (Beijing): the period's month has just ended. */
const MONTH_ENDED = `${dashed(NEXT_PERIOD)}-01T00:00:00+08:00`;

const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500 };
/** Bureau operations that change the taxpayer's selection, statistic or period. */
const WRITES = [
  'invoiceSelect',
  'preSelect',
  'preSelectConfirm',
  'statisticCreate',
  'statisticConfirm',
  'taxperiodChange',
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PendingActivity {
  activityType?: { name?: string | null } | null;
  attempt?: number | null;
  lastFailure?: { message?: string | null; applicationFailureInfo?: { type?: string | null } | null } | null;
}

/** Waits until the pending `activityType` activity is at attempt `attempt` or later, with a last failure. */
async function waitForRetriedActivity(
  handle: WorkflowHandle,
  activityType: string,
  attempt: number,
  timeoutMs: number,
): Promise<PendingActivity> {
  const deadline = Date.now() + timeoutMs;
  let last: PendingActivity | undefined;
  while (Date.now() < deadline) {
    const raw = (await handle.describe()).raw as { pendingActivities?: PendingActivity[] | null };
    last = raw.pendingActivities?.find((a) => a.activityType?.name === activityType);
    if (last && (last.attempt ?? 0) >= attempt && last.lastFailure) return last;
    await sleep(250);
  }
  throw new Error(`${activityType} did not reach attempt ${attempt} in ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

describe('MonthlyDeductionWorkflow against the bureau states (dev server, sandbox, worker)', function () {
  this.timeout(180_000);
  let stack: TestStack;
  let serial = 0;

  before(async () => {
    stack = await startStack();
    await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 5, seed: 1 });
    await stack.startWorker();
  });
  after(async () => stack?.stop());

  /** A taxNo no other test of this file uses. */
  function nextTaxNo(): string {
    serial += 1;
    return withCheckCharacter(`91440300MA5BQT${String(serial).padStart(3, '0')}`);
  }

  it('retries a confirmation asked for before the month ended, and confirms once it has', async function () {
    this.timeout(90_000);
    const began = Date.now();
    await stack.admin.setClock(MID_PERIOD);
    const taxNo = nextTaxNo();
    await addTaxpayer(stack.admin, taxNo, { name: '月中确认测试有限公司', invoices: 12, seed: 21 });

    const { handle } = await startMonthlyDeduction(stack.client, {
      approvers: TEST_APPROVERS,
      taxNo,
      taxPeriod: PERIOD,
      polling: FAST_POLLING,
    });
    const waiting = await waitForStage(handle, 'AWAITING_APPROVAL');
    // Generated inside the period's own month: in the filing window, but not confirmable yet (04).
    assert.equal(waiting.statistic?.statisticStatus, '04');
    assert.ok((waiting.selection?.selected ?? 0) > 0, 'some invoices were selected');

    await approve(stack.client, taxNo, PERIOD, {
      approver: '王会计',
      statisticDigest: (await statisticAwaitingApproval(stack.client, taxNo, PERIOD)).digest,
    });
    await waitForStage(handle, 'CONFIRMING');
    // Two refusals at least (attempts 1 and 2 failed, attempt 3 is scheduled): retried, not failed.
    const pending = await waitForRetriedActivity(handle, 'requestConfirmation', 3, 30_000);
    assert.match(
      pending.lastFailure?.message ?? '',
      /does not allow confirming now \(createTjbbStatus 04, isAllowQrtj false\)/,
    );
    assert.equal(pending.lastFailure?.applicationFailureInfo?.type, 'InvoiceCloudUnavailable', 'a retryable failure');
    assert.equal((await handle.describe()).status.name, 'RUNNING');
    assert.equal((await handle.query(progressQuery)).stage, 'CONFIRMING');
    assert.deepEqual(await stack.admin.ledger({ taxNo, interfaceCode: 'statisticConfirm' }), [], 'nothing accepted');
    const refused = await stack.admin.getTaxpayer(taxNo);
    assert.equal(refused.statisticStatus, '02', 'the statistic is still only generated (02 in the store)');
    assert.deepEqual(refused.confirmedPeriods, []);

    // The period's month ends at the bureau: the next retry is accepted.
    await stack.admin.setClock(MONTH_ENDED);
    const moved = Date.now();
    const result: MonthlyDeductionResult = await handle.result();
    assert.equal(result.outcome, 'COMPLETED');
    assert.equal(result.decision?.approver, '王会计');
    assert.equal(result.statistic?.statisticStatus, '05');
    assert.ok(
      result.confirmedAt?.startsWith(`${dashed(NEXT_PERIOD)}-01 00:0`),
      `confirmed on the 1st of ${NEXT_PERIOD} at 00:0x, not ${result.confirmedAt}`,
    );
    const confirmations = await stack.admin.ledger({ taxNo, interfaceCode: 'statisticConfirm' });
    assert.equal(confirmations.length, 1, 'exactly one confirmation accepted');
    assert.match(confirmations[0]!.outcome, /^ok status=05/);
    assert.ok(Date.parse(confirmations[0]!.time) >= Date.parse(MONTH_ENDED), 'accepted after the month ended');
    assert.deepEqual((await stack.admin.getTaxpayer(taxNo)).confirmedPeriods, [PERIOD]);
    assert.ok(Date.now() - moved < 60_000, `confirmed ${Date.now() - moved} ms after the month ended`);
    assert.ok(Date.now() - began < 90_000);
  });

  for (const [which, bureauPeriod] of [
    ['before', PREVIOUS_PERIOD],
    ['after', NEXT_PERIOD],
  ] as const) {
    it(`fails, writing nothing, when the bureau's period is the month ${which} the requested one`, async function () {
      this.timeout(60_000);
      await stack.admin.setClock(SANDBOX_NOW);
      const taxNo = nextTaxNo();
      await stack.admin.upsertTaxpayer({
        taxNo,
        name: `所属期不符测试${serial}有限公司`,
        softCertificate: true,
        periodChangeSupported: true,
        taxPeriod: bureauPeriod,
        confirmPassword: '1234567',
      });
      // Candidates for the requested period exist: a month that did not stop would select them.
      await stack.admin.generateInvoices(taxNo, { count: 12, seed: 31, period: PERIOD });

      const { handle } = await startMonthlyDeduction(stack.client, {
        approvers: TEST_APPROVERS,
        taxNo,
        taxPeriod: PERIOD,
        polling: FAST_POLLING,
      });
      await assert.rejects(handle.result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        const message = String(error.cause?.message);
        assert.ok(
          message.includes(`The bureau's current tax period for ${taxNo} is ${bureauPeriod}, not ${PERIOD}.`),
          message,
        );
        assert.ok(
          message.includes(`Start the month for ${bureauPeriod}, or change the bureau's period first.`),
          message,
        );
        return true;
      });
      assert.equal((await searchAttributes(handle)).DeductionStage, 'FAILED');

      const ledger = await stack.admin.ledger({ taxNo });
      assert.deepEqual(
        ledger.filter((e) => WRITES.includes(e.interfaceCode)),
        [],
        'no selection, statistic, confirmation or period change',
      );
      const after = await stack.admin.getTaxpayer(taxNo);
      assert.equal(after.taxPeriod, bureauPeriod, "the bureau's period is left as it was");
      assert.equal(after.selectedCount, 0);
      assert.equal(after.statisticStatus, '01');
    });
  }

  it('completes with "already confirmed" and writes nothing for a month confirmed before it starts', async function () {
    this.timeout(60_000);
    await stack.admin.setClock(SANDBOX_NOW);
    const taxNo = nextTaxNo();
    await addTaxpayer(stack.admin, taxNo, { name: '重复确认测试有限公司', invoices: 12, seed: 41 });

    // The month runs to COMPLETED once: the bureau has the period confirmed.
    const first = await startMonthlyDeduction(stack.client, {
      approvers: TEST_APPROVERS,
      taxNo,
      taxPeriod: PERIOD,
      polling: FAST_POLLING,
    });
    await waitForStage(first.handle, 'AWAITING_APPROVAL');
    await approve(stack.client, taxNo, PERIOD, {
      approver: '李经理',
      statisticDigest: (await statisticAwaitingApproval(stack.client, taxNo, PERIOD)).digest,
    });
    const firstResult: MonthlyDeductionResult = await first.handle.result();
    assert.equal(firstResult.outcome, 'COMPLETED');
    const confirmed = await stack.admin.getTaxpayer(taxNo);
    assert.equal(confirmed.statisticStatus, '05');
    assert.deepEqual(confirmed.confirmedPeriods, [PERIOD]);
    const before = await stack.admin.ledger({ taxNo });
    assert.equal(before.filter((e) => e.interfaceCode === 'statisticConfirm').length, 1);

    // The same taxpayer-month, started again under another workflow id.
    const again = await stack.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: TASK_QUEUE,
      workflowId: `${deductionWorkflowId(taxNo, PERIOD)}-again`,
      args: [{ taxNo, taxPeriod: PERIOD, polling: FAST_POLLING, approvers: TEST_APPROVERS }],
    });
    const result: MonthlyDeductionResult = await again.result();
    assert.equal(result.outcome, 'COMPLETED');
    assert.equal(result.note, `The statistic for ${PERIOD} was already confirmed; nothing was done again.`);
    assert.equal(result.statistic?.statisticStatus, '05');
    assert.equal(result.selection, undefined, 'nothing was selected');
    assert.equal(result.decision, undefined, 'no approval was asked for');

    const seen = new Set(before.map((e) => e.id));
    const added = (await stack.admin.ledger({ taxNo })).filter((e) => !seen.has(e.id));
    assert.deepEqual(
      added.filter((e) => WRITES.includes(e.interfaceCode)),
      [],
      'no write after the second start',
    );
    assert.deepEqual(
      added.map((e) => e.interfaceCode),
      added.map(() => 'taxLogin'),
      'only a bureau login',
    );
    const after = await stack.admin.getTaxpayer(taxNo);
    assert.equal(after.statisticStatus, '05');
    assert.equal(after.selectedCount, confirmed.selectedCount);
  });

  it('derives its dates from the test day', () => {
    // Guards the hand-written dates above: the period is the month of the test's day.
    const { year, month } = shanghaiDate(testToday());
    assert.equal(PERIOD, yyyymm(year, month));
    assert.ok(Date.parse(MID_PERIOD) < Date.parse(MONTH_ENDED));
    assert.ok(Date.parse(MONTH_ENDED) <= Date.parse(SANDBOX_NOW));
  });
});
