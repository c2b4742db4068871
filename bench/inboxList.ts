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
import {
  Client,
  Connection,
  defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
  type ConnectionOptions,
} from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashPassword, writeAccountsFile } from '../inbox/accounts.js';
import { PENDING_LIST_QUERY, PENDING_PAGE_SIZE } from '../inbox/data.js';
import { buildInbox } from '../inbox/server.js';
import { fixedDirectory, type TaxpayerInfo } from '../inbox/taxpayers.js';
import { startDevServer, type DevServer } from '../scripts/devServer.js';
import {
  APPROVAL_MEMO_KEY,
  ApprovalDeadlineSearchAttribute,
  DeductionStageSearchAttribute,
  deductionWorkflowId,
  Stage,
  TaxNoSearchAttribute,
  TaxPeriodSearchAttribute,
  WORKFLOW_TYPE,
  type ApprovalMemo,
} from '../workflows/contract.js';
import { atMost, formatFigures, info, numericArgs, sleep, type Figure } from './figures.js';
import { benchTaxNos, PERIOD } from './stack.js';

type Interceptor = NonNullable<ConnectionOptions['interceptors']>[number];

const APPROVER = 'bench';
const PASSWORD = 'bench-approver-password-1';
/** No worker polls it: the months stay as started. */
const IDLE_TASK_QUEUE = 'inbox-bench-idle';

/** A client whose every gRPC request to Temporal is counted (the SDK's retries kept). */
export async function countingClient(
  address: string,
  namespace: string,
): Promise<{ client: Client; calls: string[]; close(): Promise<void> }> {
  const calls: string[] = [];
  const connection = await Connection.connect({
    address,
    interceptors: [
      (options, nextCall) => {
        calls.push(options.method_definition.path.split('/').pop() ?? '?');
        // Passing the call on unchanged is what an interceptor that only looks may return.
        return nextCall(options) as ReturnType<Interceptor>;
      },
      makeGrpcRetryInterceptor(defaultGrpcRetryOptions()),
    ],
  });
  return { client: new Client({ connection, namespace }), calls, close: () => connection.close() };
}

/**
 * Starts `count` months awaiting approval as visibility would show them: deadlines spread over
 * the next 10 days, totals in the memo, one in 10 with a planned-vs-bureau difference.
 */
export async function startPendingMonths(client: Client, taxNos: string[], now = new Date()): Promise<void> {
  let next = 0;
  const startOne = async (i: number) => {
    const taxNo = taxNos[i]!;
    const memo: ApprovalMemo = {
      deductibleCount: 10 + (i % 90),
      deductibleAmount: `${(1000 + i * 37.5).toFixed(2)}`,
      deductibleTax: `${(130 + i * 4.875).toFixed(2)}`,
      statisticDigest: (0x10000000 + i).toString(16),
      plannedAgreesWithBureau: i % 10 !== 0,
      failedInvoices: i % 7 === 0 ? 2 : 0,
    };
    await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: IDLE_TASK_QUEUE,
      workflowId: deductionWorkflowId(taxNo, PERIOD),
      args: [{ taxNo, taxPeriod: PERIOD }],
      typedSearchAttributes: [
        { key: TaxNoSearchAttribute, value: taxNo },
        { key: TaxPeriodSearchAttribute, value: PERIOD },
        { key: DeductionStageSearchAttribute, value: Stage.AwaitingApproval },
        { key: ApprovalDeadlineSearchAttribute, value: new Date(now.getTime() + ((i * 7919) % 240) * 3600_000) },
      ],
      memo: { [APPROVAL_MEMO_KEY]: memo },
    });
  };
  // A few starts at once: the dev server's SQLite takes them one at a time anyway.
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < taxNos.length) await startOne(next++);
    }),
  );
}

