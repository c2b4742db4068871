import assert from 'node:assert/strict';
import { InvoiceCloudClient } from '../activities/invoiceCloudClient.js';
import {
  accountingScaleFigures,
  runAccountingAtScale,
  scaleBillType,
  TEMPORAL_LIMITS,
  type AccountingScaleSample,
} from '../bench/accountingScale.js';
import { formatFigures } from '../bench/figures.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import { accountingInvoices } from './support/accountingPool.js';
import { TEST_PERIOD, TEST_WINDOW } from './support/calendar.js';
import { startStack, type TestStack } from './support/stack.js';

const POOL = 21_000;
const MAX_PER_RUN = 20_000;
const SKIPPED = Math.floor(POOL / 30); // every 30th invoice is 差旅报销-客户付费
const BOOKABLE = POOL - SKIPPED;

/**
 * The figure: 20,000 pool invoices booked in one run (the most a run may book), on a real
 * Temporal dev server and the sandbox, with the run's history inside Temporal's limits.
 */
describe('auto-accounting of 20,000 pool invoices in one run', function () {
  this.timeout(900_000);
  let stack: TestStack;
  let sample: AccountingScaleSample;
  const taxNo = withCheckCharacter('91440300MA5K00001');

  before(async () => {
    stack = await startStack();
    await stack.admin.seedDemo({
      taxPeriod: TEST_PERIOD,
      now: TEST_WINDOW.sandboxNow,
      invoicesPerTaxpayer: 1,
      seed: 1,
    });
    await stack.admin.setClock(TEST_WINDOW.sandboxNow);
    await stack.startWorker();
    sample = await runAccountingAtScale(stack, { invoices: POOL, maxPerRun: MAX_PER_RUN, batchSize: 200, taxNo });
    const figures = accountingScaleFigures(
      { invoices: POOL, maxPerRun: MAX_PER_RUN, batchSize: 200 },
      { ...sample, warmUpPeakMiB: 0, workerPeakMiB: 0, calls: {} },
    );
    console.log(formatFigures('Auto-accounting of 20,000 invoices (test)', figures.slice(0, 6)));
  });
  after(async () => stack?.stop());

  it('books 20,000 invoices and leaves the rest for the next run', async () => {
    const r = sample.report;
    assert.equal(r.status, 'COMPLETED');
    assert.equal(r.examined, POOL);
    assert.equal(r.booked, MAX_PER_RUN);
    assert.equal(r.failed, 0);
    assert.equal(r.deferred, BOOKABLE - MAX_PER_RUN);
    assert.deepEqual(r.skippedByRule, { 'travel-client-paid': SKIPPED });
    assert.equal(r.confirmedFromPool, 0);
    // Every booking rule of the example file, in the proportions the pool was dealt.
    assert.deepEqual(Object.keys(r.bookedByRule).sort(), [
      'expense-claims',
      'procurement-and-subcontracting',
      'supplier-payments',
      'travel-not-client-paid',
    ]);

    const cloud = new InvoiceCloudClient(stack.invoiceCloud);
    const total = async (filter: Record<string, string>) =>
      (await cloud.call('invoicePoolQuery', { taxNo, pageSize: 1, ...filter })).total;
    assert.equal(await total({ accountStatus: '1' }), MAX_PER_RUN);
    assert.equal(await total({ accountStatus: '0' }), POOL - MAX_PER_RUN);
    // The deferred ones are the last bookable invoices in pool order (date, code, number).
    const unbooked = (await cloud.call('invoicePoolQuery', { taxNo, accountStatus: '0', pageSize: 1000 })).invoices;
    const inPoolOrder = accountingInvoices(POOL, scaleBillType, { prefix: '2645' }).sort(
      (a, b) => a.invoiceDate.localeCompare(b.invoiceDate) || a.invoiceNo.localeCompare(b.invoiceNo),
    );
    const lastBookable = inPoolOrder.filter((i) => i.boundBillType !== '2').slice(MAX_PER_RUN);
    assert.deepEqual(
      unbooked.filter((i) => i.boundBillType !== '2').map((i) => i.invoiceNo),
      lastBookable.map((i) => i.invoiceNo),
    );
    const sent = (await stack.admin.ledger({ taxNo, interfaceCode: 'invoiceAccount' })).flatMap((e) => e.invoiceNos);
    assert.equal(sent.length, MAX_PER_RUN, 'each invoice sent once');
    assert.equal(new Set(sent).size, MAX_PER_RUN);
  });

  it("the run's history stays far inside Temporal's limits: only counts and task numbers pass through it", () => {
    assert.ok(sample.wholePoolPlanBytes > TEMPORAL_LIMITS.payloadErrorBytes, 'the whole-pool plan would not fit');
    assert.ok(
      sample.largestPayloadBytes < TEMPORAL_LIMITS.payloadWarnBytes / 8,
      `largest payload ${sample.largestPayloadBytes} bytes`,
    );
    assert.ok(
      sample.historyBytes > 0 && sample.historyBytes < TEMPORAL_LIMITS.historyWarnBytes / 10,
      `${sample.historyBytes} bytes`,
    );
    assert.ok(sample.events < TEMPORAL_LIMITS.eventsWarn / 4, `${sample.events} events`);
  });
});
