import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { readFileSync } from 'node:fs';
import { createPoolPageBooking, type BookPageInput, type BookPageResult } from '../activities/accountingPager.js';
import { invoiceCloudConfigFromEnv } from '../activities/invoiceCloudConfig.js';
import { InvoiceCloudClient } from '../activities/invoiceCloudClient.js';
import { parseAccountingRules } from '../rules/accountingRulesSchema.js';
import type { BoundBillType } from '../protocol/codes.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import { SandboxAdmin } from '../simulator/adminClient.js';
import { startSandbox, type RunningSandbox } from '../simulator/server.js';
import { addAccountingTaxpayer, accountingInvoices } from './support/accountingPool.js';
import { TEST_PERIOD, TEST_WINDOW } from './support/calendar.js';

const rules = parseAccountingRules(
  JSON.parse(readFileSync(new URL('../config/accounting-rules.example.json', import.meta.url), 'utf8')),
);
/** Every fifth invoice skipped (差旅报销-客户付费), the others expense claims. */
const billType = (i: number): BoundBillType => (i % 5 === 4 ? '2' : '1');

/**
 * bookPoolPage against the sandbox over HTTP, in a mock activity context (its heartbeats and the
 * details of an earlier attempt are what the test looks at).
 */
describe('activities/accountingPager: one page of the unbooked pool, read and booked', function () {
  this.timeout(60_000);
  let sandbox: RunningSandbox;
  let admin: SandboxAdmin;
  let client: InvoiceCloudClient;
  let taxpayers = 0;

  before(async () => {
    sandbox = await startSandbox({ port: 0, dbFile: ':memory:' });
    admin = new SandboxAdmin(sandbox.url);
    await admin.seedDemo({ taxPeriod: TEST_PERIOD, now: TEST_WINDOW.sandboxNow, invoicesPerTaxpayer: 1, seed: 1 });
    await admin.setClock(TEST_WINDOW.sandboxNow);
    await admin.setRequestIdDedup(false);
    client = new InvoiceCloudClient(invoiceCloudConfigFromEnv({ INVOICE_CLOUD_BASE_URL: sandbox.url }));
  });
  after(async () => sandbox?.close());

  async function newPool(count: number, date?: string): Promise<string> {
    const taxNo = withCheckCharacter(`91440300MA5Q${String(++taxpayers).padStart(5, '0')}`);
    const invoices = accountingInvoices(count, billType, { prefix: '2614' });
    await addAccountingTaxpayer(admin, taxNo, date ? invoices.map((i) => ({ ...i, invoiceDate: date })) : invoices);
    return taxNo;
  }
  const input = (taxNo: string, over: Partial<BookPageInput> = {}): BookPageInput => ({
    taxNo,
    accountPeriod: TEST_PERIOD,
    rules,
    batchSize: 4,
    limit: 1000,
    pageSize: 10,
    ...over,
  });
  /** bookPoolPage in `env` (which carries the details of an earlier attempt, if any). */
  const bookPage = (env: MockActivityEnvironment, via: InvoiceCloudClient, i: BookPageInput) =>
    env.run(createPoolPageBooking(via), i) as Promise<BookPageResult>;
  const sentTo = async (taxNo: string) =>
    (await admin.ledger({ taxNo, interfaceCode: 'invoiceAccount' })).flatMap((e) => e.invoiceNos);

  it('counts pages with nothing to book and reads on in the same attempt, a heartbeat per pool query', async () => {
    const taxNo = await newPool(35);
    const env = new MockActivityEnvironment();
    let beats = 0;
    env.on('heartbeat', () => beats++);
    const result = await bookPage(env, client, input(taxNo, { limit: 0 }));
    assert.equal(result.done, true);
    assert.equal(result.examined, 35);
    assert.equal(result.deferred, 28);
    assert.deepEqual(result.skippedByRule, { 'travel-client-paid': 7 });
    assert.equal(result.poolReads, 4);
    assert.ok(beats >= 4, `${beats} heartbeats`);
    assert.deepEqual(await sentTo(taxNo), [], 'nothing booked past the run limit');
  });

  it('reads from the first page when fewer invoices were kept on the cursor date than the hint says', async () => {
    const day = `${TEST_PERIOD.slice(0, 4)}-${TEST_PERIOD.slice(4)}-09`;
    const taxNo = await newPool(12, day);
    const third = (await client.call('invoicePoolQuery', { taxNo, pageSize: 3 })).invoices[2]!;
    const result = await bookPage(
      new MockActivityEnvironment(),
      client,
      input(taxNo, { after: third, keptOnDate: 40, limit: 0 }),
    );
    assert.equal(result.examined, 9, 'the nine invoices after the cursor, none skipped');
    assert.equal(result.done, true);
  });

  it('a retried attempt sends nothing that got a taskNo, and counts an unanswered batch the pool shows booked', async () => {
    const taxNo = await newPool(20);
    // The first attempt: the third booking request is applied, its answer lost.
    let bookings = 0;
    const losingThird = {
      call: async (...args: Parameters<InvoiceCloudClient['call']>) => {
        const reply = await client.call(...args);
        if (args[0] === 'invoiceAccount' && ++bookings === 3) throw new Error('socket hang up');
        return reply;
      },
    } as unknown as InvoiceCloudClient;
    const first = new MockActivityEnvironment();
    let details: unknown;
    first.on('heartbeat', (d: unknown) => (details = d));
    // One page of 20: 16 to book in four batches of 4.
    await assert.rejects(bookPage(first, losingThird, input(taxNo, { pageSize: 20 })), /socket hang up/);
    assert.equal((await sentTo(taxNo)).length, 12);

    const retry = new MockActivityEnvironment({ heartbeatDetails: details });
    const result = await bookPage(retry, client, input(taxNo, { pageSize: 20 }));
    assert.deepEqual(result.confirmedByRule, { 'expense-claims': 4 });
    assert.deepEqual(
      result.tasks.map((t) => t.lines),
      [4, 4, 4],
      'the two answered batches of the first attempt, then the fourth',
    );
    assert.equal(result.examined, 20);
    assert.equal(result.done, true);
    const sent = await sentTo(taxNo);
    assert.equal(sent.length, 16, 'nothing sent twice');
    assert.equal(new Set(sent).size, 16);
  });

  it('fails, naming the invoices, when the pool query answers out of (date, code, number) order', async () => {
    const taxNo = await newPool(6);
    const reversing = {
      call: async (...args: Parameters<InvoiceCloudClient['call']>) => {
        const reply = await client.call(...args);
        if (args[0] !== 'invoicePoolQuery') return reply;
        const page = reply as Awaited<ReturnType<InvoiceCloudClient['call']>> & { invoices: unknown[] };
        return { ...page, invoices: [...page.invoices].reverse() };
      },
    } as unknown as InvoiceCloudClient;
    const failure = await bookPage(new MockActivityEnvironment(), reversing, input(taxNo)).catch((e: unknown) => e);
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.type, 'InvoiceCloudProtocolError');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /answered \d{4}-\d\d-\d\d 2614\d+ after \d{4}-\d\d-\d\d 2614\d+ \(page 1\)/);
    assert.deepEqual(await sentTo(taxNo), []);
  });
});
