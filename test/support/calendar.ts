import { shanghaiInstant } from '../../protocol/period.js';
import { filingWindowContaining, type FilingWindow } from '../../simulator/filingWindow.js';

/**
 * The one date every test derives its periods, sandbox clocks and deadlines from: today, or the
 * day named by VAT_TEST_TODAY (YYYY-MM-DD, Beijing time). The override exists so the suite can be
 * run "as if" on another day (e.g. VAT_TEST_TODAY=2027-12-31 npm test); it is read here only, never
 * by the product. Workflow time stays the real clock, so the override may be any day from today on.
 */
export const TEST_TODAY_VARIABLE = 'VAT_TEST_TODAY';

export function testToday(env: NodeJS.ProcessEnv = process.env): Date {
  const raw = env[TEST_TODAY_VARIABLE];
  if (raw === undefined || raw === '') return new Date();
  const day = /^\d{4}-\d{2}-\d{2}$/.test(raw) ? shanghaiInstant(raw, '12:00:00') : new Date(Number.NaN);
  if (Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== raw) {
    throw new Error(`${TEST_TODAY_VARIABLE}=${raw}: must be a calendar date as YYYY-MM-DD`);
  }
  return day;
}

/** The filing window the tests run in (period, sandbox clock, deadline), derived from testToday(). */
export const TEST_WINDOW: FilingWindow = filingWindowContaining(testToday());
export const TEST_PERIOD = TEST_WINDOW.period;
export const SANDBOX_NOW = TEST_WINDOW.sandboxNow;
export const TEST_DEADLINE = TEST_WINDOW.deductionDeadline;

/** A Shanghai calendar date, read with the platform's time-zone database (not the product's code). */
export function shanghaiDate(instant: Date): { year: number; month: number; day: number } {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(instant);
  const part = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  return { year: part('year'), month: part('month'), day: part('day') };
}

/** YYYYMM of a year and a month that may run past December or before January. */
export function yyyymm(year: number, month: number): string {
  const index = year * 12 + (month - 1);
  return `${Math.floor(index / 12)}${String((index % 12) + 1).padStart(2, '0')}`;
}

/**
 * The period open for selection on a day, worked out independently of the product's code: up to
 * the 15th (Beijing) the previous month, after it the current one.
 */
export function periodOpenOn(instant: Date): string {
  const { year, month, day } = shanghaiDate(instant);
  return day <= 15 ? yyyymm(year, month - 1) : yyyymm(year, month);
}