/** Waits until visibility lists every started month. */
async function waitForVisibility(client: Client, count: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { count: listed } = await client.workflow.count(PENDING_LIST_QUERY);
    if (listed >= count) return;
    if (Date.now() > deadline) throw new Error(`inbox bench: visibility lists ${listed} of ${count} months`);
    await sleep(200);
  }
}

/** Logs in through the login form like a browser (cookie, CSRF token, Origin); returns the cookie. */
export async function logIn(base: string, account: string, password: string): Promise<string> {
  const cookies = new Map<string, string>();
  const keep = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
  };
  const header = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const form = await fetch(`${base}/login`);
  keep(form);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  if (!csrf) throw new Error('inbox bench: no CSRF token on the login page');
  const response = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: header(), origin: base },
    body: new URLSearchParams({ _csrf: csrf, account, password }).toString(),
  });
  keep(response);
  if (response.status !== 303 || response.headers.get('location') !== '/') {
    throw new Error(`inbox bench: login answered ${response.status}: ${await response.text()}`);
  }
  return header();
}

export interface InboxListOptions {
  months: number;
  /** Timed requests of the list page (after one warm-up request). */
  requests: number;
  /** Time between the starts of two requests (as approvers opening the page now and then). */
  intervalMs: number;
}

export interface PageTimings {
  latenciesMs: number[];
  p50Ms: number;
  p95Ms: number;
  /** Temporal gRPC requests over the timed requests, by method. */
  calls: Record<string, number>;
  callsPerPage: number;
  /** The most calls one page made. */
  maxCallsPerPage: number;
}

