/**
 * Parked workflows: N months waiting for approval; the worker process's resident memory and CPU
 * while they wait. `tsx bench/parked.ts [--cluster] [--workflows=10000] [--quietSeconds=60] [--workers=1] [--reachSeconds=…]`
 * With --cluster: on the two-node Temporal cluster on PostgreSQL (workers alternate between the
 * nodes), also the databases' size once every month is parked.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { startMonthlyDeduction } from '../client/deductions.js';
import { atMost, formatFigures, info, numericArgs, sleep, type Figure } from './figures.js';
import { APPROVER, benchTaxNos, clusterArg, PERIOD, seedTaxpayers, startBenchStack } from './stack.js';

const CLOCK_TICKS_PER_SECOND = 100;

export function residentMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kib / 1024;
}

/** User + system CPU time of a process so far, in seconds (/proc/<pid>/stat fields 14 and 15). */
const SETTLE_MS = 30_000;

export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

export interface ParkedResult {
  workflows: number;
  parked: number;
  /** The first worker's resident memory (the only one unless `workers` > 1). */
  rssMiB: number;
  cpuPercent: number;
  quietSeconds: number;
  /** Time to issue every start (the client's start calls, 50 at a time). */
  startMs: number;
  reachMs: number;
  /** Months still moving towards AWAITING_APPROVAL when the wait gave up (then nothing is idle). */
  stillMoving: number;
  heapMiB: number;
  /** Every worker's resident memory and CPU, when there are several. */
  perWorker: { rssMiB: number; cpuPercent: number }[];
  /** On the cluster: pg_database_size of the history and visibility databases, parked. */
  databaseMiB?: Record<string, number>;
  /** The same before the first month started (schema, namespace, system workflows). */
  emptyDatabaseMiB?: Record<string, number>;
  loadAverage: number[];
}

export interface ParkedOptions {
  cluster?: boolean;
  workers?: number;
  /** How long to wait for every month to park; default max(10 min, 0.3 s per month). */
  reachSeconds?: number;
}

/**
 * `heapMiB` > 0 starts the worker with --max-old-space-size: the SDK sizes its sticky workflow
 * cache (maxCachedWorkflows) from the heap limit, about 600 workflows per GiB above 200 MiB.
 */
export async function measureParked(
  workflows: number,
  quietSeconds: number,
  heapMiB = 0,
  options: ParkedOptions = {},
): Promise<ParkedResult> {
  const workerEnv = heapMiB > 0 ? { NODE_OPTIONS: `--max-old-space-size=${heapMiB}` } : undefined;
  const stack = await startBenchStack({
    workers: options.workers ?? 1,
    cluster: options.cluster ?? false,
    ...(workerEnv ? { workerEnv } : {}),
  });
  const databaseSizes = async (): Promise<Record<string, number> | undefined> => {
    if (!stack.cluster) return undefined;
    const sizes: Record<string, number> = {};
    for (const db of ['temporal', 'temporal_visibility']) {
      const [bytes] = await stack.cluster.postgres.query('postgres', `SELECT pg_database_size('${db}')`);
      sizes[db] = Number(bytes) / 2 ** 20;
    }
    return sizes;
  };
  try {
    const { admin, client } = stack;
    const emptyDatabaseMiB = await databaseSizes();
    for (const kind of ['select', 'statistic', 'confirm'] as const) {
      await admin.setTaskLatency({ kind, distribution: { type: 'fixed', ms: 0 } });
    }
    const taxNos = benchTaxNos('PK000', workflows);
    await seedTaxpayers(admin, taxNos, 3);
    const began = Date.now();
    const polling = { initialIntervalMs: 200, maximumIntervalMs: 1000, backoffCoefficient: 1.5 };
    for (let i = 0; i < taxNos.length; i += 50) {
      await Promise.all(
        taxNos
          .slice(i, i + 50)
          .map((taxNo) => startMonthlyDeduction(client, { approvers: [APPROVER], taxNo, taxPeriod: PERIOD, polling })),
      );
    }
    const startMs = Date.now() - began;
    // A month whose few invoices are all ineligible completes with nothing to deduct: not parked.
    const parkedQuery = `DeductionStage = 'AWAITING_APPROVAL' AND TaxPeriod = '${PERIOD}'`;
    const movingQuery = `ExecutionStatus = 'Running' AND DeductionStage != 'AWAITING_APPROVAL' AND TaxPeriod = '${PERIOD}'`;
    const deadline = Date.now() + (options.reachSeconds ?? Math.max(600, workflows * 0.3)) * 1000;
    let parked = 0;
    let moving = workflows;
    while (moving > 0 && Date.now() < deadline) {
      await sleep(1000);
      moving = Number((await client.workflow.count(movingQuery)).count);
      parked = Number((await client.workflow.count(parkedQuery)).count);
    }
    const reachMs = Date.now() - began;
    const pids = stack.workerPids();
    // Let the last workflow tasks finish and V8's memory reducer run its idle-time collections
    // (a burst of GC right after the work stops): the figure is the steady state of waiting.
    await sleep(SETTLE_MS);
    const cpuBefore = pids.map(cpuSeconds);
    const t0 = Date.now();
    await sleep(quietSeconds * 1000);
    const elapsed = (Date.now() - t0) / 1000;
    const perWorker = pids.map((pid, i) => ({
      rssMiB: residentMiB(pid),
      cpuPercent: ((cpuSeconds(pid) - cpuBefore[i]!) / elapsed) * 100,
    }));
    const databaseMiB = await databaseSizes();
    return {
      workflows,
      parked,
      rssMiB: perWorker[0]!.rssMiB,
      cpuPercent: perWorker[0]!.cpuPercent,
      quietSeconds: elapsed,
      startMs,
      reachMs,
      stillMoving: moving,
      heapMiB,
      perWorker,
      ...(databaseMiB && emptyDatabaseMiB ? { databaseMiB, emptyDatabaseMiB } : {}),
      loadAverage: loadavg(),
    };
  } finally {
    await stack.stop();
  }
}

