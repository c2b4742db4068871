/**
 * Auto-accounting at scale: one run books a pool of `invoices` unbooked invoices (every 30th one
 * skipped by the rules), at most `maxPerRun` of them, page by page; the run's history (events,
 * bytes, largest payload) against Temporal's limits, its time, its gateway calls and the worker's
 * memory. `npx tsx bench/accountingScale.ts [--invoices=21000] [--maxPerRun=20000] [--batchSize=200]`
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { planBookings } from '../activities/accountingActivities.js';
import { parseAccountingRules } from '../rules/accountingRulesSchema.js';
import type { BoundBillType } from '../protocol/codes.js';
import type { PoolInvoice } from '../protocol/interfaces.js';
import type { SandboxAdmin } from '../simulator/adminClient.js';
import { addAccountingTaxpayer, accountingInvoices } from '../test/support/accountingPool.js';
import {
  ACCOUNTING_WORKFLOW_TYPE,
  accountingWorkflowId,
  type AccountingReport,
} from '../workflows/accountingContract.js';
import { TASK_QUEUE } from '../workflows/contract.js';
import { atLeast, atMost, formatFigures, info, numericArgs, type Figure } from './figures.js';
import { historyEvents, payloadBytes } from './history.js';
import { benchTaxNos, PERIOD, startBenchStack } from './stack.js';

export const EXAMPLE_RULES_FILE = fileURLToPath(new URL('../config/accounting-rules.example.json', import.meta.url));

/** Temporal's defaults (limit.blobSize.*, limit.historySize.*, limit.historyCount.*): warning and error. */
export const TEMPORAL_LIMITS = {
  payloadWarnBytes: 512 * 1024,
  payloadErrorBytes: 2 * 1024 * 1024,
  historyWarnBytes: 10 * 1024 * 1024,
  historyErrorBytes: 50 * 1024 * 1024,
  eventsWarn: 10_240,
  eventsError: 51_200,
};

/** Bound document types dealt in turn: every rule of the example file that books, and one that skips. */
const BOOKED_TYPES: BoundBillType[] = ['1', '3', '4', '5', '6'];
export const scaleBillType = (i: number): BoundBillType =>
  i % 30 === 29 ? '2' : BOOKED_TYPES[i % BOOKED_TYPES.length]!;

export interface AccountingScaleOptions {
  invoices: number;
  maxPerRun: number;
  batchSize: number;
  taxNo?: string;
}

export interface AccountingScaleSample {
  taxNo: string;
  workflowId: string;
  runId: string;
  report: AccountingReport;
  seconds: number;
  events: number;
  /** The server's figure for the history (DescribeWorkflowExecution historySizeBytes). */
  historyBytes: number;
  /** Every payload's bytes, summed. */
  payloadBytes: number;
  /** The largest single blob (an activity's input or result, the workflow's input or result). */
  largestPayloadBytes: number;
  /** What the whole-pool design returned from its planning activity for the same pool, as JSON. */
  wholePoolPlanBytes: number;
}

/** The largest byte array in a value: a payload's data (its metadata values are a few bytes). */
export function largestBlob(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (value instanceof Uint8Array) return value.length;
  if (Array.isArray(value)) return value.reduce((n: number, v) => Math.max(n, largestBlob(v)), 0);
  if (typeof value === 'object') {
    return Object.values(value as Record<string, unknown>).reduce((n: number, v) => Math.max(n, largestBlob(v)), 0);
  }
  return 0;
}

/**
 * Seeds a taxpayer with the pool, runs AutoAccountingWorkflow on it (the example rules, sent with
 * the run) and reads back its history. Needs a worker on the task queue.
 */
export async function runAccountingAtScale(
  env: { client: Client; admin: SandboxAdmin },
  o: AccountingScaleOptions,
): Promise<AccountingScaleSample> {
  const rules = parseAccountingRules(JSON.parse(readFileSync(EXAMPLE_RULES_FILE, 'utf8')));
  const taxNo = o.taxNo ?? benchTaxNos('ACB00', 1)[0]!;
  const invoices = accountingInvoices(o.invoices, scaleBillType, { prefix: '2645', period: PERIOD });
  await addAccountingTaxpayer(env.admin, taxNo, invoices);
  const asPool = invoices.map(
    (i) => ({ ...i, invoiceCode: '', accountStatus: '0', accountPeriod: '' }) as unknown as PoolInvoice,
  );
  const wholePoolPlanBytes = Buffer.byteLength(JSON.stringify(planBookings(rules, asPool, PERIOD, o.maxPerRun)));

  const began = Date.now();
  const handle = await env.client.workflow.start(ACCOUNTING_WORKFLOW_TYPE, {
    taskQueue: TASK_QUEUE,
    workflowId: accountingWorkflowId(taxNo, PERIOD),
    args: [{ taxNo, accountPeriod: PERIOD, rules, batchSize: o.batchSize, maxInvoicesPerRun: o.maxPerRun }],
  });
  const report = (await handle.result()) as AccountingReport;
  const seconds = (Date.now() - began) / 1000;
  const description = await handle.describe();
  const events = await historyEvents(env.client, handle.workflowId);
  return {
    taxNo,
    workflowId: handle.workflowId,
    runId: description.runId,
    report,
    seconds,
    events: events.length,
    historyBytes: description.historySize ?? 0,
    payloadBytes: payloadBytes(events),
    largestPayloadBytes: largestBlob(events),
    wholePoolPlanBytes,
  };
}

