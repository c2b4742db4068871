import {
  addMonths,
  defaultFilingDeadline,
  endOfShanghaiDay,
  shanghaiMonth,
  shanghaiParts,
} from '../../protocol/period.js';

/** When the bureau rolls period P over: the end (Shanghai) of P's default filing deadline day. */
export function rolloverInstant(period: string): number {
  return endOfShanghaiDay(defaultFilingDeadline(period)).getTime();
}

/**
 * The rollover that ends a period set at `at`. A period set after its own deadline (changed back
 * for late filing, or seeded that way) stays open until the next bureau deadline after `at`.
 */
export function nextRolloverAt(period: string, at: number): number {
  const own = rolloverInstant(period);
  if (own > at) return own;
  let p = addMonths(shanghaiMonth(new Date(at)), -1);
  while (rolloverInstant(p) <= at) p = addMonths(p, 1);
  return rolloverInstant(p);
}

/** The deadline day (YYYY-MM-DD) a rollover instant ends. */
export function deadlineDay(rolloverAt: number): string {
  return shanghaiParts(new Date(rolloverAt - 1)).iso;
}

/** A statistic generated outside P's own month or P+1 up to the deadline is 03. */
export function insideFilingWindow(period: string, at: number): boolean {
  const month = shanghaiMonth(new Date(at));
  return month === period || (month === addMonths(period, 1) && at < rolloverInstant(period));
}

/** 'YYYY-MM-DD HH:mm:ss' in Shanghai time. */
export function formatShanghaiTime(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}
