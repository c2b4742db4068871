import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { InvoiceCloudClient } from '../activities/invoiceCloudClient.js';
import {
  applyAccountingSchedule,
  dryRunAccounting,
  lastAccountingReport,
  runAccountingNow,
} from '../client/accounting.js';
import { runCli } from '../client/cli.js';
import { startMonthlyDeduction } from '../client/deductions.js';
import { parseAccountingRules } from '../rules/accountingRulesSchema.js';
import { AccountResultCode } from '../protocol/codes.js';
import type { PoolInvoice } from '../protocol/interfaces.js';
import { DIMENSION_COMBINATIONS } from '../simulator/accounting/dimensions.js';
import type { AccountingReport } from '../workflows/accountingContract.js';
import { startStack, type TestStack } from './support/stack.js';
import { waitForStage } from './support/workflows.js';
import { TEST_WINDOW } from './support/calendar.js';
import { TEST_APPROVERS } from './support/approvers.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const EXAMPLE_RULES_FILE = fileURLToPath(new URL('../config/accounting-rules.example.json', import.meta.url));
const rules = parseAccountingRules(JSON.parse(readFileSync(EXAMPLE_RULES_FILE, 'utf8')));
const [BOOKING_TAX_NO, SELECTING_TAX_NO, SCHEDULED_TAX_NO] = [
  '91440300591872133B',
  '91440300MA5G9GK78Y',
  '91440300MA5DC6QB6G',
];
const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500 };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('auto-accounting on a real Temporal dev server and the sandbox', function () {
  this.timeout(180_000);
  let stack: TestStack;
  let cloud: InvoiceCloudClient;

  async function pool(taxNo: string, filter: Record<string, string> = {}): Promise<PoolInvoice[]> {
    const page = await cloud.call('invoicePoolQuery', { taxNo, pageSize: 1000, ...filter });
    assert.equal(page.invoices.length, page.total);
    return page.invoices;
  }

  before(async () => {
    process.env.ACCOUNTING_RULES_FILE = EXAMPLE_RULES_FILE; // the worker's rules, for scheduled runs
    stack = await startStack();
    await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 60, seed: 11 });
    await stack.admin.setClock(SANDBOX_NOW);
    await stack.startWorker();
    cloud = new InvoiceCloudClient(stack.invoiceCloud);
  });
  after(async () => {
    delete process.env.ACCOUNTING_RULES_FILE;
    await stack?.stop();
  });

  it('the demo pool covers every dimension combination and the pool query filters by each dimension', async () => {
    const all = await pool(BOOKING_TAX_NO);
    const seen = new Set(all.map((i) => `${i.dataSource}|${i.boundBillType}|${i.accountStatus}`));
    for (const c of DIMENSION_COMBINATIONS)
      assert.ok(seen.has(`${c.dataSource}|${c.boundBillType}|${c.accountStatus}`));
    for (const i of all) {
      assert.equal(i.boundBillNo === '', i.boundBillType === '0', 'a bound invoice names its document');
      assert.equal(i.accountPeriod === '', i.accountStatus === '0', 'a booked invoice names its period');
    }
    const filtered = await pool(BOOKING_TAX_NO, { dataSource: '2', boundBillType: '1,3', accountStatus: '0' });
    assert.ok(filtered.length > 0);
    assert.ok(
      filtered.every((i) => i.dataSource === '2' && ['1', '3'].includes(i.boundBillType) && i.accountStatus === '0'),
    );
    const expected = all.filter(
      (i) => i.dataSource === '2' && ['1', '3'].includes(i.boundBillType) && i.accountStatus === '0',
    ).length;
    assert.equal(filtered.length, expected);
    await assert.rejects(
      cloud.call('invoicePoolQuery', { taxNo: BOOKING_TAX_NO, boundBillType: '9' }),
      /boundBillType/,
    );
  });

  it('books the pool by the rules, reports booked / skipped by rule / failed, and a second run books nothing', async () => {
    const before = await pool(BOOKING_TAX_NO, { accountStatus: '0' });
    const dryRun = await dryRunAccounting(stack.invoiceCloud, { taxNo: BOOKING_TAX_NO, accountPeriod: PERIOD, rules });
    assert.equal(dryRun.plan.examined, before.length);
    assert.ok(dryRun.plan.toBook.length > 0);
    assert.equal((await pool(BOOKING_TAX_NO, { accountStatus: '0' })).length, before.length, 'a dry run books nothing');

    const started = await runAccountingNow(stack.client, { taxNo: BOOKING_TAX_NO, accountPeriod: PERIOD, rules });
    assert.equal(started.workflowId, `accounting-${BOOKING_TAX_NO}-${PERIOD}`);
    const handle = stack.client.workflow.getHandle(started.workflowId, started.runId);
    const report: AccountingReport = await handle.result();
    assert.equal(report.status, 'COMPLETED');
    assert.equal(report.examined, before.length);
    assert.equal(report.booked + report.failed, dryRun.plan.toBook.length);
    assert.ok(report.booked > 0);
    // Void, red-flushed and other abnormal invoices are refused by the invoice cloud, with its reason.
    const byNo = new Map(before.map((i) => [i.invoiceNo, i]));
    const unbookable = dryRun.plan.toBook.filter((l) => ![0, 7].includes(byNo.get(l.invoiceNo)!.invoiceStatus));
    assert.equal(report.failed, unbookable.length);
    for (const f of report.failures) {
      assert.equal(f.resultCode, AccountResultCode.NotBookable);
      assert.equal(f.resultMsg, '发票状态不允许入账');
    }
    // Skipped by rule, with the rule's name; the example rules have no gaps.
    const travelClientPaid = before.filter((i) => i.boundBillType === '2').length;
    assert.equal(report.skippedByRule['travel-client-paid'], travelClientPaid);
    assert.equal(report.noRule, 0);
    assert.equal(
      Object.values(report.bookedByRule).reduce((a, b) => a + b, 0),
      report.booked,
    );

    // The pool says the same: booked, into the period the rule chose.
    const booked = await pool(BOOKING_TAX_NO, { accountStatus: '1' });
    const plannedPeriod = new Map(dryRun.plan.toBook.map((l) => [l.invoiceNo, l.accountPeriod]));
    const newlyBooked = booked.filter((i) => plannedPeriod.has(i.invoiceNo));
    assert.equal(newlyBooked.length, report.booked);
    for (const i of newlyBooked) assert.equal(i.accountPeriod, plannedPeriod.get(i.invoiceNo));

    // The Web UI's current details show the report.
    const metadata = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    assert.match(metadata.currentDetails ?? '', /已入账 Booked: \d+/);
    assert.match(metadata.currentDetails ?? '', /`travel-client-paid`/);

    // Same period again: only what is still unbooked is read, and nothing is booked again.
    const again = await runAccountingNow(stack.client, { taxNo: BOOKING_TAX_NO, accountPeriod: PERIOD, rules });
    assert.notEqual(again.runId, started.runId);
    const second: AccountingReport = await stack.client.workflow.getHandle(again.workflowId, again.runId).result();
    assert.equal(second.status, 'COMPLETED');
    assert.equal(second.booked, 0);
    assert.equal(second.examined, before.length - report.booked);
    assert.ok(second.failures.every((f) => f.resultCode !== AccountResultCode.AlreadyBooked));
    const bookings = (await stack.admin.ledger({ taxNo: BOOKING_TAX_NO, interfaceCode: 'invoiceAccount' })).flatMap(
      (e) => e.invoiceNos,
    );
    const bookedNos = new Set(newlyBooked.map((i) => i.invoiceNo));
    assert.equal(bookings.filter((n) => bookedNos.has(n)).length, bookedNos.size, 'each booked invoice was sent once');

    const last = await lastAccountingReport(stack.client, BOOKING_TAX_NO, PERIOD);
    assert.equal(last?.runId, again.runId);
    assert.equal(last?.report.booked, 0);
  });

  it('the invoice cloud refuses a second booking of a booked invoice (code 3), polled while processing', async () => {
    const [booked] = await pool(BOOKING_TAX_NO, { accountStatus: '1' });
    assert.ok(booked);
    const { taskNo } = await cloud.call('invoiceAccount', {
      taxNo: BOOKING_TAX_NO,
      asyncFlag: '1',
      invoices: [{ invoiceCode: booked.invoiceCode, invoiceNo: booked.invoiceNo, accountPeriod: '202612' }],
    });
    await assert.rejects(cloud.call('invoiceAccountQuery', { taxNo: BOOKING_TAX_NO, taskNo }), /6910|处理中/);
    await sleep(1100);
    const result = await cloud.call('invoiceAccountQuery', { taxNo: BOOKING_TAX_NO, taskNo });
    assert.deepEqual(
      result.invoices.map((l) => [l.resultCode, l.resultMsg]),
      [[AccountResultCode.AlreadyBooked, '发票已入账，不可重复入账']],
    );
    const after = (await pool(BOOKING_TAX_NO, { accountStatus: '1' })).find((i) => i.invoiceNo === booked.invoiceNo);
    assert.equal(after?.accountPeriod, booked.accountPeriod, 'the first booking stands');
  });

  it('refuses overlapping rules with a report naming them, booking nothing', async () => {
    const overlapping = parseAccountingRules({
      rules: [
        { name: 'book-collected', match: { dataSource: ['Collected'] }, action: 'book' },
        { name: 'skip-expenses', match: { boundBillType: ['ExpenseClaim'] }, action: 'skip' },
      ],
    });
    const unbooked = (await pool(SCHEDULED_TAX_NO, { accountStatus: '0' })).length;
    const started = await runAccountingNow(stack.client, {
      taxNo: SCHEDULED_TAX_NO,
      accountPeriod: '202610',
      rules: overlapping,
    });
    const error = await stack.client.workflow
      .getHandle(started.workflowId, started.runId)
      .result()
      .catch((e: unknown) => e);
    assert.ok(error instanceof WorkflowFailedError);
    assert.match(String(error.cause?.message), /"book-collected", "skip-expenses" \(book:runPeriod vs skip\)/);
    assert.equal((await pool(SCHEDULED_TAX_NO, { accountStatus: '0' })).length, unbooked);
  });

  it('one Temporal Schedule per taxpayer (Asia/Shanghai); a triggered run books with the worker rules file', async () => {
    const applied = await applyAccountingSchedule(stack.client, {
      taxNo: SCHEDULED_TAX_NO,
      dayOfMonth: 1,
      hour: 2,
      minute: 30,
    });
    assert.deepEqual(applied, { scheduleId: `accounting-${SCHEDULED_TAX_NO}`, created: true });
    const again = await applyAccountingSchedule(stack.client, {
      taxNo: SCHEDULED_TAX_NO,
      dayOfMonth: 2,
      hour: 3,
      minute: 0,
    });
    assert.equal(again.created, false);
    const schedule = stack.client.schedule.getHandle(applied.scheduleId);
    const description = await schedule.describe();
    assert.equal(description.spec.timezone, 'Asia/Shanghai');
    assert.deepEqual(
      description.spec.calendars?.map((c) => [c.dayOfMonth, c.hour, c.minute]),
      [[[{ start: 2, end: 2, step: 1 }], [{ start: 3, end: 3, step: 1 }], [{ start: 0, end: 0, step: 1 }]]],
    );

    await schedule.trigger();
    let report: AccountingReport | undefined;
    for (let i = 0; i < 100 && !report; i++) {
      const runs = (await schedule.describe()).info.recentActions;
      const run = runs.at(-1)?.action;
      if (run)
        report = await stack.client.workflow
          .getHandle(run.workflow.workflowId, run.workflow.firstExecutionRunId)
          .result();
      else await sleep(200);
    }
    assert.ok(report);
    assert.equal(report.status, 'COMPLETED');
    assert.equal(report.rulesSource, EXAMPLE_RULES_FILE);
    assert.ok(report.booked > 0);
    await schedule.delete();
  });

  it('selects only booked invoices bound to a document when the deduction input asks for it', async () => {
    const poolBefore = await pool(SELECTING_TAX_NO);
    const started = await startMonthlyDeduction(stack.client, {
      approvers: TEST_APPROVERS,
      taxNo: SELECTING_TAX_NO,
      taxPeriod: PERIOD,
      polling: { ...FAST_POLLING, backoffCoefficient: 1.5 },
      poolFilter: { include: { accountStatus: ['Booked'] }, exclude: { boundBillType: ['None'] } },
    });
    const waiting = await waitForStage(started.handle, 'AWAITING_APPROVAL');
    const selected = await pool(SELECTING_TAX_NO, { selectStatus: '1' });
    assert.ok(selected.length > 0);
    assert.equal(waiting.selection?.selected, selected.length);
    for (const i of selected) {
      assert.equal(i.accountStatus, '1');
      assert.notEqual(i.boundBillType, '0');
    }
    const eligibleOtherwise = poolBefore.filter((i) => i.accountStatus === '0' && i.selectStatus === '0');
    assert.ok(eligibleOtherwise.length > 0, 'unbooked invoices existed and were left alone');
    await started.handle.terminate('test done');
  });

  it('CLI: accounting dry-run prints what would be booked; report prints the last report; bad input exits 2', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      out: (t: string) => void out.push(t),
      err: (t: string) => void err.push(t),
      env: { ...process.env, INVOICE_CLOUD_BASE_URL: stack.sandboxUrl },
      connect: async () =>
        new Client({
          connection: await Connection.connect({ address: stack.temporal.address }),
          namespace: stack.temporal.namespace,
        }),
    };
    const argv = (...args: string[]) => ['node', 'cli', 'accounting', ...args];
    assert.equal(
      await runCli(
        argv('dry-run', '--tax-no', SELECTING_TAX_NO, '--period', PERIOD, '--rules', EXAMPLE_RULES_FILE),
        io,
      ),
      0,
    );
    assert.match(
      out.join(''),
      new RegExp(`Dry run for 91440300MA5G9GK78Y, accounting period ${PERIOD} \\(nothing was booked\\)`),
    );
    assert.match(out.join(''), /Would book: \d+ \(/);
    assert.match(out.join(''), /Gaps: none/);

    out.length = 0;
    assert.equal(await runCli(argv('report', '--tax-no', BOOKING_TAX_NO, '--period', PERIOD), io), 0);
    assert.match(out.join(''), new RegExp(`accounting period ${PERIOD}: COMPLETED[\\s\\S]*Booked: 0`));

    assert.equal(await runCli(argv('dry-run', '--tax-no', 'nope', '--rules', EXAMPLE_RULES_FILE), io), 2);
    assert.match(err.join(''), /--tax-no/);
    assert.equal(await runCli(argv('run', '--tax-no', BOOKING_TAX_NO, '--rules', '/nonexistent/rules.json'), io), 2);
    assert.match(err.join(''), /cannot read the accounting rules file/);
  });
});
