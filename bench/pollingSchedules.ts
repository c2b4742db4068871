/**
 * The polling schedules on paper: when a Temporal retry schedule queries a task of a given
 * latency, the lag and the number of queries, exactly and at worst within ±10 % of the latency;
 * and a search showing whether any single geometric schedule meets every target.
 * `tsx bench/pollingSchedules.ts`
 */
import { fileURLToPath } from 'node:url';
import { MonthlyDeductionInput, pollingForExpectedTaskMs } from '../workflows/contract.js';
import { atMost, formatFigures, info, type Figure } from './figures.js';
import { NOTICE_CASES } from './timeToNotice.js';

export interface Schedule {
  initialIntervalMs: number;
  maximumIntervalMs: number;
  backoffCoefficient: number;
}

/** Query times (ms after the first, which is at 0) of a retry schedule, up to `untilMs`. */
export function queryTimes(s: Schedule, untilMs: number): number[] {
  const times = [0];
  for (let t = 0, interval = s.initialIntervalMs; t < untilMs;) {
    t += interval;
    times.push(t);
    interval = Math.min(interval * s.backoffCoefficient, s.maximumIntervalMs);
  }
  return times;
}

/** Lag and queries for a task ready `readyMs` after the first query. */
export function notice(s: Schedule, readyMs: number): { lagMs: number; queries: number } {
  const times = queryTimes(s, readyMs + s.maximumIntervalMs + 1);
  const k = times.findIndex((t) => t >= readyMs);
  return { lagMs: times[k]! - readyMs, queries: k + 1 };
}

/** The worst lag and queries for tasks ready anywhere in [low, high]. */
export function worstNotice(s: Schedule, lowMs: number, highMs: number): { lagMs: number; queries: number } {
  let lagMs = 0;
  let queries = 0;
  for (let t = lowMs; t <= highMs; t += (highMs - lowMs) / 1000 || 1) {
    const n = notice(s, t);
    lagMs = Math.max(lagMs, n.lagMs);
    queries = Math.max(queries, n.queries);
  }
  return { lagMs, queries };
}

function meetsAll(s: Schedule, spread: number): boolean {
  return NOTICE_CASES.every((c) => {
    const w = worstNotice(s, c.latencyMs * (1 - spread), c.latencyMs * (1 + spread));
    return w.lagMs <= c.lagTargetMs && w.queries <= c.queryTarget;
  });
}

/** Geometric schedules (I 0.25-3 s, b 1.05-2, M 5-60 s) meeting every target within ±spread. */
export function schedulesMeetingAll(spread = 0.1): Schedule[] {
  const found: Schedule[] = [];
  for (let i = 250; i <= 3000; i += 250)
    for (let b = 1.05; b <= 2.001; b += 0.05)
      for (let m = 5000; m <= 60_000; m += 5000) {
        const s = { initialIntervalMs: i, maximumIntervalMs: m, backoffCoefficient: b };
        if (meetsAll(s, spread)) found.push(s);
      }
  return found;
}

export function pollingScheduleFigures(): Figure[] {
  const defaults = MonthlyDeductionInput.parse({ taxNo: '91440300591872133B', taxPeriod: '202611' }).polling;
  const previous = { initialIntervalMs: 1000, maximumIntervalMs: 60_000, backoffCoefficient: 1.5 };
  const figures: Figure[] = [];
  for (const c of NOTICE_CASES) {
    const label = c.latencyMs >= 60_000 ? `${c.latencyMs / 60_000} min` : `${c.latencyMs / 1000} s`;
    const schedules: [string, Schedule][] = [
      ['previous default 1 s x1.5 max 60 s', previous],
      ['default', defaults],
      ['pollingForExpectedTaskMs', pollingForExpectedTaskMs(c.latencyMs)],
    ];
    for (const [name, s] of schedules) {
      const w = worstNotice(s, c.latencyMs * 0.9, c.latencyMs * 1.1);
      figures.push(atMost(`${label} task ±10 %, ${name}: worst lag`, w.lagMs / 1000, c.lagTargetMs / 1000, 's'));
      figures.push(atMost(`${label} task ±10 %, ${name}: worst queries`, w.queries, c.queryTarget, ''));
    }
  }
  figures.push(
    info('Single geometric schedules meeting all three targets within ±10 %', schedulesMeetingAll(0.1).length, ''),
  );
  return figures;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(formatFigures('Polling schedules on paper', pollingScheduleFigures()));
}
