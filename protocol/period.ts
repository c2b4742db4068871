import { z } from 'zod';

/** The bureau's time zone: every date that matters for a tax rule is read in it. */
export const BUREAU_TIME_ZONE = 'Asia/Shanghai';
const SHANGHAI_OFFSET_MS = 8 * 3600_000; // China has no daylight saving time.

/** A tax period (税款所属期) as YYYYMM. */
export const TaxPeriod = z
  .string()
  .regex(/^\d{6}$/, 'tax period must be YYYYMM')
  .refine((v) => {
    const month = Number(v.slice(4));
    const year = Number(v.slice(0, 4));
    return month >= 1 && month <= 12 && year >= 2000 && year <= 2099;
  }, 'tax period must be YYYYMM with a month 01-12 and a year 2000-2099');

/** A calendar date as YYYY-MM-DD. */
export const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'date must be YYYY-MM-DD');

export function addMonths(period: string, months: number): string {
  const index = Number(period.slice(0, 4)) * 12 + Number(period.slice(4)) - 1 + months;
  return `${Math.floor(index / 12)}${String((index % 12) + 1).padStart(2, '0')}`;
}

/** The Shanghai calendar date and time parts of an instant. */
export function shanghaiParts(instant: Date): { year: number; month: number; day: number; iso: string } {
  const shifted = new Date(instant.getTime() + SHANGHAI_OFFSET_MS);
  const iso = shifted.toISOString().slice(0, 10);
  return {
    year: shifted.getUTCFullYear(),
    month: shifted.getUTCMonth() + 1,
    day: shifted.getUTCDate(),
    iso,
  };
}

/** The calendar month (YYYYMM) an instant falls in, in Shanghai. */
export function shanghaiMonth(instant: Date): string {
  const p = shanghaiParts(instant);
  return `${p.year}${String(p.month).padStart(2, '0')}`;
}

/** Last calendar day (YYYY-MM-DD) of a period. */
export function lastDayOfPeriod(period: string): string {
  const year = Number(period.slice(0, 4));
  const month = Number(period.slice(4));
  const day = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${period.slice(0, 4)}-${period.slice(4)}-${String(day).padStart(2, '0')}`;
}

/** Default filing deadline of a period: the 15th of the next month (the bureau may extend it). */
export function defaultFilingDeadline(period: string): string {
  const next = addMonths(period, 1);
  return `${next.slice(0, 4)}-${next.slice(4)}-15`;
}

/** The instant at which a Shanghai calendar day ends (next midnight, Shanghai time). */
export function endOfShanghaiDay(isoDate: string): Date {
  return new Date(Date.parse(`${isoDate}T00:00:00+08:00`) + 86_400_000);
}

/** The instant a Shanghai wall-clock date and time denotes. */
export function shanghaiInstant(isoDate: string, time = '00:00:00'): Date {
  return new Date(`${isoDate}T${time}+08:00`);
}

/**
 * The period a taxpayer most likely selects for at `instant`: until the default filing deadline
 * (the 15th) the previous month is still open; after it, the current month. The bureau's answer
 * to taxperiodQuery is authoritative; this only names a workflow before the bureau is asked.
 */
export function likelyCurrentPeriod(instant: Date): string {
  const parts = shanghaiParts(instant);
  const month = shanghaiMonth(instant);
  return parts.day <= 15 ? addMonths(month, -1) : month;
}

/** An instant as a person in China reads it: "2026-12-15 00:00 北京时间". */
export function formatShanghaiTime(instant: Date | string): string {
  const date = typeof instant === 'string' ? new Date(instant) : instant;
  if (Number.isNaN(date.getTime())) return String(instant);
  const shifted = new Date(date.getTime() + SHANGHAI_OFFSET_MS).toISOString();
  return `${shifted.slice(0, 10)} ${shifted.slice(11, 16)} 北京时间`;
}
