import {
  type ActivityInterfaceFor,
  ActivityFailure,
  ApplicationFailure,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  AccountingActivities,
  AccountingTally,
  BookedTask,
  BookingLine,
  BookPageResult,
} from '../activities/accountingActivities.js';
import type { AccountingRules } from '../rules/accountingRulesSchema.js';
import { AccountResultCode } from '../protocol/codes.js';
import { FailureType } from '../protocol/failureTypes.js';
import { describeZodError } from '../protocol/interfaces.js';
import { shanghaiMonth } from '../protocol/period.js';
import { chunk } from '../rules/selectionPolicy.js';
import {
  type AccountingReport,
  accountingReportQuery,
  AutoAccountingInput,
  type AutoAccountingInput as AutoAccountingInputType,
} from './accountingContract.js';
import { bureauCallOptions, heartbeatingOptions, pollingOptions } from './activityOptions.js';
import { renderAccountingReport } from './accountingDetails.js';
import { TaxNoSearchAttribute, TaxPeriodSearchAttribute } from './contract.js';
import { scheduledStartTime } from './scheduledTime.js';
import { onTenantQueue, tenantCheck } from './tenantQueues.js';

const ACCOUNTING_FINAL_TYPES = [FailureType.AccountingRulesInvalid];
const MAX_FAILURES_KEPT = 50;
/** Page by page, counts only through history, the period from the scheduled time (docs/versioning.md). */
export const PAGED_ACCOUNTING_PATCH = 'accounting-paged';

/** Booking has no filing deadline: a bureau outage is retried for six hours. */
const ACCOUNTING_RETRY_BUDGET_MS = 6 * 3600_000;
/** The run's bureau activities, on its tenant's task queue (workflows/tenantQueues.ts). */
interface Bureau {
  /** Reading and booking a page (heartbeating, resumed from its heartbeat details after a failure). */
  planner: ActivityInterfaceFor<AccountingActivities>;
  booking: ActivityInterfaceFor<AccountingActivities>;
  poll: ActivityInterfaceFor<AccountingActivities>;
}
type Input = ReturnType<typeof AutoAccountingInput.parse>;

/**
 * AutoAccountingWorkflow (自动入账, 补充说明 2): one taxpayer, one run. Reads the unbooked pool page
 * by page, books what the rules say in batches of one rule, awaits each asynchronous accounting
 * task by activity retries (BureauTaskPending) and reports booked, skipped by rule and failed. Only
 * counts pass through history, never invoice lists. Only unbooked invoices are read and the
 * invoice cloud never books one twice, so re-running a period books nothing again.
 */
