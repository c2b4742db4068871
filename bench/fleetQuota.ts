/**
 * One quota for the whole fleet: N worker processes for one tenant, each told the tenant's quota Q
 * (INVOICE_CLOUD_MAX_RPS) and the fleet size N (INVOICE_CLOUD_FLEET_SIZE), against the sandbox
 * enforcing Q; then the same workload with one worker process at Q, for comparison.
 * `tsx bench/fleetQuota.ts [--cluster] [--months=40] [--invoices=200] [--quota=12] [--workers=3] [--single=1] [--control=0]`
 * With --cluster: on the two-node Temporal cluster on PostgreSQL, the workers alternating between the nodes.
 */
import { fileURLToPath } from 'node:url';
import { startMonthlyDeduction } from '../client/deductions.js';
import { deductionWorkflowId, pollingForExpectedTaskMs, TASK_QUEUE } from '../workflows/contract.js';
import proto from '@temporalio/proto';
import { atLeast, atMost, formatFigures, info, numericArgs, sleep, type Figure } from './figures.js';
import {
  APPROVER,
  autoApprover,
  benchTaxNos,
  clusterArg,
  PERIOD,
  seedTaxpayers,
  startBenchStack,
  waitForClosed,
  type BenchStack,
} from './stack.js';

export interface FleetQuotaOptions {
  months: number;
  invoices: number;
  /** The tenant's quota Q (requests per second), enforced by the sandbox and given to every worker. */
  quota: number;
  /** Worker processes in the fleet run. */
  workers: number;
  /** Also run the same workload with one worker process (on other taxpayers, after the fleet run). */
  single: boolean;
  taskLatencyMs: number;
  /**
   * Last, a control run: the same number of workers each told a fleet of one (so each takes the
   * whole quota), until the sandbox refuses a request or every month closes. It shows what the
   * setting prevents.
   */
  control?: boolean;
  /** On the two-node cluster on PostgreSQL instead of the dev server. */
  cluster?: boolean;
}

export interface QuotaRun {
  workers: number;
  /** INVOICE_CLOUD_FLEET_SIZE the workers were given. */
  fleetSize: number;
  ms: number;
  completed: number;
  calls: number;
  quotaRejections: number;
  /** The most gateway requests that reached the sandbox's proxy within one second. */
  peakPerSecond: number;
}

export interface FleetQuotaResult {
  fleet: QuotaRun;
  single?: QuotaRun;
  control?: QuotaRun;
}

const BATCH_SIZE = 500;

async function runMonths(
  stack: BenchStack,
  o: FleetQuotaOptions,
  workers: number,
  fleetSize: number,
  prefix: string,
  untilRefused = false,
): Promise<QuotaRun> {
  const { client, proxy } = stack;
  const taxNos = benchTaxNos(prefix, o.months);
  stack.startWorkers(workers, undefined, {
    INVOICE_CLOUD_MAX_RPS: String(o.quota),
    INVOICE_CLOUD_FLEET_SIZE: String(fleetSize),
  });
  await seedTaxpayers(stack.admin, taxNos, o.invoices);
  // The clock starts when every worker polls for activities, so their start-up is not counted.
  await waitForActivityPollers(stack, stack.workerPids());
  proxy.reset();
  const began = Date.now();
  const approver = autoApprover(client);
  try {
    for (const taxNo of taxNos) {
      await startMonthlyDeduction(client, {
        approvers: [APPROVER],
        taxNo,
        taxPeriod: PERIOD,
        polling: pollingForExpectedTaskMs(o.taskLatencyMs),
        batchSize: BATCH_SIZE,
      });
    }
    const closed = waitForClosed(
      client,
      taxNos.map((t) => deductionWorkflowId(t, PERIOD)),
      30 * 60_000,
    );
    const statuses = untilRefused ? await Promise.race([closed, firstRefusal(stack)]) : await closed;
    closed.catch(() => undefined);
    const ms = Date.now() - began;
    const c = proxy.counts();
    return {
      workers,
      fleetSize,
      ms,
      completed: statuses.COMPLETED ?? 0,
      calls: c.total,
      quotaRejections: c.quotaRejections,
      peakPerSecond: c.peakPerSecond,
    };
  } finally {
    await approver.stop();
    await stack.stopWorkers();
  }
}

/** Resolves (with no closed months) at the first quota refusal the proxy sees. */
async function firstRefusal(stack: BenchStack): Promise<Record<string, number>> {
  while (stack.proxy.counts().quotaRejections === 0) await sleep(100);
  return {};
}

