import { sumMoney } from '../protocol/money.js';
import { StatisticStatus } from '../protocol/codes.js';
import type { StatisticItem } from '../protocol/interfaces.js';

/** What to do with the statistic table (统计表) given its status and what is selected. */
export type StatisticStep =
  | 'generate'
  | 'revoke-then-generate'
  | 'wait-while-generating'
  | 'ready-for-approval'
  | 'already-confirmed'
  | 'nothing-to-deduct';

export function planStatistic(status: string, selectedCount: number): StatisticStep {
  switch (status) {
    case StatisticStatus.Confirmed:
      return 'already-confirmed';
    case StatisticStatus.Generating:
      return 'wait-while-generating';
    case StatisticStatus.Generated:
      return 'ready-for-approval';
    // Generated outside the filing window: the bureau needs it revoked and generated again.
    case StatisticStatus.GeneratedOutsideWindow:
      return 'revoke-then-generate';
    default:
      return selectedCount === 0 ? 'nothing-to-deduct' : 'generate';
  }
}

/** A generated statistic locks selection (result code 20) until it is revoked (DESIGN.md §4). */
export function statisticLocksSelection(status: string): boolean {
  return (
    status === StatisticStatus.Generated ||
    status === StatisticStatus.Generating ||
    status === StatisticStatus.GeneratedOutsideWindow
  );
}

export interface StatisticTotals {
  deductibleCount: number;
  deductibleAmount: string;
  deductibleTax: string;
  notDeductibleCount: number;
}

export function statisticTotals(items: readonly StatisticItem[]): StatisticTotals {
  return {
    deductibleCount: items.reduce((n, i) => n + i.deductibleCount, 0),
    deductibleAmount: sumMoney(items.map((i) => i.deductibleAmount)),
    deductibleTax: sumMoney(items.map((i) => i.deductibleTax)),
    notDeductibleCount: items.reduce((n, i) => n + i.notDeductibleCount, 0),
  };
}
