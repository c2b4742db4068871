import {
  ApplicationFailure,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { FailureType } from '../protocol/failureTypes.js';
import { describeZodError } from '../protocol/interfaces.js';
import { likelyCurrentPeriod } from '../protocol/period.js';
import {
  DeductionStageSearchAttribute,
  deductionWorkflowId,
  Stage,
  TaxNoSearchAttribute,
  TaxPeriodSearchAttribute,
} from './contract.js';
import { isRetryableStatus, LauncherInput, retryCommand, type LauncherResult } from './launcherContract.js';
import type { MonthlyDeductionWorkflow } from './monthlyDeduction.js';
import type { MonthLookupActivities } from '../activities/monthLookup.js';
import { scheduledStartTime } from './scheduledTime.js';

/** A read of Temporal's own state: quick, a few attempts, and never the launcher's failure. */
const lookup = proxyActivities<MonthLookupActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', maximumAttempts: 3 },
});

/**
 * Why a month that could not be started exists: its latest run's status, and for a run that ended
 * without completing the `retry` command that resumes it (logged as a warning too).
 */
async function existingMonth(
  workflowId: string,
  taxNo: string,
  taxPeriod: string,
): Promise<Pick<LauncherResult, 'existingStatus' | 'hint'>> {
  let existing;
  try {
    existing = await lookup.describeExistingMonth.executeWithOptions(
      { summary: `查询已有月份 describe existing month ${workflowId}` },
      [workflowId],
    );
  } catch (error) {
    log.warn('The existing month could not be described', {
      workflowId,
      error: error instanceof Error ? error.message : String(error),
    });
    return {};
  }
  if (!existing.found) return {};
  if (!isRetryableStatus(existing.status)) return { existingStatus: existing.status };
  const hint = retryCommand(taxNo, taxPeriod);
  log.warn(`The month already ran and ended ${existing.status}; nothing new was started. To resume it: ${hint}`, {
    workflowId,
    runId: existing.runId,
    existingStatus: existing.status,
    stage: existing.stage,
    hint,
  });
  return { existingStatus: existing.status, hint };
}

/**
 * Started by the taxpayer's Temporal Schedule: derives the period from the scheduled time in
 * Asia/Shanghai and starts the month's deduction once (REJECT_DUPLICATE); the deduction outlives
 * the launcher (ABANDON). A second trigger for the same month is a no-op that reports so, with the
 * existing run's status, and the `retry` command when that run ended without completing.
 */
export async function ScheduledDeductionLauncher(rawInput: LauncherInput): Promise<LauncherResult> {
  const parsed = LauncherInput.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `Invalid launcher input: ${describeZodError(parsed.error)}`,
      FailureType.InvalidInput,
    );
  }
  const {
    taxNo,
    approvers,
    invoiceTypes,
    batchSize,
    poolFilter,
    notifications,
    candidateSource,
    outageLimitHours,
    decisionPolicy,
    tenant,
  } = parsed.data;
  if (candidateSource?.kind === 'invoices-file') {
    throw ApplicationFailure.nonRetryable(
      `${taxNo} takes its candidates from an invoices file: start the month with \`start --tax-no ${taxNo} --invoices-file <file>\``,
      FailureType.InvoicesFileNeeded,
    );
  }
  const scheduled = scheduledStartTime() ?? workflowInfo().runStartTime;
  const taxPeriod = likelyCurrentPeriod(scheduled);
  const workflowId = deductionWorkflowId(taxNo, taxPeriod);
  const result = { workflowId, taxPeriod, scheduledTime: scheduled.toISOString() };
  try {
    await startChild<typeof MonthlyDeductionWorkflow>('MonthlyDeductionWorkflow', {
      workflowId,
      args: [
        {
          taxNo,
          taxPeriod,
          // Only when set: the child's input of launchers recorded before tenants stays as it was.
          ...(tenant ? { tenant } : {}),
          ...(approvers ? { approvers } : {}),
          ...(invoiceTypes ? { invoiceTypes } : {}),
          ...(batchSize ? { batchSize } : {}),
          ...(poolFilter ? { poolFilter } : {}),
          ...(outageLimitHours ? { outageLimitHours } : {}),
          ...(notifications ? { notifications } : {}),
          // Only when set: the child's input of launchers recorded before it stays as it was.
          ...(decisionPolicy ? { decisionPolicy } : {}),
          ...(candidateSource
            ? { candidateSource: { kind: candidateSource.kind as 'sandbox-pool' | 'bureau-download' } }
            : {}),
        },
      ],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: [
        { key: TaxNoSearchAttribute, value: taxNo },
        { key: TaxPeriodSearchAttribute, value: taxPeriod },
        { key: DeductionStageSearchAttribute, value: Stage.LoggingIn },
      ],
      staticSummary: `VAT input-invoice deduction 增值税进项抵扣勾选 ${taxNo} ${taxPeriod} (scheduled)`,
    });
    return { ...result, started: true };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    // Launcher runs recorded before the lookup existed replay without it (docs/versioning.md).
    if (!patched('launcher-existing-month')) return { ...result, started: false };
    return { ...result, started: false, ...(await existingMonth(workflowId, taxNo, taxPeriod)) };
  }
}
