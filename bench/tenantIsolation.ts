/**
 * One tenant's outage does not slow another (docs/tenants.md): a fleet of worker processes serving two
 * tenants of a tenants file. Tenant A: the sandbox enforcing its quota Q, behind the counting proxy.
 * Tenant B: a second sandbox that fails every business call (503, or with --hang=1 a reply that
 * never comes, so each call holds its activity until the client's timeout). A's months alone, then
 * the same number of A's months while as many of B's months fail and retry beside them.
 * `tsx bench/tenantIsolation.ts [--months=30] [--invoices=200] [--quota=10] [--workers=2] [--hang=0] [--latencyMs=500] [--rounds=2]`
 */
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import proto from '@temporalio/proto';
import { startMonthlyDeduction } from '../client/deductions.js';
import { SandboxAdmin } from '../simulator/adminClient.js';
import { startSandbox, type RunningSandbox } from '../simulator/server.js';
import { deductionWorkflowId, pollingForExpectedTaskMs, tenantTaskQueue } from '../workflows/contract.js';
import { atLeast, formatFigures, info, numericArgs, sleep, type Figure } from './figures.js';
import {
  APPROVER,
  autoApprover,
  benchTaxNos,
  PERIOD,
  SANDBOX_NOW,
  seedTaxpayers,
  startBenchStack,
  waitForClosed,
  type BenchStack,
} from './stack.js';

export interface TenantIsolationOptions {
  /** A's months in each run (and B's months in the second). */
  months: number;
  invoices: number;
  /** Each tenant's quota Q (requests per second); the sandbox enforces A's. */
  quota: number;
  /** Worker processes, each serving both tenants (the fleet size N of both quotas). */
  workers: number;
  /** B's calls hang until the client's timeout instead of failing at once. */
  hang: boolean;
  taskLatencyMs: number;
  /**
   * Pairs of runs, in the order alone, beside B, beside B, alone, ... (each pair reversed from the
   * one before), so that a load that rises or falls on the shared machine weighs on both alike.
   */
  rounds?: number;
}

export interface TenantRun {
  ms: number;
  completed: number;
  /** Gateway requests sandbox A received. */
  calls: number;
  quotaRejections: number;
  /** Business calls sandbox B failed during the run (0 when B had no months). */
  failedCallsOfB: number;
  /** B's months still open when A's had all closed (none may have completed). */
  openMonthsOfB: number;
}

export interface TenantIsolationResult {
  /** The runs of each kind added up. */
  alone: TenantRun;
  withFailingB: TenantRun;
  /** Load average (1 min) at the start and the end: the machine is shared. */
  loadAverage: [number, number];
}

const BATCH_SIZE = 500;
const B_TIMEOUT_MS = 3000;

/** Waits until every worker process (identity `pid@host`) polls the activity queue of each tenant. */
async function waitForTenantPollers(stack: BenchStack, tenants: string[], timeoutMs = 120_000): Promise<void> {
  const pids = stack.workerPids();
  const deadline = Date.now() + timeoutMs;
  for (const tenant of tenants) {
    for (;;) {
      const { pollers } = await stack.client.workflowService.describeTaskQueue({
        namespace: stack.temporal.namespace,
        taskQueue: { name: tenantTaskQueue(tenant)! },
        taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      });
      const polling = new Set((pollers ?? []).map((p) => Number(String(p.identity ?? '').split('@')[0])));
      if (pids.every((pid) => polling.has(pid))) break;
      if (Date.now() > deadline)
        throw new Error(`bench: workers not all polling tenant ${tenant} after ${timeoutMs} ms`);
      await sleep(250);
    }
  }
}

async function run(
  stack: BenchStack,
  sandboxB: SandboxAdmin,
  o: TenantIsolationOptions,
  tenantsFile: string,
  prefix: string,
  withFailingB: boolean,
): Promise<TenantRun> {
  const { client, proxy } = stack;
  const taxNosA = benchTaxNos(`${prefix}A`, o.months);
  const taxNosB = withFailingB ? benchTaxNos(`${prefix}B`, o.months) : [];
  await seedTaxpayers(stack.admin, taxNosA, o.invoices);
  stack.startWorkers(o.workers, undefined, {
    INVOICE_CLOUD_TENANTS_FILE: tenantsFile,
    INVOICE_CLOUD_FLEET_SIZE: String(o.workers),
  });
  await waitForTenantPollers(stack, ['a', 'b']);
  const failed = async () => {
    const served = await sandboxB.faultsServed();
    return served.http5xx + served.hang;
  };
  const failedBefore = await failed();
  proxy.reset();
  const approver = autoApprover(client);
  const polling = pollingForExpectedTaskMs(o.taskLatencyMs);
  const began = Date.now();
  try {
    // B's months first, so that they are failing before A's start.
    for (const taxNo of taxNosB) {
      await startMonthlyDeduction(client, { approvers: [APPROVER], taxNo, taxPeriod: PERIOD, tenant: 'b', polling });
    }
    for (const taxNo of taxNosA) {
      await startMonthlyDeduction(client, {
        approvers: [APPROVER],
        taxNo,
        taxPeriod: PERIOD,
        tenant: 'a',
        polling,
        batchSize: BATCH_SIZE,
      });
    }
    const statuses = await waitForClosed(
      client,
      taxNosA.map((t) => deductionWorkflowId(t, PERIOD)),
      30 * 60_000,
    );
    const ms = Date.now() - began;
    const counts = proxy.counts();
    const failedCallsOfB = (await failed()) - failedBefore;
    let openMonthsOfB = 0;
    for (const taxNo of taxNosB) {
      const handle = client.workflow.getHandle(deductionWorkflowId(taxNo, PERIOD));
      if ((await handle.describe()).status.name === 'RUNNING') {
        openMonthsOfB++;
        await handle.terminate('benchmark: tenant B fails every call');
      }
    }
    return {
      ms,
      completed: statuses.COMPLETED ?? 0,
      calls: counts.total,
      quotaRejections: counts.quotaRejections,
      failedCallsOfB,
      openMonthsOfB,
    };
  } finally {
    await approver.stop();
    await stack.stopWorkers();
  }
}

