/**
 * What the inbox benchmarks share: months started as visibility shows them on a task queue no
 * worker polls (the inbox reads visibility only, so this is what it sees of real months at a
 * fraction of the cost), a client that counts its Temporal calls, an approver logged in through
 * the form, and one page timed as the inbox runs (lists shared for 5 s) and with that cache off.
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
import { hashPassword, writeAccountsFile } from '../inbox/accounts.js';
import { buildInbox } from '../inbox/server.js';
import { fixedDirectory, type TaxpayerInfo } from '../inbox/taxpayers.js';
import { startDevServer, type DevServer } from '../scripts/devServer.js';
import {
  APPROVAL_MEMO_KEY,
  ApprovalDeadlineSearchAttribute,
  DeductionStageSearchAttribute,
  deductionWorkflowId,
  TaxNoSearchAttribute,
  TaxPeriodSearchAttribute,
  WORKFLOW_TYPE,
  type ApprovalMemo,
  type Stage,
} from '../workflows/contract.js';
import { atMost, info, sleep, type Figure } from './figures.js';
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

/** How month i of a bench looks in visibility. */
export interface IdleMonth {
  stage: Stage;
  /** The approval deadline; none for a month that never had a table. */
  deadline?: Date;
  /** The approval memo's totals; none for a month that never had a table. */
  memo?: ApprovalMemo;
}

/** Totals for month i's approval memo, varied so that no two rows look alike. */
export function benchMemo(
  i: number,
  differences: Pick<ApprovalMemo, 'plannedAgreesWithBureau' | 'failedInvoices'>,
): ApprovalMemo {
  return {
    deductibleCount: 10 + (i % 90),
    deductibleAmount: `${(1000 + i * 37.5).toFixed(2)}`,
    deductibleTax: `${(130 + i * 4.875).toFixed(2)}`,
    statisticDigest: (0x10000000 + i).toString(16),
    ...differences,
  };
}

/** Starts one month per taxNo, month i as `month(i)` describes it, with the search attributes a real month upserts. */
export async function startIdleMonths(
  client: Client,
  taxNos: string[],
  month: (i: number) => IdleMonth,
): Promise<void> {
  let next = 0;
  const startOne = async (i: number) => {
    const taxNo = taxNos[i]!;
    const { stage, deadline, memo } = month(i);
    await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: IDLE_TASK_QUEUE,
      workflowId: deductionWorkflowId(taxNo, PERIOD),
      args: [{ taxNo, taxPeriod: PERIOD }],
      typedSearchAttributes: [
        { key: TaxNoSearchAttribute, value: taxNo },
        { key: TaxPeriodSearchAttribute, value: PERIOD },
        { key: DeductionStageSearchAttribute, value: stage },
        ...(deadline ? [{ key: ApprovalDeadlineSearchAttribute, value: deadline }] : []),
      ],
      ...(memo ? { memo: { [APPROVAL_MEMO_KEY]: memo } } : {}),
    });
  };
  // A few starts at once: the dev server's SQLite takes them one at a time anyway.
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < taxNos.length) await startOne(next++);
    }),
  );
}

/** Whether the bench's approver decides for taxpayer i: 9 in 10; the rest belong to someone else. */
export function approverDecides(i: number): boolean {
  return i % 10 !== 9;
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
    throw new Error(`inbox page bench: login answered ${response.status}: ${await response.text()}`);
  }
  return header();
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

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Times `requests` GETs of `url` (after one warm-up request, handed to `warmUp`), one every
 * `intervalMs`, counting the Temporal calls each page caused (a background refresh it started
 * included).
 */
