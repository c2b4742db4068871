import { ApplicationFailure, ParentClosePolicy, startChild, workflowInfo } from '@temporalio/workflow';
import {
  defineSearchAttributeKey,
  SearchAttributeType,
  WorkflowExecutionAlreadyStartedError,
} from '@temporalio/common';
import { describeZodError } from '../protocol/interfaces.js';
import { likelyCurrentPeriod } from '../protocol/period.js';
import {
  DeductionStageSearchAttribute,
  deductionWorkflowId,
  Stage,
  TaxNoSearchAttribute,
  TaxPeriodSearchAttribute,
} from './contract.js';
import { LauncherInput, type LauncherResult } from './launcherContract.js';
import type { MonthlyDeductionWorkflow } from './monthlyDeduction.js';

/** Set by the Temporal server on every scheduled run: the nominal time, also for backfills. */
const ScheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/**
 * Started by the taxpayer's Temporal Schedule: derives the period from the scheduled time in
 * Asia/Shanghai and starts the month's deduction once (REJECT_DUPLICATE); the deduction outlives
 * the launcher (ABANDON). A second trigger for the same month is a no-op that reports so.
 */
export async function ScheduledDeductionLauncher(rawInput: LauncherInput): Promise<LauncherResult> {
  const parsed = LauncherInput.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`Invalid launcher input: ${describeZodError(parsed.error)}`, 'InvalidInput');
  }
  const { taxNo, approvers, invoiceTypes, batchSize, poolFilter, notifications, candidateSource } = parsed.data;
  if (candidateSource?.kind === 'invoices-file') {
    throw ApplicationFailure.nonRetryable(
      `${taxNo} takes its candidates from an invoices file: start the month with \`start --tax-no ${taxNo} --invoices-file <file>\``,
      'InvoicesFileNeeded',
    );
  }
  const info = workflowInfo();
  const scheduled = info.typedSearchAttributes.get(ScheduledStartTime) ?? info.runStartTime;
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
          ...(approvers ? { approvers } : {}),
          ...(invoiceTypes ? { invoiceTypes } : {}),
          ...(batchSize ? { batchSize } : {}),
          ...(poolFilter ? { poolFilter } : {}),
          ...(notifications ? { notifications } : {}),
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
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { ...result, started: false };
    throw err;
  }
}
