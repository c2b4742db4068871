import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { approve, reject, startMonthlyDeduction, statisticAwaitingApproval } from '../client/deductions.js';
import type { MonthlyDeductionResult } from '../workflows/contract.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import { addTaxpayer } from './support/taxpayers.js';
import { startStack, type TestStack } from './support/stack.js';
import { recordHistory } from './support/recordHistory.js';
import { historyLength, searchAttributes, waitForStage } from './support/workflows.js';
import { TEST_WINDOW } from './support/calendar.js';
import { TEST_APPROVERS } from './support/approvers.js';

// The sandbox clock sits inside the filing window of the test period (derived from today, see
// test/support/calendar.ts): confirmation is open (the month has ended) and selection is open
// until the period's deadline.
const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500, backoffCoefficient: 1.5 };

describe('MonthlyDeductionWorkflow on a real Temporal dev server and the sandbox', function () {
  this.timeout(180_000);
  let stack: TestStack;

  before(async () => {
    stack = await startStack();
    await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 40, seed: 7 });
    await stack.admin.setClock(SANDBOX_NOW);
    await stack.startWorker();
  });
  after(async () => stack?.stop());

  async function start(taxNo: string, extra: Record<string, unknown> = {}) {
    const started = await startMonthlyDeduction(stack.client, {
      approvers: TEST_APPROVERS,
      taxNo,
      taxPeriod: PERIOD,
      polling: FAST_POLLING,
      ...extra,
    });
    return started.handle;
  }

  it('runs the month to COMPLETED after an approval', async () => {
    const taxNo = '91440300591872133B';
    const handle = await start(taxNo);
    const waiting = await waitForStage(handle, 'AWAITING_APPROVAL');
    assert.ok(waiting.selection && waiting.selection.selected > 0, 'some invoices were selected');
    assert.equal(waiting.statistic?.statisticStatus, '02');
    assert.ok(waiting.statistic.deductibleCount >= waiting.selection.selected);
    assert.match(waiting.statistic.deductibleTax, /^\d+\.\d{2}$/);
    assert.equal((await searchAttributes(handle)).DeductionStage, 'AWAITING_APPROVAL');

    await approve(stack.client, taxNo, PERIOD, {
      approver: '王会计',
      comment: '核对无误',
      statisticDigest: (await statisticAwaitingApproval(stack.client, taxNo, PERIOD)).digest,
    });
    const result: MonthlyDeductionResult = await handle.result();
    assert.equal(result.outcome, 'COMPLETED');
    assert.equal(result.decision?.approver, '王会计');
    assert.equal(result.decision?.comment, '核对无误');
    assert.ok(result.confirmedAt, 'the bureau reported a confirmation time');
    assert.equal(result.statistic?.statisticStatus, '05');
    // The bureau's table counted what the month selected, in total and per category.
    assert.equal(result.plannedVersusBureau?.agrees, true);
    assert.equal(result.plannedVersusBureau.planned.count, result.statistic.deductibleCount);
    assert.ok(result.plannedVersusBureau.categories?.length, 'compared per statistic category');
    for (const c of result.plannedVersusBureau.categories) assert.deepEqual(c.planned, c.bureau, c.category);
    const attributes = await searchAttributes(handle);
    assert.deepEqual([attributes.TaxNo, attributes.TaxPeriod, attributes.DeductionStage], [taxNo, PERIOD, 'COMPLETED']);
    const state = await stack.admin.getTaxpayer(taxNo);
    assert.equal(state.statisticStatus, '05');
    await recordHistory(handle, 'completed-after-approval');
  });

  it('revokes the statistic and ends REJECTED when the approver rejects', async () => {
    const taxNo = '91440300MA5G9GK78Y';
    const handle = await start(taxNo);
    const waiting = await waitForStage(handle, 'AWAITING_APPROVAL');
    assert.ok((waiting.selection?.selected ?? 0) > 0);
    await reject(stack.client, taxNo, PERIOD, { approver: '李经理', reason: '金额与台账不符' });
    const result: MonthlyDeductionResult = await handle.result();
    assert.equal(result.outcome, 'REJECTED');
    assert.equal(result.decision?.decision, 'rejected');
    assert.equal(result.statistic?.statisticStatus, '01', 'statistic revoked');
    assert.equal((await stack.admin.getTaxpayer(taxNo)).statisticStatus, '01');
    assert.equal((await searchAttributes(handle)).DeductionStage, 'REJECTED');
    await recordHistory(handle, 'rejected');
  });

  it('completes with nothing to deduct when the pool has no candidates', async () => {
    const taxNo = withCheckCharacter('91440300MA5G9GK7X');
    await addTaxpayer(stack.admin, taxNo, { name: '空票池测试有限公司' });
    const handle = await start(taxNo);
    const result: MonthlyDeductionResult = await handle.result();
    assert.equal(result.outcome, 'COMPLETED');
    assert.match(result.note, /Nothing to deduct/);
    assert.equal(result.selection?.candidates, 0);
    const writes = await stack.admin.ledger({ taxNo });
    assert.equal(writes.filter((w) => w.interfaceCode === 'statisticCreate').length, 0, 'no statistic generated');
    await recordHistory(handle, 'nothing-to-deduct');
  });

  it('fails fast with the bureau message for a taxNo outside the tenant', async () => {
    const started = Date.now();
    const handle = await start('914403007451947782');
    await assert.rejects(handle.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      assert.match(String(error.cause?.message), /税号:914403007451947782,不在租户:5368720388 范围内/);
      return true;
    });
    assert.ok(Date.now() - started < 20_000, 'failed without retrying');
    assert.equal((await searchAttributes(handle)).DeductionStage, 'FAILED');
    await recordHistory(handle, 'failed-taxno-not-in-tenant');
  });

  it('waits out a bureau task that answers 6910 without growing its history', async () => {
    // Two identical taxpayers: one with instant bureau tasks, one whose tasks take 6 s.
    const fast = withCheckCharacter('91440300MA5G9GK7F');
    const slow = withCheckCharacter('91440300MA5G9GK7T');
    for (const taxNo of [fast, slow]) {
      await addTaxpayer(stack.admin, taxNo, {
        name: `同构测试${taxNo.slice(-4)}`,
        invoices: 30,
        seed: 11,
      });
    }
    await stack.admin.setTaskDelays({ selectMs: 0, statisticMs: 0, confirmMs: 0 });
    const fastHandle = await start(fast);
    await waitForStage(fastHandle, 'AWAITING_APPROVAL');
    const fastEvents = await historyLength(stack.client, fastHandle.workflowId);

    await stack.admin.setTaskDelays({ selectMs: 6000, statisticMs: 3000, confirmMs: 0 });
    const began = Date.now();
    const slowHandle = await start(slow);
    await waitForStage(slowHandle, 'AWAITING_APPROVAL', 90_000);
    assert.ok(Date.now() - began >= 9000, 'the workflow really waited for the bureau');
    const slowEvents = await historyLength(stack.client, slowHandle.workflowId);
    assert.equal(
      slowEvents,
      fastEvents,
      `history of a 9 s wait (${slowEvents}) equals that of no wait (${fastEvents})`,
    );
    await stack.admin.setTaskDelays({ selectMs: 0, statisticMs: 0, confirmMs: 0 });
    await fastHandle.terminate('test done');
    await slowHandle.terminate('test done');
  });

  it('started again while its table is generated, keeps the selection as it is and reaches approval', async () => {
    const taxNo = withCheckCharacter('91440300MA5CRAG00');
    await addTaxpayer(stack.admin, taxNo, { invoices: 10, seed: 41 });
    const first = await start(taxNo);
    const waiting = await waitForStage(first, 'AWAITING_APPROVAL');
    await first.terminate('an operator starts the month again');
    const selectsBefore = (await stack.admin.ledger({ taxNo, interfaceCode: 'invoiceSelect' })).length;

    const { WORKFLOW_TYPE, TASK_QUEUE } = await import('../workflows/contract.js');
    const again = await stack.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: TASK_QUEUE,
      workflowId: `deduction-${taxNo}-${PERIOD}-again`,
      args: [{ taxNo, taxPeriod: PERIOD, polling: FAST_POLLING, approvers: TEST_APPROVERS }],
    });
    const second = await waitForStage(again, 'AWAITING_APPROVAL');
    assert.equal(second.plannedVersusBureau?.agrees, true, JSON.stringify(second.plannedVersusBureau));
    assert.equal(second.plannedVersusBureau.planned.count, waiting.statistic!.deductibleCount);
    assert.equal(second.statistic?.digest, waiting.statistic!.digest, 'the same table, not revoked');
    const selectsAfter = (await stack.admin.ledger({ taxNo, interfaceCode: 'invoiceSelect' })).length;
    assert.equal(selectsAfter, selectsBefore, 'nothing selected again under the locked table');
    await again.terminate('test done');
  });

  it('survives a restart of the worker while it polls the bureau', async () => {
    const taxNo = withCheckCharacter('91440300MA5G9GK7R');
    await addTaxpayer(stack.admin, taxNo, {
      name: '重启测试有限公司',
      invoices: 20,
      seed: 5,
    });
    await stack.admin.setTaskDelays({ selectMs: 5000, statisticMs: 0, confirmMs: 0 });
    try {
      // Only the worker started here runs; the suite's worker is stopped first.
      for (const w of stack.runningWorkers()) await w.stop();
      const first = await stack.startWorker();
      const handle = await start(taxNo);
      await waitForStage(handle, 'SELECTING');
      await waitForPendingActivity(handle, 'awaitSelectionResult');
      await first.stop();
      const second = await stack.startWorker();
      await waitForStage(handle, 'AWAITING_APPROVAL', 90_000);
      await approve(stack.client, taxNo, PERIOD, {
        approver: '张审批',
        statisticDigest: (await statisticAwaitingApproval(stack.client, taxNo, PERIOD)).digest,
      });
      const result: MonthlyDeductionResult = await handle.result();
      assert.equal(result.outcome, 'COMPLETED');
      assert.ok((result.selection?.selected ?? 0) > 0);
      await recordHistory(handle, 'completed-after-worker-restart');
      void second;
    } finally {
      await stack.admin.setTaskDelays({ selectMs: 0, statisticMs: 0, confirmMs: 0 });
    }
  });
});

async function waitForPendingActivity(handle: { describe(): Promise<{ raw: unknown }> }, activityType: string) {
  for (let i = 0; i < 100; i++) {
    const raw = (await handle.describe()).raw as { pendingActivities?: { activityType?: { name?: string } }[] };
    if (raw.pendingActivities?.some((a) => a.activityType?.name === activityType)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no pending ${activityType} activity`);
}
