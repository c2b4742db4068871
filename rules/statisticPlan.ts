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
  | 'nothing-to-deduct'
  | 'unknown-status';

export function planStatistic(status: string, selectedCount: number): StatisticStep {
  switch (status) {
    case StatisticStatus.Confirmed:
      return 'already-confirmed';
    case StatisticStatus.Generating:
      return 'wait-while-generating';
    // Generated; confirmable now (02) or not yet (04, e.g. before the period's month has ended):
    // either way a person can check it, and confirmation waits until the bureau allows it.
    case StatisticStatus.Generated:
    case StatisticStatus.GeneratedNotConfirmable:
      return 'ready-for-approval';
    // Generated outside the filing window: the bureau needs it revoked and generated again.
    case StatisticStatus.GeneratedOutsideWindow:
      return 'revoke-then-generate';
    case StatisticStatus.NotGenerated:
    case StatisticStatus.NothingSelected:
      return selectedCount === 0 ? 'nothing-to-deduct' : 'generate';
    // 23 转登记, 24 认证中, 25 预统计 and anything new: no guess, the month stops and says so.
    default:
      return 'unknown-status';
  }
}

/** A generated statistic locks selection (result code 20) until it is revoked (docs/protocol.md). */
export function statisticLocksSelection(status: string): boolean {
  return (
    status === StatisticStatus.Generated ||
    status === StatisticStatus.GeneratedNotConfirmable ||
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

/**
 * The table's totals: the bureau's own total row when it sent one (categories do not cover every
 * invoice type), else the sum of the category rows.
 */
export function statisticTotals(statistic: {
  items: readonly StatisticItem[];
  total?: StatisticItem | undefined;
}): StatisticTotals {
  const rows = statistic.total ? [statistic.total] : statistic.items;
  return {
    deductibleCount: rows.reduce((n, i) => n + i.deductibleCount, 0),
    deductibleAmount: sumMoney(rows.map((i) => i.deductibleAmount)),
    deductibleTax: sumMoney(rows.map((i) => i.deductibleTax)),
    notDeductibleCount: rows.reduce((n, i) => n + i.notDeductibleCount, 0),
  };
}
