/**
 * The contract of ScheduledDeductionLauncher, the tiny workflow a Temporal Schedule starts each
 * month. Schedules name their runs `<scheduleId>-<timestamp>`; the launcher turns that into
 * exactly one MonthlyDeductionWorkflow under `deduction-<taxNo>-<YYYYMM>`.
 */
import { z } from 'zod';
import { TaxNo } from '../protocol/taxNo.js';
import { PoolFilter } from '../rules/poolFilter.js';
import { DecisionPolicy, MonthlyDeductionFields as MonthlyDeductionInput, TenantId } from './contract.js';

export const LAUNCHER_WORKFLOW_TYPE = 'ScheduledDeductionLauncher';
export const SCHEDULE_ID_PREFIX = 'deduction-schedule-';

export function deductionScheduleId(taxNo: string): string {
  return `${SCHEDULE_ID_PREFIX}${taxNo}`;
}

export const LauncherInput = z.object({
  taxNo: TaxNo,
  /** The registry entry's tenant (docs/tenants.md); absent: the workers' INVOICE_CLOUD_* tenant. */
  tenant: TenantId.optional(),
  /** Who may approve or reject (from the registry). */
  approvers: z.array(z.string().trim().min(1).max(64)).max(50).optional(),
  invoiceTypes: z.array(z.number().int()).optional(),
  batchSize: z.number().int().min(1).max(2000).optional(),
  poolFilter: PoolFilter.optional(),
  outageLimitHours: MonthlyDeductionInput.shape.outageLimitHours,
  /** 'signed': only verified signed decisions (registry option decisionPolicy); absent: unsigned. */
  decisionPolicy: DecisionPolicy.optional(),
  /** Approver notices and reminders (registry option reminderHoursBeforeDeadline). */
  notifications: MonthlyDeductionInput.shape.notifications,
  /**
   * Candidate source (registry option candidateSource). An invoices file comes by hand each month:
   * a launcher run for such a taxpayer (its schedule is kept paused) starts nothing and fails saying so.
   */
  candidateSource: z
    .object({ kind: z.enum(['sandbox-pool', 'bureau-download', 'invoices-file']) })
    .strict()
    .optional(),
});
export type LauncherInput = z.infer<typeof LauncherInput>;

/** Temporal statuses of a month that ended without completing: `retry` resumes them (client/retryMonth.ts). */
export const RETRYABLE_STATUSES = ['FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT'] as const;
export type RetryableStatus = (typeof RETRYABLE_STATUSES)[number];

export function isRetryableStatus(status: string | undefined): status is RetryableStatus {
  return (RETRYABLE_STATUSES as readonly string[]).includes(status ?? '');
}

/** The operator command that resumes a month that ended without completing. */
export function retryCommand(taxNo: string, taxPeriod: string): string {
  return `npm run cli -- retry --tax-no ${taxNo} --period ${taxPeriod}`;
}

export interface LauncherResult {
  workflowId: string;
  taxPeriod: string;
  /** The instant the period was derived from (the schedule's nominal time). */
  scheduledTime: string;
  /** False when the taxpayer-month already had its workflow: nothing new was started. */
  started: boolean;
  /**
   * When nothing was started: the Temporal status of the month's latest run as the worker found it
   * (RUNNING, COMPLETED, FAILED, CANCELLED, ...). Absent for launcher runs recorded before it existed.
   */
  existingStatus?: string;
  /** When that run ended without completing (RETRYABLE_STATUSES): the command that resumes it. */
  hint?: string;
}
