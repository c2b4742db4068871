/**
 * `npm run bench`: every benchmark, one after another, each figure printed with its target.
 * Sizes are chosen to finish in about half an hour on a 2-core machine; each benchmark runs alone,
 * at full size, with its own command (BENCHMARKS.md).
 */
import { accountingScaleFigures, measureAccountingScale } from './accountingScale.js';
import { formatFigures, numericArgs, type Figure } from './figures.js';
import { runFleetQuota } from './fleetQuota.js';
import { runHistorySize } from './historySize.js';
import { inboxListFigures, measureInboxList } from './inboxList.js';
import { runParked } from './parked.js';
import { pollingScheduleFigures } from './pollingSchedules.js';
import { runScaling } from './scaling.js';
import { runStartup } from './startup.js';
import { runThroughput } from './throughput.js';
import { runTimeToNotice } from './timeToNotice.js';

const a = numericArgs({
  months: 100,
  parked: 1000,
  quietSeconds: 60,
  scalingMonths: 40,
  parkedHeapMiB: 300,
  inboxMonths: 2000,
  accountingInvoices: 21_000,
});
const sections: [string, () => Promise<Figure[]>][] = [
  ['Polling schedules on paper (time to notice, analytically)', () => Promise.resolve(pollingScheduleFigures())],
  ['Time to notice bureau results', () => runTimeToNotice()],
  [
    'Throughput at the API quota, against the plain-script baseline',
    () =>
      runThroughput({ months: a.months, invoices: 200, quota: 20, workers: 1, baseline: true, taskLatencyMs: 1000 }),
  ],
  [
    'One quota for the whole fleet (3 worker processes, then 1)',
    () =>
      runFleetQuota({
        months: 40,
        invoices: 200,
        quota: 12,
        workers: 3,
        single: true,
        control: false,
        taskLatencyMs: 1000,
      }),
  ],
  ['History size per workflow', () => runHistorySize()],
  ['Parked workflows', () => runParked(a.parked, a.quietSeconds)],
  [
    'Parked workflows, worker heap limited (smaller sticky cache)',
    () => runParked(a.parked, a.quietSeconds, a.parkedHeapMiB),
  ],
  ['Scaling: worker processes on one task queue', () => runScaling(a.scalingMonths, 200, 3)],
  ['Start-up', () => runStartup()],
  [
    'Inbox list of months awaiting approval',
    async () => {
      const o = { months: a.inboxMonths, requests: 30, intervalMs: 500 };
      return inboxListFigures(o, await measureInboxList(o));
    },
  ],
  [
    'Auto-accounting at scale (20,000 invoices in one run)',
    async () => {
      const o = { invoices: a.accountingInvoices, maxPerRun: 20_000, batchSize: 200 };
      return accountingScaleFigures(o, await measureAccountingScale(o));
    },
  ],
];
const report: string[] = [];
for (const [title, run] of sections) {
  const began = Date.now();
  try {
    const text = formatFigures(title, await run());
    report.push(text);
    console.log(`${text}\n  (${((Date.now() - began) / 1000).toFixed(0)} s)\n`);
  } catch (error) {
    const text = `== ${title}\n  FAILED: ${(error as Error).message}`;
    report.push(text);
    console.log(text);
    process.exitCode = 1;
  }
}
console.log(`\n${report.join('\n\n')}`);
process.exit(process.exitCode ?? 0);
