import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  log,
  patched,
  TemporalFailure,
} from '@temporalio/workflow';
import { FailureType } from '../../protocol/failureTypes.js';
import { describeStatisticStatus } from '../../protocol/codes.js';
import { type Decision, type MonthlyDeductionResult, Stage } from '../contract.js';
import { notifyApprovers } from './approverNotices.js';
import { failureMessage } from './failureMessage.js';
import { type Month, summarize } from './month.js';

/** A confirmed month: the approvers hear who approved it, then it ends COMPLETED. */
export async function endConfirmed(
  month: Month,
  decision: Decision,
  confirmedAt: string,
  periodAfterChange: string | undefined,
): Promise<MonthlyDeductionResult> {
  if (month.input.notifications && patched('notice-confirmed')) {
    await notifyApprovers(month, month.input.notifications, 'confirmed', undefined, { decidedBy: decision.approver });
  }
  await condition(allHandlersFinished);
  return month.finish('COMPLETED', `Confirmed for ${month.taxPeriod}, approved by ${decision.approver}.`, {
    confirmedAt,
    periodAfterChange,
  });
}

/**
 * A month that stopped on a failure ends FAILED with the reason on record. Anything but a Temporal
 * failure is a bug in this code: rethrown as it is, it fails the workflow task, which Temporal
 * retries, so a fixed worker carries the month on.
 */
export async function endFailed(month: Month, error: unknown): Promise<never> {
  if (!(error instanceof TemporalFailure)) throw error;
  const { progress, taxNo, taxPeriod } = month;
  progress.lastBureauError = failureMessage(error);
  month.enterStage(Stage.Failed);
  if (month.input.notifications && patched('notice-failed')) {
    const reason = progress.lastBureauError.slice(0, 1000);
    await notifyApprovers(month, month.input.notifications, 'failed', undefined, { reason });
  }
  // An Update waiting for its outcome answers that the month failed (no command: replay-safe).
  await condition(allHandlersFinished);
  throw ApplicationFailure.nonRetryable(
    `Deduction for ${taxNo} ${taxPeriod} failed: ${progress.lastBureauError}`,
    FailureType.DeductionFailed,
  );
}

/**
 * A cancelled month ends CANCELED with what the bureau was left with on record: the table, read
 * once outside the cancelled scope, and a write that was being sent and may still land.
 */
export async function endCancelled(month: Month): Promise<void> {
  const { progress, taxNo, taxPeriod } = month;
  try {
    const statistic = await CancellationScope.nonCancellable(() =>
      month.afterCancel.queryStatistic.executeWithOptions({ summary: '取消后查询统计 query statistic after cancel' }, [
        { taxNo },
      ]),
    );
    progress.statistic = summarize(statistic);
  } catch (error) {
    log.warn('The bureau could not be read after the cancellation', {
      taxNo,
      taxPeriod,
      error: failureMessage(error),
    });
  }
  const status = progress.statistic?.statisticStatus;
  const table =
    status === undefined
      ? 'unknown: the bureau could not be read'
      : `statistic ${status} ${describeStatisticStatus(status) || '(status not documented)'}`;
  progress.leftAtBureau = month.writeInFlight
    ? `${table}; a ${month.writeInFlight} request was being sent and may still land`
    : table;
  month.enterStage(Stage.Canceled);
}