/** Samples a process's resident memory (VmRSS) until stopped: the highest value seen. */
export function residentPeak(pid: number, everyMs = 250): { stop(): number } {
  const read = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  let peak = read();
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, read());
    } catch {
      // the process ended
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

export interface AccountingScaleResult extends AccountingScaleSample {
  /** The worker's peak while it booked a pool of WARM_UP_INVOICES first (bundle loaded, caches warm). */
  warmUpPeakMiB: number;
  workerPeakMiB: number;
  calls: Record<string, number>;
}

/** The pool of the run before the measured one: memory growing with the pool would show against it. */
export const WARM_UP_INVOICES = 1000;

/** The benchmark: its own stack (dev server, sandbox behind the counting proxy, one worker process). */
export async function measureAccountingScale(o: AccountingScaleOptions): Promise<AccountingScaleResult> {
  const stack = await startBenchStack({ workers: 1 });
  try {
    const pid = stack.workerPids()[0]!;
    const [warmUpTaxNo, taxNo] = benchTaxNos('ACB00', 2);
    const warmUp = residentPeak(pid);
    await runAccountingAtScale(stack, { ...o, invoices: WARM_UP_INVOICES, taxNo: warmUpTaxNo! });
    const warmUpPeakMiB = warmUp.stop();
    stack.proxy.reset();
    const memory = residentPeak(pid);
    const sample = await runAccountingAtScale(stack, { ...o, taxNo: taxNo! });
    const workerPeakMiB = memory.stop();
    return { ...sample, warmUpPeakMiB, workerPeakMiB, calls: stack.proxy.counts().byInterface };
  } finally {
    await stack.stop();
  }
}

const kib = (bytes: number) => Math.round(bytes / 1024);

export function accountingScaleFigures(o: AccountingScaleOptions, r: AccountingScaleResult): Figure[] {
  const expected = Math.min(o.maxPerRun, o.invoices - Math.floor(o.invoices / 30));
  const pages = r.report.poolReads ?? 0;
  return [
    atLeast(`Invoices booked in one run (pool of ${o.invoices})`, r.report.booked, expected, '', r.report.status),
    info('Run time', r.seconds, 's', `${Math.round(r.report.booked / r.seconds)} invoices/s`),
    atMost('History events', r.events, TEMPORAL_LIMITS.eventsWarn, '', `error at ${TEMPORAL_LIMITS.eventsError}`),
    atMost('History size', kib(r.historyBytes), kib(TEMPORAL_LIMITS.historyWarnBytes), 'KiB', 'error at 50 MiB'),
    atMost(
      'Largest payload in history',
      kib(r.largestPayloadBytes),
      kib(TEMPORAL_LIMITS.payloadWarnBytes),
      'KiB',
      `error at 2 MiB; the whole-pool plan was ${kib(r.wholePoolPlanBytes)} KiB`,
    ),
    info('All payloads in history', kib(r.payloadBytes), 'KiB'),
    info(
      'Gateway calls',
      Object.values(r.calls).reduce((a, b) => a + b, 0),
      '',
      `${pages} pool pages, ${r.calls.invoiceAccount ?? 0} bookings (${r.report.taskNos.length} tasks), ${r.calls.invoiceAccountQuery ?? 0} result queries`,
    ),
    info(
      'Worker resident memory, peak during the run',
      Math.round(r.workerPeakMiB),
      'MiB',
      `${Math.round(r.warmUpPeakMiB)} MiB booking a pool of ${WARM_UP_INVOICES} before`,
    ),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const o = numericArgs({ invoices: 21_000, maxPerRun: 20_000, batchSize: 200 });
  const r = await measureAccountingScale(o);
  console.log(formatFigures('Auto-accounting at scale', accountingScaleFigures(o, r)));
  process.exit(0);
}
