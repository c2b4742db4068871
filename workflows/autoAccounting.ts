import {
  ActivityFailure,
  ApplicationFailure,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { AccountingActivities, BookingLine } from '../activities/accountingActivities.js';
import { AccountResultCode } from '../protocol/codes.js';
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

const ACCOUNTING_FINAL_TYPES = ['AccountingRulesInvalid'];
const MAX_FAILURES_KEPT = 50;

/** Booking has no filing deadline: a bureau outage is retried for six hours. */
const ACCOUNTING_RETRY_BUDGET_MS = 6 * 3600_000;
/** Planning reads the whole unbooked pool (heartbeating); each invoiceAccount call keeps its requestId on retry. */
const planner = proxyActivities<AccountingActivities>(
  heartbeatingOptions(ACCOUNTING_RETRY_BUDGET_MS, ACCOUNTING_FINAL_TYPES),
);
const booking = proxyActivities<AccountingActivities>(
  bureauCallOptions(ACCOUNTING_RETRY_BUDGET_MS, ACCOUNTING_FINAL_TYPES),
);

/**
 * AutoAccountingWorkflow (自动入账, 补充说明 2): one taxpayer, one run. Matches the unbooked pool
 * against the rules, books what they say in batches, awaits each asynchronous accounting task by
 * activity retries (BureauTaskPending) and reports booked, skipped by rule and failed.
 * Only unbooked invoices are read and the invoice cloud never books one twice, so re-running a
 * period books nothing again.
 */
export async function AutoAccountingWorkflow(rawInput: AutoAccountingInputType): Promise<AccountingReport> {
  const parsed = AutoAccountingInput.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`Invalid workflow input: ${describeZodError(parsed.error)}`, 'InvalidInput');
  }
  const input = parsed.data;
  const { taxNo } = input;
  const accountPeriod = input.accountPeriod ?? shanghaiMonth(new Date());

  const poll = proxyActivities<AccountingActivities>(
    pollingOptions({ ...input.polling, backoffCoefficient: 1.5 }, ACCOUNTING_RETRY_BUDGET_MS, ACCOUNTING_FINAL_TYPES),
  );

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
      'AccountingFailed',
      report,
    );
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
