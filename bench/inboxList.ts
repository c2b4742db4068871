/**
 * The inbox's list of months awaiting approval with many of them: latency of the logged-in list
 * page over real HTTP, and the Temporal calls (gRPC requests) it makes per page.
 * `tsx bench/inboxList.ts [--months=2000] [--requests=30] [--intervalMs=500]`
 *
 * Measured twice: as the inbox runs (the waiting months and the history shared by every request
 * for 5 s, refreshed in the background), and with that cache off (listCacheMs 0: every page
 * scans visibility), which is the cost of one scan.
 *
 * The pending months are workflows of the deduction type started on a task queue no worker polls,
 * with the search attributes and memo a real month upserts when it enters AWAITING_APPROVAL: the
 * list reads visibility only, so this is what it sees of real months, at a fraction of the cost.
 */
import type { Client } from '@temporalio/client';
import { fileURLToPath } from 'node:url';
import { PENDING_LIST_QUERY, PENDING_PAGE_SIZE } from '../inbox/data.js';
import { Stage } from '../workflows/contract.js';
import { formatFigures, info, numericArgs, type Figure } from './figures.js';
import { benchMemo, measureInboxPage, pageTimingFigures, startIdleMonths, type PageBenchResult } from './inboxPages.js';

export interface InboxListOptions {
  months: number;
  /** Timed requests of the list page (after one warm-up request). */
  requests: number;
  /** Time between the starts of two requests (as approvers opening the page now and then). */
  intervalMs: number;
}

export interface InboxListResult extends PageBenchResult {
  months: number;
  /** Rows on the page: the approver's months plus the read-only ones of others. */
  rows: number;
}

/**
 * Starts one month per taxNo awaiting approval as visibility would show it: deadlines spread over
 * the next 10 days, totals in the memo, one in 10 with a planned-vs-bureau difference.
 */
export async function startPendingMonths(client: Client, taxNos: string[], now = new Date()): Promise<void> {
  await startIdleMonths(client, taxNos, (i) => ({
    stage: Stage.AwaitingApproval,
    deadline: new Date(now.getTime() + ((i * 7919) % 240) * 3600_000),
    memo: benchMemo(i, { plannedAgreesWithBureau: i % 10 !== 0, failedInvoices: i % 7 === 0 ? 2 : 0 }),
  }));
}

export async function measureInboxList(o: InboxListOptions): Promise<InboxListResult> {
  let rows = 0;
  const r = await measureInboxPage({
    name: 'inbox',
    ...o,
    seed: startPendingMonths,
    listedQuery: PENDING_LIST_QUERY,
    path: '/',
    inspect: (body) => {
      rows = body.match(/<tr class="pending-row/g)?.length ?? 0;
    },
  });
  return { ...r, months: o.months, rows };
}

export function inboxListFigures(o: InboxListOptions, r: InboxListResult): Figure[] {
  // One scan: the pending list's visibility pages (one more when the last page is full) and one
  // list of closed months for the decision history.
  const scanCalls = Math.floor(o.months / PENDING_PAGE_SIZE) + 2;
  return [
    info('pending months (started, listed by visibility)', r.months, '', `${(r.seedMs / 1000).toFixed(1)} s to create`),
    info('rows on the list page', r.rows, '', `${r.pageKiB.toFixed(0)} KiB of HTML`),
    ...pageTimingFigures('list page', r, scanCalls, o),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const o = numericArgs({ months: 2000, requests: 30, intervalMs: 500 });
  console.log(
    formatFigures(`Inbox list with ${o.months} pending months`, inboxListFigures(o, await measureInboxList(o))),
  );
  process.exit(0);
}
