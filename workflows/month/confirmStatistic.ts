import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import { FailureType } from '../../protocol/failureTypes.js';
import type { BureauPeriod, DeductionActivities } from '../../activities/deductionActivities.js';
import { endOfShanghaiDay } from '../../protocol/period.js';
import { statisticItemsDigest } from '../../rules/statisticDigest.js';
import { Stage } from '../contract.js';
import { FINAL_FAILURE_TYPES } from '../activityOptions.js';
import type { Month } from './month.js';

/**
 * Step 9 (4.10, 4.11): confirm the approved table; the bureau refuses until the period's month has
 * ended, so a refusal as too early is retried up to the deduction deadline. Answers the time the
 * bureau confirmed it.
 */
export async function confirmStatistic(month: Month, period: BureauPeriod): Promise<string> {
  const { progress, taxNo, taxPeriod } = month;
  month.enterStage(Stage.Confirming);
  const confirmer = proxyActivities<DeductionActivities>(
    month.tenantQueue({
      startToCloseTimeout: '1 minute',
      scheduleToCloseTimeout: Math.max(endOfShanghaiDay(period.deductionDeadline).getTime() - Date.now(), 60_000),
      retry: {
        initialInterval: '5s',
        backoffCoefficient: 2,
        maximumInterval: '30 minutes',
        nonRetryableErrorTypes: FINAL_FAILURE_TYPES,
      },
    }),
  );
  // The table approved: the bureau's must still be it when it is confirmed.
  const approvedTable = progress.statistic
    ? { digest: progress.statistic.digest, items: statisticItemsDigest(progress.statistic.items) }
    : undefined;
  const { taskNo: confirmTaskNo } = await month.writing('statistic confirmation', () =>
    confirmer.requestConfirmation.executeWithOptions({ summary: '确认统计表 confirm statistic' }, [
      { taxNo, ...(approvedTable ? { approved: approvedTable } : {}) },
    ]),
  );
  const confirmation = await month.poll.awaitConfirmation.executeWithOptions(
    { summary: `确认结果 await confirm task ${confirmTaskNo}` },
    [{ taxNo, taskNo: confirmTaskNo }],
  );
  if (!confirmation.success) {
    throw ApplicationFailure.nonRetryable(
      `The bureau did not confirm the statistic for ${taxNo} ${taxPeriod}: ${confirmation.resultMsg}`,
      FailureType.Business,
    );
  }
  await month.refreshStatistic();
  return confirmation.confirmTime;
}
