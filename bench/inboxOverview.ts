/**
 * The inbox's period overview with many months: latency of `/overview?period=` over real HTTP and
 * the Temporal calls (gRPC requests) it makes per page.
 * `tsx bench/inboxOverview.ts [--months=2000] [--requests=30] [--intervalMs=500]`
 *
 * The months are workflows of the deduction type started on a task queue no worker polls, with the
 * search attributes and approval memo real months carry, their DeductionStage spread over the
 * stages (the overview reads visibility only, as bench/inboxList.ts explains). Measured as the inbox
 * runs (one scan per period shared for 5 s) and with that cache off (a scan per page).
 */
import type { Client } from '@temporalio/client';
import { fileURLToPath } from 'node:url';
import { PERIOD_PAGE_SIZE, periodListQuery, type PeriodOverview } from '../inbox/overview.js';
import { Stage } from '../workflows/contract.js';
import { atMost, formatFigures, info, numericArgs, type Figure } from './figures.js';
import {
  approverDecides,
  benchMemo,
  measureInboxPage,
  pageTimingFigures,
  startIdleMonths,
  type PageBenchResult,
} from './inboxPages.js';
import { PERIOD } from './stack.js';

/** The stage of month i: 40 % completed, 25 % waiting, 15 % selecting, 10 % rejected, 5 % expired, 5 % failed. */
export function benchStage(i: number): Stage {
  const slot = i % 20;
  if (slot < 8) return Stage.Completed;
  if (slot < 13) return Stage.AwaitingApproval;
  if (slot < 16) return Stage.Selecting;
  if (slot < 18) return Stage.Rejected;
  return slot < 19 ? Stage.Expired : Stage.Failed;
}

/** Starts one month per taxNo as visibility shows it in benchStage(i), with totals once it had a table. */
export async function startPeriodMonths(client: Client, taxNos: string[], now = new Date()): Promise<void> {
  await startIdleMonths(client, taxNos, (i) => {
    const stage = benchStage(i);
    if (stage === Stage.Selecting || stage === Stage.Failed) return { stage };
    // Expired months' deadlines lie behind; the others' ahead.
    const deadlineHours = stage === Stage.Expired ? -24 : ((i * 7919) % 240) + 1;
    return {
      stage,
      deadline: new Date(now.getTime() + deadlineHours * 3600_000),
      memo: benchMemo(i, { plannedAgreesWithBureau: true, failedInvoices: 0 }),
    };
  });
}

export interface InboxOverviewOptions {
  months: number;
  requests: number;
  intervalMs: number;
}

export interface InboxOverviewResult extends PageBenchResult {
  months: number;
  /** Months the approver may see, as the page counts them. */
  counted: number;
  /** What the bench expects the approver to see. */
  expected: number;
}

export async function measureInboxOverview(o: InboxOverviewOptions): Promise<InboxOverviewResult> {
  let counted = 0;
  const r = await measureInboxPage({
    name: 'overview',
    ...o,
    seed: startPeriodMonths,
    listedQuery: periodListQuery(PERIOD),
    path: `/overview?period=${PERIOD}`,
    inspect: async (_body, base, cookie) => {
      const api = await fetch(`${base}/api/overview?period=${PERIOD}`, { headers: { cookie } });
      counted = ((await api.json()) as PeriodOverview).months;
    },
  });
  const expected = Array.from({ length: o.months }, (_, i) => i).filter(approverDecides).length;
  return { ...r, months: o.months, counted, expected };
}

export function inboxOverviewFigures(o: InboxOverviewOptions, r: InboxOverviewResult): Figure[] {
  // One scan: the period's visibility pages (one more when the last page is full).
  const scanCalls = Math.floor(o.months / PERIOD_PAGE_SIZE) + 1;
  return [
    info(
      'months of the period (started, listed by visibility)',
      r.months,
      '',
      `${(r.seedMs / 1000).toFixed(1)} s to create`,
    ),
    atMost(
      'months the approver is shown, off by',
      Math.abs(r.counted - r.expected),
      0,
      '',
      `${r.counted} of ${r.expected} expected`,
    ),
    info('overview page size', r.pageKiB, 'KiB'),
    ...pageTimingFigures('overview page', r, scanCalls, o),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const o = numericArgs({ months: 2000, requests: 30, intervalMs: 500 });
  console.log(
    formatFigures(
      `Inbox period overview with ${o.months} months`,
      inboxOverviewFigures(o, await measureInboxOverview(o)),
    ),
  );
  process.exit(0);
}