/** Waits until a worker process with each pid polls the activity task queue (identity `pid@host`). */
async function waitForActivityPollers(stack: BenchStack, pids: number[], timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { pollers } = await stack.client.workflowService.describeTaskQueue({
      namespace: stack.temporal.namespace,
      taskQueue: { name: TASK_QUEUE },
      taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    });
    const polling = new Set((pollers ?? []).map((p) => Number(String(p.identity ?? '').split('@')[0])));
    if (pids.every((pid) => polling.has(pid))) return;
    if (Date.now() > deadline)
      throw new Error(`bench: worker processes ${pids.join(', ')} not all polling after ${timeoutMs} ms`);
    await sleep(250);
  }
}

export async function measureFleetQuota(o: FleetQuotaOptions): Promise<FleetQuotaResult> {
  const stack = await startBenchStack({ cluster: o.cluster ?? false });
  try {
    for (const kind of ['select', 'statistic', 'confirm'] as const) {
      await stack.admin.setTaskLatency({ kind, distribution: { type: 'fixed', ms: o.taskLatencyMs } });
    }
    await stack.admin.setQuota({ requestsPerSecond: o.quota });
    const fleet = await runMonths(stack, o, o.workers, o.workers, 'FQ000');
    const single = o.single ? await runMonths(stack, o, 1, 1, 'WQ000') : undefined;
    const control = o.control ? await runMonths(stack, o, o.workers, 1, 'CQ000', true) : undefined;
    return { fleet, ...(single ? { single } : {}), ...(control ? { control } : {}) };
  } finally {
    await stack.stop();
  }
}

/**
 * Ideal: every second of the run carries Q gateway calls. The ratio is the calls the sandbox
 * received per second of the run (start of the first month to the close of the last) over Q; the
 * calls include result queries answered "processing" and any refused ones, as in bench/throughput.ts.
 */
function runFigures(o: FleetQuotaOptions, r: QuotaRun): Figure[] {
  const label = `${r.workers} worker process${r.workers === 1 ? '' : 'es'} (fleet size ${r.fleetSize})`;
  const rps = r.calls / (r.ms / 1000);
  const share = Math.floor(o.quota / r.fleetSize);
  return [
    info(`${label}: months completed`, r.completed, `of ${o.months}`, `each worker's share ${share} rps`),
    info(`${label}: end-to-end time`, r.ms / 1000, 's'),
    info(`${label}: gateway calls`, r.calls, '', `${(r.calls / o.months).toFixed(2)} per month`),
    atMost(`${label}: quota rejections (4290)`, r.quotaRejections, 0, ''),
    info(`${label}: requests/s achieved (Q=${o.quota})`, rps, 'rps'),
    atMost(`${label}: most requests within one second (proxy)`, r.peakPerSecond, o.quota, ''),
    atLeast(`${label}: throughput / ideal (requests/s / Q)`, rps / o.quota, 0.9, ''),
  ];
}

export function fleetQuotaFigures(o: FleetQuotaOptions, r: FleetQuotaResult): Figure[] {
  const figures = [...runFigures(o, r.fleet), ...(r.single ? runFigures(o, r.single) : [])];
  if (r.control) {
    const label = `control, ${r.control.workers} workers each told a fleet of 1`;
    figures.push(
      info(`${label}: quota rejections (4290)`, r.control.quotaRejections, '', `after ${r.control.calls} calls`),
      info(`${label}: most requests within one second`, r.control.peakPerSecond, ''),
    );
  }
  return figures;
}

export async function runFleetQuota(o: FleetQuotaOptions): Promise<Figure[]> {
  return fleetQuotaFigures(o, await measureFleetQuota(o));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { cluster, rest } = clusterArg();
  const a = numericArgs(
    { months: 40, invoices: 200, quota: 12, workers: 3, single: 1, control: 0, latencyMs: 1000 },
    rest,
  );
  const o: FleetQuotaOptions = {
    cluster,
    months: a.months,
    invoices: a.invoices,
    quota: a.quota,
    workers: a.workers,
    single: a.single !== 0,
    control: a.control !== 0,
    taskLatencyMs: a.latencyMs,
  };
  const where = cluster ? ' on the cluster (2 Temporal nodes, PostgreSQL)' : '';
  console.log(formatFigures(`One quota for the whole fleet (Q=${o.quota} rps)${where}`, await runFleetQuota(o)));
  process.exit(0);
}
