import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import { InvoiceCloudClient } from '../activities/invoiceCloudClient.js';
import { applyAccountingSchedule } from '../client/accounting.js';
import { parseAccountingRules } from '../rules/accountingRulesSchema.js';
import type { BoundBillType } from '../protocol/codes.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import { hashSeed, prng } from '../simulator/random.js';
import {
  ACCOUNTING_WORKFLOW_TYPE,
  accountingWorkflowId,
  type AccountingReport,
  type AutoAccountingInput,
} from '../workflows/accountingContract.js';
import { TASK_QUEUE } from '../workflows/contract.js';
import { completedActivities } from '../bench/history.js';
import { addAccountingTaxpayer, accountingInvoices } from './support/accountingPool.js';
import { TEST_PERIOD, TEST_WINDOW, yyyymm } from './support/calendar.js';
import { recordHistory } from './support/recordHistory.js';
import { startStack, type TestStack } from './support/stack.js';
import { searchAttributes } from './support/workflows.js';

const EXAMPLE_RULES_FILE = fileURLToPath(new URL('../config/accounting-rules.example.json', import.meta.url));
const rules = parseAccountingRules(JSON.parse(readFileSync(EXAMPLE_RULES_FILE, 'utf8')));
const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500 };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Every fifth invoice is 差旅报销-客户付费 (skipped); the others are expense claims (booked into the run's period). */
const expenseClaimsAndSkips = (i: number): BoundBillType => (i % 5 === 4 ? '2' : '1');

/**
 * The sandbox draws faults from a PRNG seeded by tenant and seed, two draws per request (slow, then
 * the fault): the seed whose first fault at `rate` falls on the n-th request it is asked about.
 */
function seedWhoseFirstFaultIsRequest(n: number, rate: number, tenantId = 'devbiz'): number {
  for (let seed = 1; seed < 10_000; seed++) {
    const next = prng(hashSeed(`${tenantId}|${seed}`));
    for (let request = 1; request <= n; request++) {
      next();
      if (next() < rate) {
        if (request === n) return seed;
        break;
      }
    }
  }
  throw new Error(`no seed puts the first fault on request ${n}`);
}

describe('auto-accounting page by page on a real Temporal dev server and the sandbox', function () {
  this.timeout(180_000);
  let stack: TestStack;
  let cloud: InvoiceCloudClient;
  let taxpayers = 0;

  before(async () => {
    process.env.ACCOUNTING_RULES_FILE = EXAMPLE_RULES_FILE; // the worker's rules, for scheduled runs
    stack = await startStack();
    await stack.admin.seedDemo({
      taxPeriod: TEST_PERIOD,
      now: TEST_WINDOW.sandboxNow,
      invoicesPerTaxpayer: 1,
      seed: 1,
    });
    await stack.admin.setClock(TEST_WINDOW.sandboxNow);
    await stack.admin.setRequestIdDedup(false);
    await stack.startWorker();
    cloud = new InvoiceCloudClient(stack.invoiceCloud);
  });
  afterEach(async () => stack?.admin.clearFaults());
  after(async () => {
    delete process.env.ACCOUNTING_RULES_FILE;
    await stack?.stop();
  });

  const newTaxNo = () => withCheckCharacter(`91440300MA5P${String(++taxpayers).padStart(5, '0')}`);

  async function poolCount(taxNo: string, filter: Record<string, string>): Promise<number> {
    return (await cloud.call('invoicePoolQuery', { taxNo, pageSize: 1, ...filter })).total;
  }

  async function run(input: AutoAccountingInput): Promise<{ report: AccountingReport; handle: WorkflowHandle }> {
    const handle = await stack.client.workflow.start(ACCOUNTING_WORKFLOW_TYPE, {
      taskQueue: TASK_QUEUE,
      workflowId: accountingWorkflowId(input.taxNo, input.accountPeriod ?? TEST_PERIOD),
      args: [input],
    });
    return { report: (await handle.result()) as AccountingReport, handle };
  }

  it('pages through the pool with a few invoices per query and books each page by its rules', async () => {
    const taxNo = newTaxNo();
    // 90 invoices over 28 days: several pool queries per date, skipped ones kept on each page's last date.
    await addAccountingTaxpayer(stack.admin, taxNo, accountingInvoices(90, expenseClaimsAndSkips, { prefix: '2611' }));
    const { report, handle } = await run({
      taxNo,
      accountPeriod: TEST_PERIOD,
      rules,
      batchSize: 4,
      poolPageSize: 7,
      polling: FAST_POLLING,
    });
    assert.equal(report.status, 'COMPLETED');
    assert.equal(report.examined, 90);
    assert.equal(report.booked, 72);
    assert.deepEqual(report.bookedByRule, { 'expense-claims': 72 });
    assert.deepEqual(report.skippedByRule, { 'travel-client-paid': 18 });
    assert.equal(report.failed, 0);
    assert.equal(await poolCount(taxNo, { accountStatus: '1', accountPeriod: TEST_PERIOD }), 72);
    assert.equal(await poolCount(taxNo, { accountStatus: '0' }), 18);
    const sent = (await stack.admin.ledger({ taxNo, interfaceCode: 'invoiceAccount' })).flatMap((e) => e.invoiceNos);
    assert.equal(new Set(sent).size, 72);
    assert.equal(sent.length, 72, 'each invoice sent once');
    // Pages of at least 7 invoices: at most ceil(90 / 7) booking pages, each with batches of at most 4.
    const pages = completedActivities((await handle.fetchHistory()).events ?? []).filter(
      (a) => a.type === 'bookPoolPage',
    );
    assert.ok(pages.length >= 2 && pages.length <= 13, `${pages.length} pages`);
    assert.ok((report.poolReads ?? 0) >= pages.length);
    await recordHistory(handle, 'accounting-paged-completed');
  });

  for (const lost of ['after', 'before'] as const) {
    it(`a page whose booking ${lost === 'after' ? 'reply' : 'request'} is lost resumes from its heartbeat details and reads the pool before resending`, async () => {
      const taxNo = newTaxNo();
      // The first page (20 invoices) books 16 in four batches of 4; the third batch is lost.
      await addAccountingTaxpayer(
        stack.admin,
        taxNo,
        accountingInvoices(60, expenseClaimsAndSkips, { prefix: '2612' }),
      );
      const seed = seedWhoseFirstFaultIsRequest(3, 0.5);
      const servedBefore = (await stack.admin.faultsServed()).http5xx;
      await stack.admin.setFaults({
        http5xxRate: 0.5,
        injectAt: lost,
        interfaces: ['invoiceAccount'],
        maxInjected: 1,
        seed,
      });
      const { report, handle } = await run({
        taxNo,
        accountPeriod: TEST_PERIOD,
        rules,
        batchSize: 4,
        poolPageSize: 20,
        polling: FAST_POLLING,
      });
      assert.equal((await stack.admin.faultsServed()).http5xx - servedBefore, 1, 'one booking request lost');
      assert.equal(report.status, 'COMPLETED');
      assert.equal(report.examined, 60);
      assert.equal(report.booked, 48);
      assert.equal(report.failed, 0, 'nothing was sent twice (a second booking answers 3, a failure)');
      // A lost reply: its four invoices are booked and the pool says so; a lost request: sent again.
      assert.equal(report.confirmedFromPool, lost === 'after' ? 4 : 0);
      assert.equal(report.taskNos.length, lost === 'after' ? 11 : 12);
      assert.equal(await poolCount(taxNo, { accountStatus: '1' }), 48);
      const sent = (await stack.admin.ledger({ taxNo, interfaceCode: 'invoiceAccount' })).flatMap((e) => e.invoiceNos);
      assert.equal(sent.length, 48, 'the ledger holds each booking once: the batches sent before were not sent again');
      assert.equal(new Set(sent).size, 48);
      const pages = completedActivities((await handle.fetchHistory()).events ?? []).filter(
        (a) => a.type === 'bookPoolPage',
      );
      assert.equal(pages[0]?.attempt, 2, 'the first page took a second attempt');
      assert.ok(pages.slice(1).every((p) => p.attempt === 1));
    });
  }

  it('a scheduled run books into the month of its scheduled time (a backfill into another month)', async () => {
    const taxNo = newTaxNo();
    await addAccountingTaxpayer(stack.admin, taxNo, accountingInvoices(10, expenseClaimsAndSkips, { prefix: '2613' }));
    const [year, month] = [Number(TEST_PERIOD.slice(0, 4)), Number(TEST_PERIOD.slice(4))];
    // Never the month the wall clock is in while the test runs (the test period or the one after it).
    const scheduledPeriod = yyyymm(year, month - 1);
    const scheduledAt = new Date(`${scheduledPeriod.slice(0, 4)}-${scheduledPeriod.slice(4)}-01T02:30:00+08:00`);
    const { scheduleId } = await applyAccountingSchedule(stack.client, {
      taxNo,
      dayOfMonth: 1,
      hour: 2,
      minute: 30,
      paused: true,
    });
    const schedule = stack.client.schedule.getHandle(scheduleId);
    await schedule.backfill({
      start: new Date(scheduledAt.getTime() - 60_000),
      end: new Date(scheduledAt.getTime() + 60_000),
      overlap: 'ALLOW_ALL',
    });
    let started: { workflowId: string; firstExecutionRunId: string } | undefined;
    for (let i = 0; i < 100 && !started; i++) {
      started = (await schedule.describe()).info.recentActions.at(-1)?.action.workflow;
      if (!started) await sleep(200);
    }
    assert.ok(started, 'the backfill started a run');
    const handle = stack.client.workflow.getHandle(started.workflowId, started.firstExecutionRunId);
    const report = (await handle.result()) as AccountingReport;
    assert.equal(report.status, 'COMPLETED');
    assert.equal(report.accountPeriod, scheduledPeriod);
    assert.equal(report.rulesSource, EXAMPLE_RULES_FILE);
    assert.equal(report.booked, 8);
    assert.equal(await poolCount(taxNo, { accountStatus: '1', accountPeriod: scheduledPeriod }), 8);
    assert.equal((await searchAttributes(handle)).TaxPeriod, scheduledPeriod);
    await schedule.delete();
  });
});
