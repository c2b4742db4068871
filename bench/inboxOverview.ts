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
import type { FastifyInstance } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashPassword, writeAccountsFile } from '../inbox/accounts.js';
import { PERIOD_PAGE_SIZE, periodListQuery, type PeriodOverview } from '../inbox/overview.js';
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
import { callsByMethod, countingClient, logIn, timePage, type PageTimings } from './inboxList.js';
import { benchTaxNos, PERIOD } from './stack.js';

const APPROVER = 'bench';
const PASSWORD = 'bench-approver-password-1';
const IDLE_TASK_QUEUE = 'inbox-overview-bench-idle';

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
  let next = 0;
  const startOne = async (i: number) => {
    const taxNo = taxNos[i]!;
    const stage = benchStage(i);
    const memo: ApprovalMemo = {
      deductibleCount: 10 + (i % 90),
      deductibleAmount: `${(1000 + i * 37.5).toFixed(2)}`,
      deductibleTax: `${(130 + i * 4.875).toFixed(2)}`,
      statisticDigest: (0x10000000 + i).toString(16),
      plannedAgreesWithBureau: true,
      failedInvoices: 0,
    };
    const hadTable = stage !== Stage.Selecting && stage !== Stage.Failed;
    // Expired months' deadlines lie behind; the others' ahead.
    const deadlineHours = stage === Stage.Expired ? -24 : ((i * 7919) % 240) + 1;
    await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: IDLE_TASK_QUEUE,
      workflowId: deductionWorkflowId(taxNo, PERIOD),
      args: [{ taxNo, taxPeriod: PERIOD }],
      typedSearchAttributes: [
        { key: TaxNoSearchAttribute, value: taxNo },
        { key: TaxPeriodSearchAttribute, value: PERIOD },
        { key: DeductionStageSearchAttribute, value: stage },
        ...(hadTable
          ? [{ key: ApprovalDeadlineSearchAttribute, value: new Date(now.getTime() + deadlineHours * 3600_000) }]
          : []),
      ],
      ...(hadTable ? { memo: { [APPROVAL_MEMO_KEY]: memo } } : {}),
    });
  };
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < taxNos.length) await startOne(next++);
    }),
  );
}

export interface InboxOverviewOptions {
  months: number;
  requests: number;
  intervalMs: number;
}

export interface InboxOverviewResult {
  months: number;
  /** Months the approver may see, as the page counts them. */
  counted: number;
  /** What the bench expects the approver to see. */
  expected: number;
  cached: PageTimings;
  uncached: PageTimings;
  pageKiB: number;
  seedMs: number;
}

export async function measureInboxOverview(o: InboxOverviewOptions): Promise<InboxOverviewResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vat-overview-bench-'));
  let temporal: DevServer | undefined;
  let counting: Awaited<ReturnType<typeof countingClient>> | undefined;
  let inbox: FastifyInstance | undefined;
  try {
    temporal = await startDevServer({ headless: true, logFile: join(dataDir, 'temporal.log') });
    counting = await countingClient(temporal.address, temporal.namespace);
    const taxNos = benchTaxNos('overview', o.months);
    const began = Date.now();
    await startPeriodMonths(counting.client, taxNos);
    for (let waited = 0; (await counting.client.workflow.count(periodListQuery(PERIOD))).count < o.months;) {
      if ((waited += 200) > 120_000) throw new Error('overview bench: visibility did not list every month');
      await sleep(200);
    }
    const seedMs = Date.now() - began;
    writeAccountsFile(join(dataDir, 'accounts.json'), {
      lockout: { maxFailedAttempts: 5, lockMinutes: 15 },
      accounts: [{ id: APPROVER, name: '基准审批人', passwordHash: await hashPassword(PASSWORD), disabled: false }],
    });
    // The approver sees 9 taxpayers in 10.
    const directory: [string, TaxpayerInfo][] = taxNos.map((taxNo, i) => [
      taxNo,
      { name: `基准测试${i}有限公司`, approvers: i % 10 === 9 ? ['someone-else'] : [APPROVER] },
    ]);
    const expected = taxNos.filter((_, i) => i % 10 !== 9).length;
    let counted = 0;
    let pageKiB = 0;
    const timePages = async (listCacheMs: number): Promise<PageTimings> => {
      inbox = await buildInbox({
        client: counting!.client,
        taxpayers: fixedDirectory(directory),
        security: { accountsFile: join(dataDir, 'accounts.json') },
        listCacheMs,
      });
      try {
        const base = await inbox.listen({ port: 0, host: '127.0.0.1' });
        const cookie = await logIn(base, APPROVER, PASSWORD);
        return await timePage(`${base}/overview?period=${PERIOD}`, cookie, o, counting!.calls, async (body) => {
          const api = await fetch(`${base}/api/overview?period=${PERIOD}`, { headers: { cookie } });
          counted = ((await api.json()) as PeriodOverview).months;
          pageKiB = Buffer.byteLength(body) / 1024;
        });
      } finally {
        await inbox.close();
      }
    };
    const cached = await timePages(5000);
    const uncached = await timePages(0);
    return { months: o.months, counted, expected, cached, uncached, pageKiB, seedMs };
  } finally {
    await inbox?.close();
    await counting?.close();
    await temporal?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function inboxOverviewFigures(o: InboxOverviewOptions, r: InboxOverviewResult): Figure[] {
  const byMethod = callsByMethod;
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
    atMost('overview latency p50 (as the inbox runs: 5 s shared scan)', r.cached.p50Ms, 1000, 'ms'),
    atMost('overview latency p95 (as the inbox runs)', r.cached.p95Ms, 1000, 'ms'),
    atMost(
      'Temporal calls per overview page (as the inbox runs), mean',
      r.cached.callsPerPage,
      scanCalls,
      '',
      byMethod(r.cached.calls),
    ),
    atMost('Temporal calls per overview page (as the inbox runs), most', r.cached.maxCallsPerPage, scanCalls, ''),
    info('overview latency p50, cache off (one scan per page)', r.uncached.p50Ms, 'ms'),
    info('overview latency p95, cache off', r.uncached.p95Ms, 'ms'),
    atMost(
      'Temporal calls per overview page, cache off',
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
    formatFigures(
      `Inbox period overview with ${o.months} months`,
      inboxOverviewFigures(o, await measureInboxOverview(o)),
    ),
  );
  process.exit(0);
}
