import assert from 'node:assert/strict';
import { InvoiceCloudClient } from '../activities/invoiceCloudClient.js';
import { approve, startMonthlyDeduction } from '../client/deductions.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import { approveSignal, type MonthlyDeductionResult, progressQuery } from '../workflows/contract.js';
import { addTaxpayer } from './support/taxpayers.js';
import { startStack, type TestStack } from './support/stack.js';
import { recordHistory } from './support/recordHistory.js';
import { waitForStage } from './support/workflows.js';
import { TEST_WINDOW } from './support/calendar.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Approvals: who may approve, and what they approve', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let serial = 0;

  before(async () => {
    stack = await startStack();
    await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 5, seed: 1 });
    await stack.admin.setClock(SANDBOX_NOW);
    await stack.startWorker();
  });
  after(async () => stack?.stop());

  /** A fresh taxpayer with a small pool, started and brought to AWAITING_APPROVAL. */
  async function taxpayerAwaitingApproval(extra: Record<string, unknown> = {}) {
    const taxNo = withCheckCharacter(`91440300MA5APPR${String(serial++).padStart(2, '0')}`);
    await addTaxpayer(stack.admin, taxNo, {
      name: `审批测试${serial}有限公司`,
      invoices: 12,
      seed: serial,
    });
    const { handle } = await startMonthlyDeduction(stack.client, {
      taxNo,
      taxPeriod: PERIOD,
      polling: FAST_POLLING,
      ...extra,
    });
    await waitForStage(handle, 'AWAITING_APPROVAL');
    return { taxNo, handle };
  }

  it('refuses and records an approval from someone who is not an approver of the taxpayer', async () => {
    const { taxNo, handle } = await taxpayerAwaitingApproval({ approvers: ['王会计', '李经理'] });
    await handle.signal(approveSignal, { approver: '外部人员' });
    await sleep(500);
    const progress = await handle.query(progressQuery);
    assert.equal(progress.stage, 'AWAITING_APPROVAL', 'still waiting');
    assert.equal(progress.refusedSignals?.length, 1);
    assert.match(progress.refusedSignals![0]!.reason, /外部人员 is not an approver/);
    assert.equal(progress.refusedSignals![0]!.approver, '外部人员');

    await approve(stack.client, taxNo, PERIOD, { approver: '李经理' });
    const result: MonthlyDeductionResult = await handle.result();
    assert.equal(result.outcome, 'COMPLETED');
    assert.equal(result.decision?.approver, '李经理');
    assert.equal(result.refusedSignals?.length, 1, 'the refusal stays in the audit trail');
    assert.equal((await stack.admin.ledger({ taxNo, interfaceCode: 'statisticConfirm' })).length, 1);
    await recordHistory(handle, 'approval-refused-then-approved');
  });

  it('refuses an approval that names a different statistic than the one awaiting approval', async () => {
    const { handle } = await taxpayerAwaitingApproval();
    const shown = (await handle.query(progressQuery)).statistic!.digest;
    const other = shown === '00000000' ? '00000001' : '00000000';
    await handle.signal(approveSignal, { approver: '王会计', statisticDigest: other });
    await sleep(500);
    const progress = await handle.query(progressQuery);
    assert.equal(progress.stage, 'AWAITING_APPROVAL');
    assert.match(progress.refusedSignals?.[0]?.reason ?? '', new RegExp(`approves statistic ${other}`));
    await handle.terminate('test done');
  });

  it('voids an approval when the bureau changed the statistic after it was presented', async () => {
    const { taxNo, handle } = await taxpayerAwaitingApproval();
    const before = (await handle.query(progressQuery)).statistic!;

    // Someone else revokes and regenerates the table at the bureau (a new update time).
    const other = new InvoiceCloudClient(stack.invoiceCloud);
    await sleep(1100);
    for (const operateType of ['2', '1'] as const) {
      const { taskNo } = await other.call('statisticCreate', { taxNo, operateType, asyncFlag: '1' });
      for (let i = 0; i < 50; i++) {
        const done = await other.call('statisticCreateQuery', { taxNo, taskNo }).catch(() => undefined);
        if (done) break;
        await sleep(100);
      }
    }

    // The approver approves the table they saw; the workflow checks the bureau before confirming.
    await approve(stack.client, taxNo, PERIOD, { approver: '王会计', statisticDigest: before.digest });
    for (let i = 0; i < 50; i++) {
      if ((await handle.query(progressQuery)).refusedSignals?.length) break;
      await sleep(100);
    }
    const progress = await handle.query(progressQuery);
    assert.equal(progress.stage, 'AWAITING_APPROVAL', 'the stale approval did not confirm anything');
    assert.match(progress.refusedSignals?.[0]?.reason ?? '', /statistic changed/);
    assert.notEqual(progress.statistic!.digest, before.digest, 'the new table is presented');
    assert.equal((await stack.admin.ledger({ taxNo, interfaceCode: 'statisticConfirm' })).length, 0);

    await approve(stack.client, taxNo, PERIOD, { approver: '王会计' });
    const result: MonthlyDeductionResult = await handle.result();
    assert.equal(result.outcome, 'COMPLETED');
    await recordHistory(handle, 'stale-approval-voided');
  });
});