async function timePage(
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
    if (response.status !== 200) throw new Error(`inbox page bench: ${url} answered ${response.status}`);
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

export interface PageBench {
  /** Names the bench's folder and its errors. */
  name: string;
  months: number;
  /** Timed requests of the page (after one warm-up request). */
  requests: number;
  /** Time between the starts of two requests (as approvers opening the page now and then). */
  intervalMs: number;
  /** Starts the months. */
  seed(client: Client, taxNos: string[]): Promise<void>;
  /** A visibility query that counts every seeded month once visibility lists them. */
  listedQuery: string;
  /** The page, from the inbox's root (e.g. `/`). */
  path: string;
  /** Reads what the warm-up request's page shows. */
  inspect(body: string, base: string, cookie: string): Promise<void> | void;
}

export interface PageBenchResult {
  cached: PageTimings;
  uncached: PageTimings;
  /** Time to start the months until visibility listed them all. */
  seedMs: number;
  pageKiB: number;
}

/**
 * A dev server with `months` months seeded and the inbox in front of it, the bench's approver
 * logged in; the page timed with the list cache on (5 s, as the inbox runs) and off.
 */
export async function measureInboxPage(b: PageBench): Promise<PageBenchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), `vat-${b.name}-bench-`));
  let temporal: DevServer | undefined;
  let counting: Awaited<ReturnType<typeof countingClient>> | undefined;
  let inbox: FastifyInstance | undefined;
  try {
    temporal = await startDevServer({ headless: true, logFile: join(dataDir, 'temporal.log') });
    const { client, calls } = (counting = await countingClient(temporal.address, temporal.namespace));
    const taxNos = benchTaxNos(b.name, b.months);
    const began = Date.now();
    await b.seed(client, taxNos);
    for (const deadline = Date.now() + 120_000; ; await sleep(200)) {
      const { count } = await client.workflow.count(b.listedQuery);
      if (count >= b.months) break;
      if (Date.now() > deadline) throw new Error(`${b.name} bench: visibility lists ${count} of ${b.months} months`);
    }
    const seedMs = Date.now() - began;

    const accountsFile = join(dataDir, 'inbox-accounts.json');
    writeAccountsFile(accountsFile, {
      lockout: { maxFailedAttempts: 5, lockMinutes: 15 },
      accounts: [{ id: APPROVER, name: '基准审批人', passwordHash: await hashPassword(PASSWORD), disabled: false }],
    });
    const directory: [string, TaxpayerInfo][] = taxNos.map((taxNo, i) => [
      taxNo,
      { name: `基准测试${i}有限公司`, approvers: approverDecides(i) ? [APPROVER] : ['someone-else'] },
    ]);
    let pageKiB = 0;
    const timePages = async (listCacheMs: number): Promise<PageTimings> => {
      inbox = await buildInbox({
        client,
        taxpayers: fixedDirectory(directory),
        security: { accountsFile },
        listCacheMs,
      });
      try {
        const base = await inbox.listen({ port: 0, host: '127.0.0.1' });
        const cookie = await logIn(base, APPROVER, PASSWORD);
        return await timePage(`${base}${b.path}`, cookie, b, calls, async (body) => {
          await b.inspect(body, base, cookie);
          pageKiB = Buffer.byteLength(body) / 1024;
        });
      } finally {
        await inbox.close();
      }
    };
    const cached = await timePages(5000);
    const uncached = await timePages(0);
    return { cached, uncached, seedMs, pageKiB };
  } finally {
    await inbox?.close();
    await counting?.close();
    await temporal?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * A page's latency and Temporal calls, as the inbox runs (shared scan) and with the cache off; a
 * page should cost at most one scan (`scanCalls`).
 */
export function pageTimingFigures(
  page: string,
  r: PageBenchResult,
  scanCalls: number,
  o: { intervalMs: number },
): Figure[] {
  return [
    atMost(
      `${page} latency p50 (as the inbox runs: 5 s shared scan)`,
      r.cached.p50Ms,
      1000,
      'ms',
      `${r.cached.latenciesMs.length} requests, one every ${o.intervalMs} ms`,
    ),
    atMost(`${page} latency p95 (as the inbox runs)`, r.cached.p95Ms, 1000, 'ms'),
    atMost(
      `Temporal calls per ${page} (as the inbox runs), mean`,
      r.cached.callsPerPage,
      scanCalls,
      '',
      callsByMethod(r.cached.calls),
    ),
    atMost(`Temporal calls per ${page} (as the inbox runs), most`, r.cached.maxCallsPerPage, scanCalls, ''),
    info(`${page} latency p50, cache off (one scan per page)`, r.uncached.p50Ms, 'ms'),
    info(`${page} latency p95, cache off`, r.uncached.p95Ms, 'ms'),
    atMost(
      `Temporal calls per ${page}, cache off`,
      r.uncached.maxCallsPerPage,
      scanCalls,
      '',
      callsByMethod(r.uncached.calls),
    ),
  ];
}