export function parkedFigures(r: ParkedResult): Figure[] {
  const heap = r.heapMiB > 0 ? `, worker heap limit ${r.heapMiB} MiB` : ', default heap limit';
  const figures: Figure[] = [
    ...(r.stillMoving > 0
      ? [
          info(
            'NOT PARKED: months still moving when the wait gave up',
            r.stillMoving,
            '',
            'memory and CPU below are of a busy worker, not an idle one',
          ),
        ]
      : []),
    info(
      `Workflows parked at AWAITING_APPROVAL`,
      r.parked,
      `of ${r.workflows}`,
      `reached in ${(r.reachMs / 1000).toFixed(0)} s`,
    ),
    info(
      'Start rate (start calls issued)',
      r.workflows / (r.startMs / 1000),
      'months/s',
      `${(r.startMs / 1000).toFixed(1)} s`,
    ),
    info('Parking rate (start to AWAITING_APPROVAL)', r.parked / (r.reachMs / 1000), 'months/s'),
  ];
  if (r.perWorker.length <= 1) {
    figures.push(
      atMost(`Worker resident memory with ${r.parked} parked${heap}`, r.rssMiB, 500, 'MiB'),
      atMost(`Worker CPU while they wait (${r.quietSeconds.toFixed(0)} s window)`, r.cpuPercent, 1, '%', 'of one core'),
    );
  } else {
    for (const [i, w] of r.perWorker.entries()) {
      figures.push(
        atMost(
          `Worker ${i} resident memory with ${r.parked} parked among ${r.perWorker.length}${heap}`,
          w.rssMiB,
          500,
          'MiB',
        ),
        atMost(
          `Worker ${i} CPU while they wait (${r.quietSeconds.toFixed(0)} s window)`,
          w.cpuPercent,
          1,
          '%',
          'of one core',
        ),
      );
    }
  }
  for (const [db, mib] of Object.entries(r.databaseMiB ?? {})) {
    figures.push(
      info(
        `PostgreSQL ${db} database size`,
        mib,
        'MiB',
        `empty ${(r.emptyDatabaseMiB?.[db] ?? 0).toFixed(1)} MiB; ` +
          `${(((mib - (r.emptyDatabaseMiB?.[db] ?? 0)) * 1024) / r.workflows).toFixed(1)} KiB per month started`,
      ),
    );
  }
  figures.push(
    info(
      'Load average (1, 5, 15 min) at the end',
      r.loadAverage[0]!,
      '',
      r.loadAverage.map((l) => l.toFixed(2)).join(', '),
    ),
  );
  return figures;
}

export async function runParked(
  workflows = 10_000,
  quietSeconds = 60,
  heapMiB = 0,
  options: ParkedOptions = {},
): Promise<Figure[]> {
  return parkedFigures(await measureParked(workflows, quietSeconds, heapMiB, options));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { cluster, rest } = clusterArg();
  const a = numericArgs({ workflows: 10_000, quietSeconds: 60, heapMiB: 0, workers: 1, reachSeconds: 0 }, rest);
  const title = cluster ? 'Parked workflows on the cluster (2 Temporal nodes, PostgreSQL)' : 'Parked workflows';
  console.log(
    formatFigures(
      title,
      await runParked(a.workflows, a.quietSeconds, a.heapMiB, {
        cluster,
        workers: a.workers,
        ...(a.reachSeconds > 0 ? { reachSeconds: a.reachSeconds } : {}),
      }),
    ),
  );
  process.exit(0);
}
