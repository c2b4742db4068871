/**
 * The public contract of AutoAccountingWorkflow (自动入账): names, input, report. Imported by
 * the workflow, the activities and the clients so nothing drifts.
 */
import { defineQuery } from '@temporalio/workflow';
import { z } from 'zod';
import { AccountingRules } from '../rules/accountingRulesSchema.js';
import { MAX_INVOICES_PER_ACCOUNT_BATCH } from '../protocol/interfaces.js';
import { TaxPeriod } from '../protocol/period.js';
import { TaxNo } from '../protocol/taxNo.js';
import { TenantId } from './contract.js';

export const ACCOUNTING_WORKFLOW_TYPE = 'AutoAccountingWorkflow';

/** Runs started by hand for one period; scheduled runs get `accounting-<taxNo>-<timestamp>`. */
export function accountingWorkflowId(taxNo: string, accountPeriod: string): string {
  return `accounting-${taxNo}-${accountPeriod}`;
}
export function accountingScheduleId(taxNo: string): string {
  return `accounting-${taxNo}`;
}

const Milliseconds = z.number().int().positive();

export const AutoAccountingInput = z.object({
  taxNo: TaxNo,
  /** The tenant whose invoice cloud serves this taxpayer; absent: the workers' INVOICE_CLOUD_* one. */
  tenant: TenantId.optional(),
  /**
   * The accounting period "runPeriod" rules book into; default: the Shanghai month of the schedule's
   * nominal time for a scheduled run (also a backfill or a catch-up), else of the run's start.
   */
  accountPeriod: TaxPeriod.optional(),
  /** The rules; default: the worker's rules file (ACCOUNTING_RULES_FILE). */
  rules: AccountingRules.optional(),
  /** Invoices per invoiceAccount call. */
  batchSize: z.number().int().min(1).max(MAX_INVOICES_PER_ACCOUNT_BATCH).default(200),
  /** At most this many invoices are booked per run; the rest wait for the next run. */
  maxInvoicesPerRun: z.number().int().min(1).max(20_000).default(5000),
  /** Unbooked invoices read per pool query (the interface's maximum is 1000). */
  poolPageSize: z.number().int().min(1).max(1000).default(1000),
  polling: z
    .object({
      initialIntervalMs: Milliseconds.default(1000),
      maximumIntervalMs: Milliseconds.default(60_000),
      giveUpAfterMs: Milliseconds.default(6 * 3600_000),
    })
    .prefault({}),
});
export type AutoAccountingInput = z.input<typeof AutoAccountingInput>;

export interface AccountingFailure {
  invoiceCode: string;
  invoiceNo: string;
  /** The rule that asked to book it. */
  rule: string;
  resultCode: number;
  /** The invoice cloud's message, verbatim. */
  resultMsg: string;
}

/** The per-run report: the workflow result, its query answer and its current details. */
export interface AccountingReport {
  taxNo: string;
  accountPeriod: string;
  status: 'PLANNING' | 'BOOKING' | 'COMPLETED' | 'FAILED';
  rulesSource: string;
  /** Unbooked pool invoices looked at. */
  examined: number;
  booked: number;
  bookedByRule: Record<string, number>;
  skippedByRule: Record<string, number>;
  /** Invoices no rule covers (a gap in the rules). */
  noRule: number;
  /** Invoices two rules decide differently (an overlap): never booked. */
  conflicts: number;
  /** Left for the next run (maxInvoicesPerRun). */
  deferred: number;
  failed: number;
  /** The first failures (at most 50). */
  failures: AccountingFailure[];
  /**
   * Of `booked`: invoices of a batch whose answer was lost that the pool then showed booked (read
   * before resending; they have no task result). Absent for runs started before paging.
   */
  confirmedFromPool?: number;
  /** Pool queries made (pages of up to poolPageSize); absent for runs started before paging. */
  poolReads?: number;
  taskNos: string[];
  /** Why the run failed, when it did. */
  error?: string;
  updatedAt: string;
}

export const accountingReportQuery = defineQuery<AccountingReport>('accountingReport');
