import assert from 'node:assert/strict';
import { approve, reject, startMonthlyDeduction } from '../client/deductions.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import type { LedgerRecord } from '../simulator/adminClient.js';
import type { MonthlyDeductionResult } from '../workflows/contract.js';
import { TEST_WINDOW, yyyymm } from './support/calendar.js';
import { addTaxpayer } from './support/taxpayers.js';
import { startStack, type TestStack } from './support/stack.js';
import { waitForStage } from './support/workflows.js';
import { TEST_APPROVERS } from './support/approvers.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const NEXT_PERIOD = yyyymm(Number(PERIOD.slice(0, 4)), Number(PERIOD.slice(4)) + 1);
const INVOICES = 30;
const BATCH = 5;

/**
 * One reply lost after the bureau applied the write, for each write of the month, with the
 * sandbox's requestId de-duplication off (as on a real tenant: nothing documents one). The retry
 * reads the bureau before it sends, so the ledger holds each write once.
 */
describe('A reply lost after the bureau applied a write (requestId de-duplication off)', function () {
  this.timeout(180_000);
  let stack: TestStack;
  let taxpayers = 0;

  before(async () => {
    stack = await startStack();
    await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 1, seed: 1 });
    await stack.admin.setClock(SANDBOX_NOW);
    await stack.admin.setRequestIdDedup(false);
    await stack.admin.setTaskLatency({ kind: 'select', distribution: { type: 'fixed', ms: 1500 } });
    await stack.startWorker();
  });
  afterEach(async () => stack?.admin.clearFaults());
  after(async () => stack?.stop());

  /** Loses the reply of the next request to `interfaceCode` after the sandbox processed it. */
  async function loseNextReply(interfaceCode: string): Promise<void> {
    await stack.admin.setFaults({ http5xxRate: 1, injectAt: 'after', interfaces: [interfaceCode], maxInjected: 1 });
  }

  async function runMonth(opts: {
    loseBefore?: string;
    loseAtApproval?: string;
    decision?: 'approve' | 'reject';
    changePeriod?: boolean;
  }): Promise<{ result: MonthlyDeductionResult; ledger: LedgerRecord[]; taxNo: string }> {
    const taxNo = withCheckCharacter(`91440300MA5D7${String(++taxpayers).padStart(4, '0')}`);
    await addTaxpayer(stack.admin, taxNo, { invoices: INVOICES, seed: 40 + taxpayers });
    const lostBefore = (await stack.admin.faultsServed()).writesLostAfterProcessing;
    if (opts.loseBefore) await loseNextReply(opts.loseBefore);
    const { handle } = await startMonthlyDeduction(stack.client, {
      approvers: TEST_APPROVERS,
      taxNo,
      taxPeriod: PERIOD,
      batchSize: BATCH,
      ...(opts.changePeriod ? { changePeriodTo: NEXT_PERIOD } : {}),
      polling: { initialIntervalMs: 200, maximumIntervalMs: 500 },
    });
    const waiting = await waitForStage(handle, 'AWAITING_APPROVAL', 120_000);
    if (opts.loseAtApproval) await loseNextReply(opts.loseAtApproval);
    if (opts.decision === 'reject') await reject(stack.client, taxNo, PERIOD, { approver: '王会计', reason: '退回' });
    else {
      await approve(stack.client, taxNo, PERIOD, { approver: '王会计', statisticDigest: waiting.statistic!.digest });
    }
    const result = await handle.result();
    const lost = (await stack.admin.faultsServed()).writesLostAfterProcessing - lostBefore;
    assert.equal(lost, 1, 'one write reply was really lost after the bureau applied it');
    return { result, ledger: await stack.admin.ledger({ taxNo, includeRefused: 'true' }), taxNo };
  }

  const writes = (ledger: LedgerRecord[], code: string, operateType?: string) =>
    ledger.filter((w) => w.interfaceCode === code && (operateType === undefined || w.operateType === operateType));

  it('select: the batch is not sent again; every invoice is in one select write', async () => {
    const { result, ledger } = await runMonth({ loseBefore: 'invoiceSelect' });
    assert.equal(result.outcome, 'COMPLETED');
    const selects = writes(ledger, 'invoiceSelect');
    const sent = selects.flatMap((w) => w.invoiceNos);
    const tally = result.selection!;
    const found = tally.alreadySelectedInSource?.count ?? 0;
    assert.ok(sent.length > BATCH, `more than one batch (${sent.length} invoices)`);
    assert.equal(new Set(sent).size, sent.length, 'no invoice in two select writes');
    assert.equal(selects.length, Math.ceil(sent.length / BATCH), 'one write per batch');
    assert.equal(found, BATCH, 'the batch whose reply was lost is found selected, not sent again');
    assert.equal(tally.selected + tally.alreadySelected + found, sent.length, 'the month counts every invoice');
    assert.equal(result.statistic?.deductibleCount, sent.length);
    assert.equal(result.plannedVersusBureau?.agrees, true);
  });

  it('generate: no second statisticCreate, none while generating', async () => {
    const { result, ledger } = await runMonth({ loseBefore: 'statisticCreate' });
    assert.equal(result.outcome, 'COMPLETED');
    const generates = writes(ledger, 'statisticCreate', '1');
    assert.equal(generates.length, 1);
    assert.equal(writes(ledger, 'statisticConfirm').length, 1);
  });

  it('revoke (a rejection): the table is revoked once', async () => {
    const { result, ledger } = await runMonth({ loseAtApproval: 'statisticCreate', decision: 'reject' });
    assert.equal(result.outcome, 'REJECTED');
    assert.equal(writes(ledger, 'statisticCreate', '2').length, 1, 'one revoke');
    assert.equal(writes(ledger, 'statisticCreate', '1').length, 1, 'one generation');
    assert.equal(result.statistic?.statisticStatus, '01');
    assert.equal(writes(ledger, 'statisticConfirm').length, 0);
  });

  it('confirm: the table is confirmed by one statisticConfirm', async () => {
    const { result, ledger } = await runMonth({ loseAtApproval: 'statisticConfirm' });
    assert.equal(result.outcome, 'COMPLETED');
    assert.equal(writes(ledger, 'statisticConfirm').length, 1);
    assert.equal(result.statistic?.statisticStatus, '05');
  });

  it('period change: the bureau is moved once', async () => {
    const { result, ledger } = await runMonth({ loseAtApproval: 'taxperiodChange', changePeriod: true });
    assert.equal(result.outcome, 'COMPLETED');
    assert.equal(result.periodAfterChange, NEXT_PERIOD);
    assert.equal(writes(ledger, 'taxperiodChange').length, 1);
  });
});
