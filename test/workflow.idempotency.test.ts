import assert from 'node:assert/strict';
import { approve, startMonthlyDeduction, statisticAwaitingApproval } from '../client/deductions.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import type { MonthlyDeductionResult } from '../workflows/contract.js';
import { crashAfterFirstAttempt } from './support/crashInjection.js';
import { addTaxpayer } from './support/taxpayers.js';
import { startStack, type TestStack } from './support/stack.js';
import { recordHistory } from './support/recordHistory.js';
import { waitForStage } from './support/workflows.js';
import { TEST_WINDOW, yyyymm } from './support/calendar.js';
import { TEST_APPROVERS } from './support/approvers.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
/** The month after the test period: the sandbox clock is in it, so the bureau may move there. */
const NEXT_PERIOD = yyyymm(Number(PERIOD.slice(0, 4)), Number(PERIOD.slice(4)) + 1);
/** Every activity that writes to the bureau. */
const WRITES = ['submitSelection', 'requestStatisticOperation', 'requestConfirmation', 'changeTaxPeriod'];

describe('Idempotent bureau writes: a crash after the bureau accepted a write', function () {
  this.timeout(120_000);
  const crashed: string[] = [];
  let stack: TestStack;

  before(async () => {
    stack = await startStack({ interceptors: { activity: [crashAfterFirstAttempt(WRITES, crashed)] } });
    await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 5, seed: 1 });
    await stack.admin.setClock(SANDBOX_NOW);
    await stack.startWorker();
  });
  after(async () => stack?.stop());

  it('never leads to a second select, generate, confirm or period change', async () => {
    const taxNo = withCheckCharacter('91440300MA5CRAHH0');
    await addTaxpayer(stack.admin, taxNo, {
      name: '崩溃恢复测试有限公司',
      invoices: 45,
      seed: 21,
    });
    const { handle } = await startMonthlyDeduction(stack.client, {
      approvers: TEST_APPROVERS,
      taxNo,
      taxPeriod: PERIOD,
      batchSize: 10,
      changePeriodTo: NEXT_PERIOD,
      polling: { initialIntervalMs: 200, maximumIntervalMs: 500 },
    });
    await waitForStage(handle, 'AWAITING_APPROVAL');
    await approve(stack.client, taxNo, PERIOD, {
      approver: '王会计',
      statisticDigest: (await statisticAwaitingApproval(stack.client, taxNo, PERIOD)).digest,
    });
    const result: MonthlyDeductionResult = await handle.result();
    assert.equal(result.outcome, 'COMPLETED');
    assert.equal(result.periodAfterChange, NEXT_PERIOD);

    // Each write crashed once after reaching the bureau, and was retried.
    for (const write of WRITES) assert.ok(crashed.includes(write), `${write} crashed once`);

    const ledger = await stack.admin.ledger({ taxNo });
    const of = (code: string) => ledger.filter((w) => w.interfaceCode === code);
    const selects = of('invoiceSelect');
    const selected = selects.flatMap((w) => w.invoiceNos);
    assert.equal(new Set(selected).size, selected.length, 'no invoice in two select writes');
    assert.equal(selects.length, Math.ceil(result.selection!.candidates / 10), 'one select write per batch');
    assert.equal(result.selection!.selected, result.selection!.candidates, 'every candidate selected once');
    assert.equal(of('statisticCreate').length, 1, 'one statistic generation');
    assert.equal(of('statisticConfirm').length, 1, 'one confirmation');
    assert.equal(of('taxperiodChange').length, 1, 'one period change');
    assert.equal(result.selection!.taskNos.length, selects.length, 'the workflow tracks the tasks the bureau accepted');
    await recordHistory(handle, 'crash-after-each-write-with-period-change');
  });
});
