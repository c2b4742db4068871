/**
 * Auto-accounting (自动入账) from the operator's side: dry-run the rules against the pool,
 * run a period now, read the last report, and keep one Temporal Schedule per taxpayer.
 */
import {
  ScheduleAlreadyRunning,
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client';
import { planBookings, readUnbookedPool, type AccountingPlan } from '../activities/accountingActivities.js';
import { InvoiceCloudClient } from '../activities/invoiceCloudClient.js';
import type { InvoiceCloudConfig } from '../activities/invoiceCloudConfig.js';
import type { AccountingRules } from '../rules/accountingRulesSchema.js';
import { BUREAU_TIME_ZONE } from '../protocol/period.js';
import { analyzeRules, type RuleAnalysis } from '../rules/autoAccounting.js';
import {
  ACCOUNTING_WORKFLOW_TYPE,
  accountingReportQuery,
  accountingScheduleId,
  accountingWorkflowId,
  AutoAccountingInput,
  type AccountingReport,
} from '../workflows/accountingContract.js';
import { TASK_QUEUE, TaxNoSearchAttribute, TaxPeriodSearchAttribute } from '../workflows/contract.js';

export interface DryRun {
  analysis: RuleAnalysis;
  plan: Omit<AccountingPlan, 'rulesSource' | 'uncoveredCombinations'>;
}

/** What a run would book now, read straight from the invoice cloud; nothing is booked. */
export async function dryRunAccounting(
  invoiceCloud: InvoiceCloudConfig,
  args: { taxNo: string; accountPeriod: string; rules: AccountingRules; maxInvoices?: number },
): Promise<DryRun> {
  const pool = await readUnbookedPool(new InvoiceCloudClient(invoiceCloud), args.taxNo);
  return {
    analysis: analyzeRules(args.rules),
    plan: planBookings(args.rules, pool, args.accountPeriod, args.maxInvoices ?? Number.MAX_SAFE_INTEGER),
  };
}

export interface StartedAccounting {
  workflowId: string;
  runId: string;
  alreadyRunning: boolean;
}

/**
 * Starts AutoAccountingWorkflow for one taxpayer and period now. A period may run again once the
 * previous run closed (it books only what is still unbooked); a running one is not started twice.
 */
export async function runAccountingNow(
  client: Client,
  input: { taxNo: string; accountPeriod: string; rules?: AccountingRules; tenant?: string },
): Promise<StartedAccounting> {
  const args = AutoAccountingInput.parse(input);
  const workflowId = accountingWorkflowId(input.taxNo, input.accountPeriod);
  try {
    const handle = await client.workflow.start(ACCOUNTING_WORKFLOW_TYPE, {
      taskQueue: TASK_QUEUE,
      workflowId,
      args: [args],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: [
        { key: TaxNoSearchAttribute, value: input.taxNo },
        { key: TaxPeriodSearchAttribute, value: input.accountPeriod },
      ],
      staticSummary: `Auto-accounting 自动入账 ${input.taxNo} ${input.accountPeriod}`,
    });
    return { workflowId, runId: handle.firstExecutionRunId, alreadyRunning: false };
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    const description = await client.workflow.getHandle(workflowId).describe();
    return { workflowId, runId: description.runId, alreadyRunning: true };
  }
}

/** The visibility query for a taxpayer's accounting runs (values validated by the caller). */
export function accountingListQuery(taxNo: string, accountPeriod?: string): string {
  const clauses = [`WorkflowType = "${ACCOUNTING_WORKFLOW_TYPE}"`, `TaxNo = "${taxNo}"`];
  if (accountPeriod) clauses.push(`TaxPeriod = "${accountPeriod}"`);
  return clauses.join(' AND ');
}

export interface LastReport {
  workflowId: string;
  runId: string;
  status: string;
  report: AccountingReport;
}

/** The report of the newest run (of the period, when given): its result, or its live query answer. */
export async function lastAccountingReport(
  client: Client,
  taxNo: string,
  accountPeriod?: string,
): Promise<LastReport | undefined> {
  let newest: { workflowId: string; runId: string; startTime: Date; status: string } | undefined;
  for await (const info of client.workflow.list({ query: accountingListQuery(taxNo, accountPeriod) })) {
    if (!newest || info.startTime > newest.startTime) {
      newest = { workflowId: info.workflowId, runId: info.runId, startTime: info.startTime, status: info.status.name };
    }
  }
  if (!newest) return undefined;
  const handle = client.workflow.getHandle(newest.workflowId, newest.runId);
  const report =
    newest.status === 'COMPLETED'
      ? ((await handle.result()) as AccountingReport)
      : await handle.query(accountingReportQuery);
  return { workflowId: newest.workflowId, runId: newest.runId, status: newest.status, report };
}

export interface AccountingScheduleSpec {
  taxNo: string;
  /** Day of month, hour and minute in Asia/Shanghai. */
  dayOfMonth: number;
  hour: number;
  minute: number;
  rules?: AccountingRules;
  paused?: boolean;
  /** The tenant of the tenants file that serves the taxpayer (docs/tenants.md). */
  tenant?: string;
}

/** The Temporal Schedule of one taxpayer's auto-accounting (created or brought up to date). */
export async function applyAccountingSchedule(
  client: Client,
  spec: AccountingScheduleSpec,
): Promise<{ scheduleId: string; created: boolean }> {
  const scheduleId = accountingScheduleId(spec.taxNo);
  const args = AutoAccountingInput.parse({
    taxNo: spec.taxNo,
    ...(spec.rules ? { rules: spec.rules } : {}),
    ...(spec.tenant ? { tenant: spec.tenant } : {}),
  });
  const options: ScheduleOptions = {
    scheduleId,
    spec: {
      calendars: [{ dayOfMonth: spec.dayOfMonth, hour: spec.hour, minute: spec.minute }],
      timezone: BUREAU_TIME_ZONE,
    },
    action: {
      type: 'startWorkflow',
      workflowType: ACCOUNTING_WORKFLOW_TYPE,
      workflowId: scheduleId,
      taskQueue: TASK_QUEUE,
      args: [args],
      typedSearchAttributes: [{ key: TaxNoSearchAttribute, value: spec.taxNo }],
    },
    policies: { overlap: 'SKIP', catchupWindow: '1 day' },
    state: { paused: spec.paused ?? false, note: `Auto-accounting 自动入账 ${spec.taxNo}` },
  };
  try {
    await client.schedule.create(options);
    return { scheduleId, created: true };
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(scheduleId).update((previous) => ({
      ...previous,
      spec: options.spec,
      action: options.action,
      policies: options.policies,
      state: { ...previous.state, paused: spec.paused ?? false },
    }));
    return { scheduleId, created: false };
  }
}
