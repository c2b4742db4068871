import { ApplicationFailure } from '@temporalio/workflow';
import { FailureType } from '../../protocol/failureTypes.js';
import type { StatisticQueryReply } from '../../protocol/interfaces.js';
import { sumMoney } from '../../protocol/money.js';
import { checkPlanAgainstBureau, compareCategories } from '../../rules/plannedVersusBureau.js';
import { statisticTotals } from '../../rules/statisticPlan.js';
import type { SelectionTally } from '../contract.js';
import type { Month } from './month.js';

/**
 * The bureau's table must count what the month selected: a wrong guess about the protocol (the
 * select flag above all) stops the month, before anyone approves or confirms it.
 */
export function checkTableAgainstPlan(month: Month, statistic: StatisticQueryReply, tally: SelectionTally): void {
  const totals = statisticTotals(statistic);
  const planned = plannedFigures(tally);
  const bureau = { count: totals.deductibleCount, tax: totals.deductibleTax };
  const check = checkPlanAgainstBureau({ planned, bureau, failed: tally.failed });
  // Per category only where the plan knows every selected invoice's category.
  const knowsCategories =
    tally.candidatesByCategory !== undefined &&
    tally.failed === 0 &&
    (tally.outstandingRetries ?? 0) === 0 &&
    (tally.alreadySelectedInSource?.count ?? 0) === 0;
  const byCategory = knowsCategories
    ? compareCategories(tally.candidatesByCategory!, statistic.items, (tally.uncategorisedCandidates ?? 0) === 0)
    : undefined;
  const problems = [...(check.problem ? [check.problem] : []), ...(byCategory?.problems ?? [])];
  month.progress.plannedVersusBureau = {
    planned: planned.tax !== undefined ? planned : { count: planned.count },
    bureau,
    ...(byCategory ? { categories: byCategory.rows } : {}),
    agrees: problems.length === 0,
  };
  month.publish();
  if (problems.length > 0) {
    throw ApplicationFailure.nonRetryable(
      `Stopped before approval: ${problems.join('; ')}. Nothing was confirmed.`,
      FailureType.BureauDisagreesWithPlan,
    );
  }
}

/** What the month meant to have selected: what the bureau answered selected, and what it found selected. */
export function plannedFigures(tally: SelectionTally): { count: number; tax: string | undefined } {
  const elsewhere = tally.alreadySelectedInSource ?? { count: 0, tax: '0.00' };
  return {
    count: tally.selected + tally.alreadySelected + elsewhere.count,
    tax:
      tally.selectedTax !== undefined && elsewhere.tax !== undefined
        ? sumMoney([tally.selectedTax, elsewhere.tax])
        : undefined,
  };
}