export async function AutoAccountingWorkflow(rawInput: AutoAccountingInputType): Promise<AccountingReport> {
  const parsed = AutoAccountingInput.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `Invalid workflow input: ${describeZodError(parsed.error)}`,
      FailureType.InvalidInput,
    );
  }
  const input = parsed.data;
  const { taxNo } = input;
  // Runs started before paging replay as they ran: the whole pool at once, the period from the clock.
  const paged = patched(PAGED_ACCOUNTING_PATCH);
  const accountPeriod =
    input.accountPeriod ?? shanghaiMonth(paged ? (scheduledStartTime() ?? workflowInfo().startTime) : new Date());

  const tenantQueue = onTenantQueue(input.tenant);
  const bureau: Bureau = {
    planner: proxyActivities(tenantQueue(heartbeatingOptions(ACCOUNTING_RETRY_BUDGET_MS, ACCOUNTING_FINAL_TYPES))),
    booking: proxyActivities(tenantQueue(bureauCallOptions(ACCOUNTING_RETRY_BUDGET_MS, ACCOUNTING_FINAL_TYPES))),
    poll: proxyActivities(
      tenantQueue(
        pollingOptions(
          { ...input.polling, backoffCoefficient: 1.5 },
          ACCOUNTING_RETRY_BUDGET_MS,
          ACCOUNTING_FINAL_TYPES,
        ),
      ),
    ),
  };

  const report: AccountingReport = {
    taxNo,
    accountPeriod,
    status: 'PLANNING',
    rulesSource: '',
    examined: 0,
    booked: 0,
    bookedByRule: {},
    skippedByRule: {},
    noRule: 0,
    conflicts: 0,
    deferred: 0,
    failed: 0,
    failures: [],
    taskNos: [],
    updatedAt: new Date().toISOString(),
  };
  function publish(): void {
    report.updatedAt = new Date().toISOString();
    setCurrentDetails(renderAccountingReport(report));
  }
  setHandler(accountingReportQuery, () => report);
  upsertSearchAttributes([
    { key: TaxNoSearchAttribute, value: taxNo },
    { key: TaxPeriodSearchAttribute, value: accountPeriod },
  ]);
  publish();

  try {
    // Runs without a tenant (all those recorded before tenants) schedule nothing new here.
    if (input.tenant) {
      await tenantCheck.checkTenantServed.executeWithOptions({ summary: `tenant ${input.tenant}` }, [
        { tenant: input.tenant },
      ]);
    }
    if (paged) await bookPageByPage(input, accountPeriod, report, publish, bureau);
    else await bookWholePool(input, accountPeriod, report, publish, bureau);
    report.status = 'COMPLETED';
    publish();
    log.info('Auto-accounting finished', { taxNo, accountPeriod, booked: report.booked, failed: report.failed });
    return report;
  } catch (error) {
    const cause = error instanceof ActivityFailure && error.cause ? error.cause : error;
    report.status = 'FAILED';
    report.error = cause instanceof Error ? cause.message : String(cause);
    publish();
    throw ApplicationFailure.nonRetryable(
      `Auto-accounting of ${taxNo} for ${accountPeriod} failed: ${report.error}`,
      FailureType.AccountingFailed,
      report,
    );
  }
}

/**
 * A page at a time: the activity reads the next unbooked invoices after the last one decided,
 * books what the rules say and answers counts and task numbers. A page's tasks are awaited
 * (together) while the next page is booked: that page starts after the last invoice decided, so
 * bookings still in progress cannot be read again.
 */
async function bookPageByPage(
  input: Input,
  accountPeriod: string,
  report: AccountingReport,
  publish: () => void,
  { planner, booking, poll }: Bureau,
): Promise<void> {
  const { taxNo } = input;
  const prepared = await booking.prepareAccounting.executeWithOptions({ summary: '规则检查 check the rules' }, [
    input.rules ? { rules: input.rules } : {},
  ]);
  const rules: AccountingRules = prepared.rules;
  Object.assign(report, { status: 'BOOKING', rulesSource: prepared.rulesSource, confirmedFromPool: 0, poolReads: 0 });
  publish();
  let limit = input.maxInvoicesPerRun;
  let cursor: Pick<BookPageResult, 'through' | 'keptOnDate'> = { keptOnDate: 0 };
  // The tasks of the page before, awaited while this page is read and booked.
  let earlier: Promise<void> | undefined;
  for (let pageNo = 1; ; pageNo++) {
    const page = await planner.bookPoolPage.executeWithOptions({ summary: `入账第${pageNo}页 book page ${pageNo}` }, [
      {
        taxNo,
        accountPeriod,
        rules,
        batchSize: input.batchSize,
        limit,
        ...(cursor.through ? { after: cursor.through } : {}),
        keptOnDate: cursor.keptOnDate,
        pageSize: input.poolPageSize,
      },
    ]);
    limit -= countPage(report, page);
    publish();
    const tasks = awaitTasks(page.tasks);
    tasks.catch(() => undefined); // awaited below; a failure is not unhandled meanwhile
    if (earlier) await earlier;
    earlier = tasks;
    if (page.done) break;
    cursor = page;
  }
  await earlier;

  async function awaitTasks(tasks: BookedTask[]): Promise<void> {
    const keepFailures = MAX_FAILURES_KEPT - report.failures.length;
    const tallies = await Promise.all(
      tasks.map((task) =>
        poll.awaitAccountingTally.executeWithOptions({ summary: `入账结果 await ${task.taskNo}` }, [
          { taxNo, taskNo: task.taskNo, keepFailures },
        ]),
      ),
    );
    tallies.forEach((t, i) => countTask(report, tasks[i]!, t));
    publish();
  }
}

