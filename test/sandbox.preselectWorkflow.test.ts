import assert from 'node:assert/strict';
import { approve, startMonthlyDeduction, statisticAwaitingApproval } from '../client/deductions.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import type { MonthlyDeductionResult } from '../workflows/contract.js';
import { addTaxpayer } from './support/taxpayers.js';
import { startStack, type TestStack } from './support/stack.js';
import { waitForStage } from './support/workflows.js';
import { TEST_WINDOW } from './support/calendar.js';
import { TEST_APPROVERS } from './support/approvers.js';

/**
 * selectionMode 'preselect' (预勾选 → 预勾选确认 → 预勾选确认结果查询) end to end on a real Temporal
 * dev server and the sandbox, with replies of the pre-selection writes lost after the sandbox
 * applied them: the month still selects every invoice once and confirms once.
 */
const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500, backoffCoefficient: 1.5 };

describe('MonthlyDeductionWorkflow with selectionMode preselect (dev server + sandbox)', function () {
  this.timeout(180_000);
  let stack: TestStack;

  before(async () => {
    stack = await startStack();
    await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 0 });
    await stack.admin.setClock(SANDBOX_NOW);
    await stack.startWorker();
  });
  after(async () => stack?.stop());

  it('pre-selects, confirms the pre-selection, and completes after approval; lost replies change nothing', async () => {
    const taxNo = withCheckCharacter('91440300MA5PREXEL');
    await addTaxpayer(stack.admin, taxNo, {
      name: '预勾选测试有限公司',
      invoices: 30,
      seed: 11,
    });
    await stack.admin.setFaults({
      http5xxRate: 0.3,
      injectAt: 'after',
      interfaces: ['preSelectConfirm'],
      seed: 3,
    });

    const { handle } = await startMonthlyDeduction(stack.client, {
      approvers: TEST_APPROVERS,
      taxNo,
      taxPeriod: PERIOD,
      polling: FAST_POLLING,
      selectionMode: 'preselect',
      batchSize: 15,
    });
    const waiting = await waitForStage(handle, 'AWAITING_APPROVAL', 120_000);
    await stack.admin.clearFaults();
    assert.ok(waiting.selection && waiting.selection.selected > 0, 'invoices were selected through pre-selection');
    assert.equal(waiting.statistic?.statisticStatus, '02');
    // A batch whose confirmation reply was lost is found selected when the retry reads the pool.
    const found = waiting.selection.alreadySelectedInSource?.count ?? 0;
    assert.equal(
      waiting.statistic.deductibleCount,
      waiting.selection.selected + waiting.selection.alreadySelected + found,
    );
    assert.equal(waiting.plannedVersusBureau?.agrees, true);

    await approve(stack.client, taxNo, PERIOD, {
      approver: '王会计',
      statisticDigest: (await statisticAwaitingApproval(stack.client, taxNo, PERIOD)).digest,
    });
    const result: MonthlyDeductionResult = await handle.result();
    assert.equal(result.outcome, 'COMPLETED');
    assert.equal(result.statistic?.statisticStatus, '05');

    const history = await handle.fetchHistory();
    const attempts = (history.events ?? []).map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0);
    assert.ok(Math.max(...attempts) > 1, 'a lost reply made Temporal retry the pre-selection activity');

    const ledger = await stack.admin.ledger({ taxNo });
    const used = new Set(ledger.map((e) => e.interfaceCode));
    assert.ok(used.has('preSelect') && used.has('preSelectConfirm'), [...used].join(','));
    assert.ok(!used.has('invoiceSelect'), 'the pre-selection path does not call invoiceSelect');
    const confirms = ledger.filter((e) => e.interfaceCode === 'preSelectConfirm');
    assert.equal(confirms.length, 2, 'two batches, each confirmed once although replies were lost');
    assert.equal(new Set(confirms.map((e) => e.requestId)).size, confirms.length, 'each confirmation applied once');
    const invariants = await stack.admin.invariants();
    assert.deepEqual(invariants.invoicesSelectedTwice, []);
    assert.deepEqual(invariants.periodsConfirmedTwice, []);
    assert.deepEqual(
      invariants.confirmationsPerTaxpayerPeriod.filter((c) => c.taxNo === taxNo).map((c) => c.confirmations),
      [1],
    );
  });
});