export async function measureTenantIsolation(o: TenantIsolationOptions): Promise<TenantIsolationResult> {
  const load0 = loadavg()[0]!;
  const stack = await startBenchStack();
  let sandboxB: RunningSandbox | undefined;
  try {
    for (const kind of ['select', 'statistic', 'confirm'] as const) {
      await stack.admin.setTaskLatency({ kind, distribution: { type: 'fixed', ms: o.taskLatencyMs } });
    }
    await stack.admin.setQuota({ requestsPerSecond: o.quota });
    sandboxB = await startSandbox({ port: 0, dbFile: ':memory:' });
    const adminB = new SandboxAdmin(sandboxB.url);
    await adminB.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 1, seed: 1 });
    await adminB.setFaults(o.hang ? { hangRate: 1 } : { http5xxRate: 1 });
    const tenantsFile = join(stack.dataDir, 'tenants.json');
    const quota = { requestsPerSecond: o.quota, fleetSize: o.workers };
    writeFileSync(
      tenantsFile,
      JSON.stringify({
        tenants: [
          { id: 'a', baseUrl: stack.proxy.url, quota },
          { id: 'b', baseUrl: sandboxB.url, quota, timeoutMs: B_TIMEOUT_MS },
        ],
      }),
    );
    const runs: { alone: TenantRun[]; withFailingB: TenantRun[] } = { alone: [], withFailingB: [] };
    for (let round = 0; round < (o.rounds ?? 1); round++) {
      for (const beside of round % 2 === 0 ? [false, true] : [true, false]) {
        const r = await run(stack, adminB, o, tenantsFile, `TN${round}${beside ? 'B' : 'A'}`, beside);
        (beside ? runs.withFailingB : runs.alone).push(r);
      }
    }
    const alone = added(runs.alone);
    const withFailingB = added(runs.withFailingB);
    const load1 = loadavg()[0]!;
    return { alone, withFailingB, loadAverage: [load0, load1] };
  } finally {
    await sandboxB?.close();
    await stack.stop();
  }
}

function added(runs: TenantRun[]): TenantRun {
  const sum = (key: keyof TenantRun) => runs.reduce((n, r) => n + r[key], 0);
  return {
    ms: sum('ms'),
    completed: sum('completed'),
    calls: sum('calls'),
    quotaRejections: sum('quotaRejections'),
    failedCallsOfB: sum('failedCallsOfB'),
    openMonthsOfB: sum('openMonthsOfB'),
  };
}

function runFigures(label: string, o: TenantIsolationOptions, r: TenantRun): Figure[] {
  return [
    info(`${label}: A's months completed`, r.completed, `of ${o.months * (o.rounds ?? 1)}`),
    info(`${label}: A's end-to-end time`, r.ms / 1000, 's'),
    info(
      `${label}: A's requests/s`,
      r.calls / (r.ms / 1000),
      'rps',
      `Q=${o.quota}, ${r.quotaRejections} refused (4290)`,
    ),
    info(`${label}: A's months/min`, r.completed / (r.ms / 60_000), 'months/min'),
  ];
}

export function tenantIsolationFigures(o: TenantIsolationOptions, r: TenantIsolationResult): Figure[] {
  const rps = (run: TenantRun) => run.calls / (run.ms / 1000);
  const perMinute = (run: TenantRun) => run.completed / (run.ms / 60_000);
  const how = o.hang ? `hanging until the ${B_TIMEOUT_MS / 1000} s timeout` : 'answered 503';
  return [
    ...runFigures('A alone', o, r.alone),
    ...runFigures('A beside B failing', o, r.withFailingB),
    info("B's business calls failed meanwhile", r.withFailingB.failedCallsOfB, '', how),
    info("B's months still retrying when A's closed", r.withFailingB.openMonthsOfB, `of ${o.months * (o.rounds ?? 1)}`),
    atLeast("A's requests/s beside B / alone", rps(r.withFailingB) / rps(r.alone), 0.9, ''),
    atLeast("A's months/min beside B / alone", perMinute(r.withFailingB) / perMinute(r.alone), 0.9, ''),
    info('load average (1 min) at start / end', r.loadAverage[0], '', `end ${r.loadAverage[1].toFixed(2)}`),
  ];
}

export async function runTenantIsolation(o: TenantIsolationOptions): Promise<Figure[]> {
  return tenantIsolationFigures(o, await measureTenantIsolation(o));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const a = numericArgs({ months: 30, invoices: 200, quota: 10, workers: 2, hang: 0, latencyMs: 500, rounds: 2 });
  const o: TenantIsolationOptions = {
    months: a.months,
    invoices: a.invoices,
    quota: a.quota,
    workers: a.workers,
    hang: a.hang !== 0,
    taskLatencyMs: a.latencyMs,
    rounds: a.rounds,
  };
  console.log(
    formatFigures(`One tenant failing every call beside another (Q=${o.quota} rps, ${o.workers} workers)`, [
      ...(await runTenantIsolation(o)),
    ]),
  );
  process.exit(0);
}