export interface InboxListResult {
  months: number;
  /** Rows on the page: the approver's months plus the read-only ones of others. */
  rows: number;
  cached: PageTimings;
  uncached: PageTimings;
  pageKiB: number;
  seedMs: number;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Times `requests` GETs of `url` (after one warm-up request, handed to `warmUp`), one every
 * `intervalMs`, counting the Temporal calls each page caused (a background refresh it started
 * included).
 */
export async function timePage(
  url: string,
  cookie: string,
  o: { requests: number; intervalMs: number },
  calls: string[],
  warmUp: (body: string) => Promise<void> | void,
): Promise<PageTimings> {
  const latenciesMs: number[] = [];
  const byMethod: Record<string, number> = {};
  let maxCallsPerPage = 0;
  for (let i = 0; i <= o.requests; i++) {
    const before = calls.length;
    const t0 = performance.now();
    const response = await fetch(url, { headers: { cookie } });
    const body = await response.text();
    const ms = performance.now() - t0;
    if (response.status !== 200) throw new Error(`inbox bench: ${url} answered ${response.status}`);
    if (i === 0) {
      await warmUp(body);
      await sleep(o.intervalMs);
      continue;
    }
    latenciesMs.push(ms);
    await sleep(Math.max(0, o.intervalMs - ms));
    const made = calls.slice(before);
    maxCallsPerPage = Math.max(maxCallsPerPage, made.length);
    for (const c of made) byMethod[c] = (byMethod[c] ?? 0) + 1;
  }
  const total = Object.values(byMethod).reduce((a, b) => a + b, 0);
  return {
    latenciesMs,
    p50Ms: percentile(latenciesMs, 50),
    p95Ms: percentile(latenciesMs, 95),
    calls: byMethod,
    callsPerPage: total / latenciesMs.length,
    maxCallsPerPage,
  };
}

/** "3 ListWorkflowExecutions, 1 …": the calls of a page by method. */
export function callsByMethod(calls: Record<string, number>): string {
  return (
    Object.entries(calls)
      .map(([method, n]) => `${n} ${method}`)
      .join(', ') || 'none'
  );
}

export async function measureInboxList(o: InboxListOptions): Promise<InboxListResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vat-inbox-bench-'));
  let temporal: DevServer | undefined;
  let counting: Awaited<ReturnType<typeof countingClient>> | undefined;
  let inbox: FastifyInstance | undefined;
  try {
    temporal = await startDevServer({ headless: true, logFile: join(dataDir, 'temporal.log') });
    counting = await countingClient(temporal.address, temporal.namespace);
    const taxNos = benchTaxNos('inbox', o.months);
    const began = Date.now();
    await startPendingMonths(counting.client, taxNos);
    await waitForVisibility(counting.client, o.months);
    const seedMs = Date.now() - began;

    const accountsFile = join(dataDir, 'inbox-accounts.json');
    writeAccountsFile(accountsFile, {
      lockout: { maxFailedAttempts: 5, lockMinutes: 15 },
      accounts: [{ id: APPROVER, name: '基准审批人', passwordHash: await hashPassword(PASSWORD), disabled: false }],
    });
    // The approver decides 9 in 10 taxpayers; the rest are listed read-only.
    const directory: [string, TaxpayerInfo][] = taxNos.map((taxNo, i) => [
      taxNo,
      { name: `基准测试${i}有限公司`, approvers: i % 10 === 9 ? ['someone-else'] : [APPROVER] },
    ]);
    const taxpayers = fixedDirectory(directory);
    let rows = 0;
    let pageKiB = 0;
    const timePages = async (listCacheMs: number): Promise<PageTimings> => {
      inbox = await buildInbox({ client: counting!.client, taxpayers, security: { accountsFile }, listCacheMs });
      try {
        await inbox.listen({ port: 0, host: '127.0.0.1' });
        const address = inbox.server.address();
        const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
        const cookie = await logIn(base, APPROVER, PASSWORD);
        return await timePage(`${base}/`, cookie, o, counting!.calls, (body) => {
          rows = body.match(/<tr class="pending-row/g)?.length ?? 0;
          pageKiB = Buffer.byteLength(body) / 1024;
        });
      } finally {
        await inbox.close();
      }
    };
    const cached = await timePages(5000);
    const uncached = await timePages(0);
    return { months: o.months, rows, cached, uncached, pageKiB, seedMs };
  } finally {
    await inbox?.close();
    await counting?.close();
    await temporal?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function inboxListFigures(o: InboxListOptions, r: InboxListResult): Figure[] {
  const byMethod = callsByMethod;
  // One scan: the pending list's visibility pages (one more when the last page is full) and one
  // list of closed months for the decision history.
  const scanCalls = Math.floor(o.months / PENDING_PAGE_SIZE) + 2;
  const timed = `${r.cached.latenciesMs.length} requests, one every ${o.intervalMs} ms`;
  return [
    info('pending months (started, listed by visibility)', r.months, '', `${(r.seedMs / 1000).toFixed(1)} s to create`),
    info('rows on the list page', r.rows, '', `${r.pageKiB.toFixed(0)} KiB of HTML`),
    atMost('list page latency p50 (as the inbox runs: 5 s shared list)', r.cached.p50Ms, 1000, 'ms', timed),
    atMost('list page latency p95 (as the inbox runs)', r.cached.p95Ms, 1000, 'ms'),
    atMost(
      'Temporal calls per list page (as the inbox runs), mean',
      r.cached.callsPerPage,
      scanCalls,
      '',
      byMethod(r.cached.calls),
    ),
    atMost('Temporal calls per list page (as the inbox runs), most', r.cached.maxCallsPerPage, scanCalls, ''),
    info('list page latency p50, cache off (one scan per page)', r.uncached.p50Ms, 'ms'),
    info('list page latency p95, cache off', r.uncached.p95Ms, 'ms'),
    atMost(
      'Temporal calls per list page, cache off',
      r.uncached.maxCallsPerPage,
      scanCalls,
      '',
      byMethod(r.uncached.calls),
    ),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const o = numericArgs({ months: 2000, requests: 30, intervalMs: 500 });
  console.log(
    formatFigures(`Inbox list with ${o.months} pending months`, inboxListFigures(o, await measureInboxList(o))),
  );
  process.exit(0);
}