/** Adds a page's counts to the report; returns the lines it booked (sent, or seen booked in the pool). */
function countPage(report: AccountingReport, page: BookPageResult): number {
  report.examined += page.examined;
  for (const [rule, n] of Object.entries(page.skippedByRule))
    report.skippedByRule[rule] = (report.skippedByRule[rule] ?? 0) + n;
  report.noRule += page.noRule;
  report.conflicts += page.conflicts;
  report.deferred += page.deferred;
  report.poolReads = (report.poolReads ?? 0) + page.poolReads;
  report.taskNos.push(...page.tasks.map((t) => t.taskNo));
  let confirmed = 0;
  for (const [rule, n] of Object.entries(page.confirmedByRule)) {
    report.booked += n;
    report.bookedByRule[rule] = (report.bookedByRule[rule] ?? 0) + n;
    confirmed += n;
  }
  report.confirmedFromPool = (report.confirmedFromPool ?? 0) + confirmed;
  return confirmed + page.tasks.reduce((n, t) => n + t.lines, 0);
}

function countTask(report: AccountingReport, task: BookedTask, t: AccountingTally): void {
  report.booked += t.booked;
  if (t.booked) report.bookedByRule[task.rule] = (report.bookedByRule[task.rule] ?? 0) + t.booked;
  report.failed += t.failed;
  for (const f of t.failures) {
    if (report.failures.length < MAX_FAILURES_KEPT) report.failures.push({ ...f, rule: task.rule });
  }
}

/** Runs started before paging: the whole plan from one activity, then its batches one by one. */
async function bookWholePool(
  input: Input,
  accountPeriod: string,
  report: AccountingReport,
  publish: () => void,
  { planner, booking, poll }: Bureau,
): Promise<void> {
  const { taxNo } = input;
  const plan = await planner.planAccounting.executeWithOptions({ summary: '规则匹配 match the rules' }, [
    { taxNo, accountPeriod, rules: input.rules, maxInvoices: input.maxInvoicesPerRun },
  ]);
  Object.assign(report, {
    status: 'BOOKING',
    rulesSource: plan.rulesSource,
    examined: plan.examined,
    skippedByRule: plan.skippedByRule,
    noRule: plan.noRule,
    conflicts: plan.conflicts,
    deferred: plan.deferred,
  });
  publish();

  for (const batch of chunk(plan.toBook, input.batchSize)) {
    const { taskNo } = await booking.submitAccountingBatch.executeWithOptions(
      { summary: `发票入账 book ${batch.length} invoices` },
      [{ taxNo, lines: batch }],
    );
    report.taskNos.push(taskNo);
    publish();
    const result = await poll.awaitAccountingResult.executeWithOptions({ summary: `入账结果 await ${taskNo}` }, [
      { taxNo, taskNo },
    ]);
    tally(report, batch, result.invoices);
    publish();
  }
}

function tally(
  report: AccountingReport,
  batch: BookingLine[],
  results: { invoiceCode: string; invoiceNo: string; resultCode: number; resultMsg: string }[],
): void {
  const ruleOf = new Map(batch.map((l) => [`${l.invoiceCode}/${l.invoiceNo}`, l.rule]));
  for (const line of results) {
    const rule = ruleOf.get(`${line.invoiceCode}/${line.invoiceNo}`) ?? '';
    if (line.resultCode === AccountResultCode.Booked) {
      report.booked++;
      report.bookedByRule[rule] = (report.bookedByRule[rule] ?? 0) + 1;
    } else {
      report.failed++;
      if (report.failures.length < MAX_FAILURES_KEPT) report.failures.push({ ...line, rule });
    }
  }
}
