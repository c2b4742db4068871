import { ApplicationFailure, patched } from '@temporalio/workflow';
import { FailureType } from '../../protocol/failureTypes.js';
import { planStatistic, statisticTotals } from '../../rules/statisticPlan.js';
import { type MonthlyDeductionResult, type SelectionTally, Stage } from '../contract.js';
import { checkTableAgainstPlan, plannedFigures } from './checkTableAgainstPlan.js';
import type { Month } from './month.js';

const MAX_STATISTIC_ATTEMPTS = 3;

export interface GeneratedStatistic {
  /** Whether the month checks the bureau's table against what it selected (months recorded before did not). */
  checksPlan: boolean;
}

/**
 * Steps 5-7 (4.07-4.09): bring the statistic table to "generated", revoking and generating again
 * where the plan says so. A month with nothing to deduct, or already confirmed, ends here.
 */
export async function bringStatisticToGenerated(
  month: Month,
  tally: SelectionTally,
): Promise<GeneratedStatistic | { ended: MonthlyDeductionResult }> {
  const { taxNo, taxPeriod } = month;
  month.enterStage(Stage.GeneratingStatistic);
  let statistic = await month.refreshStatistic();
  // Months recorded before the plan check read "something selected" from the table alone.
  const checksPlan = patched('plan-vs-bureau');
  for (let attempt = 1; ; attempt++) {
    const totals = statisticTotals(statistic);
    const inTable = totals.deductibleCount + totals.notDeductibleCount;
    // What the month selected counts too: a table that shows nothing after a selection the bureau
    // answered "selected" is a wrong assumption to stop on, not "nothing to deduct".
    const selected = checksPlan ? Math.max(inTable, plannedFigures(tally).count) : inTable;
    const step = planStatistic(statistic.statisticStatus, selected);
    if (checksPlan && step === 'generate' && attempt > 1) checkTableAgainstPlan(month, statistic, tally);
    if (step === 'ready-for-approval') break;
    if (step === 'already-confirmed') {
      return { ended: month.finish('COMPLETED', `The statistic for ${taxPeriod} was already confirmed.`) };
    }
    if (step === 'nothing-to-deduct') {
      return {
        ended: month.finish('COMPLETED', `Nothing to deduct for ${taxNo} in ${taxPeriod}: no invoice selected.`),
      };
    }
    if (step === 'unknown-status') {
      throw ApplicationFailure.nonRetryable(
        `The statistic for ${taxNo} ${taxPeriod} has status ${statistic.statisticStatus}, which this product does not know; nothing more was done`,
        FailureType.UnknownStatisticStatus,
      );
    }
    if (attempt > MAX_STATISTIC_ATTEMPTS) {
      throw ApplicationFailure.nonRetryable(
        `The statistic for ${taxNo} ${taxPeriod} is still in status ${statistic.statisticStatus} after ${MAX_STATISTIC_ATTEMPTS} attempts`,
        FailureType.StatisticNotGenerated,
      );
    }
    if (step === 'revoke-then-generate') await month.runStatisticOperation('revoke');
    if (step === 'wait-while-generating') {
      await month.poll.awaitStatisticSettled.executeWithOptions({ summary: 'await statistic generation' }, [{ taxNo }]);
    } else {
      await month.runStatisticOperation('generate');
    }
    statistic = await month.refreshStatistic();
  }
  if (checksPlan) checkTableAgainstPlan(month, statistic, tally);
  return { checksPlan };
}
