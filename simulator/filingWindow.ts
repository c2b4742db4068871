import { addMonths, defaultFilingDeadline, shanghaiMonth, TaxPeriod } from '../protocol/period.js';

/**
 * A sandbox scenario inside the filing window of the period that contains `day`: the sandbox
 * clock sits on the 5th of the following month at 10:00 Beijing time, when that period's month
 * has ended (confirmation is open) and selection stays open until its deadline (the 15th).
 *
 * Because the period is the one *containing* `day`, its deadline is always at least two weeks
 * after `day`: months started on the real clock never expire before a test or a demo is done,
 * whatever the date (see docs/testing.md).
 */
export interface FilingWindow {
  /** The tax period (YYYYMM) the scenario deducts for. */
  period: string;
  /** The sandbox clock, an ISO instant with the +08:00 offset. */
  sandboxNow: string;
  /** The period's default deduction deadline (YYYY-MM-DD, Beijing time). */
  deductionDeadline: string;
}

export function filingWindowContaining(day: Date): FilingWindow {
  return filingWindowOf(shanghaiMonth(day));
}

export function filingWindowOf(period: string): FilingWindow {
  TaxPeriod.parse(period);
  const next = addMonths(period, 1);
  const sandboxNow = `${next.slice(0, 4)}-${next.slice(4)}-05T10:00:00+08:00`;
  return { period, sandboxNow, deductionDeadline: defaultFilingDeadline(period) };
}
