/**
 * Parked workflows: N months waiting for approval; the worker process's resident memory and CPU
 * while they wait. `tsx bench/parked.ts [--workflows=10000] [--quietSeconds=60]`
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startMonthlyDeduction } from '../client/deductions.js';
import { atMost, formatFigures, info, numericArgs, sleep, type Figure } from './figures.js';
import { APPROVER, benchTaxNos, PERIOD, seedTaxpayers, startBenchStack } from './stack.js';

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
  rssMiB: number;
  cpuPercent: number;
  quietSeconds: number;
  reachMs: number;
  heapMiB: number;
}

/**
 * `heapMiB` > 0 starts the worker with --max-old-space-size: the SDK sizes its sticky workflow
 * cache (maxCachedWorkflows) from the heap limit, about 600 workflows per GiB above 200 MiB.
 */
export async function measureParked(workflows: number, quietSeconds: number, heapMiB = 0): Promise<ParkedResult> {
  const workerEnv = heapMiB > 0 ? { NODE_OPTIONS: `--max-old-space-size=${heapMiB}` } : undefined;
  const stack = await startBenchStack({ workers: 1, ...(workerEnv ? { workerEnv } : {}) });
  try {
    const { admin, client } = stack;
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
    // A month whose few invoices are all ineligible completes with nothing to deduct: not parked.
    const parkedQuery = `DeductionStage = 'AWAITING_APPROVAL' AND TaxPeriod = '${PERIOD}'`;
    const movingQuery = `ExecutionStatus = 'Running' AND DeductionStage != 'AWAITING_APPROVAL' AND TaxPeriod = '${PERIOD}'`;
    const deadline = Date.now() + Math.max(10 * 60_000, workflows * 300);
    let parked = 0;
    for (let moving = workflows; moving > 0 && Date.now() < deadline;) {
      await sleep(1000);
      moving = Number((await client.workflow.count(movingQuery)).count);
      parked = Number((await client.workflow.count(parkedQuery)).count);
    }
    const reachMs = Date.now() - began;
    const [pid] = stack.workerPids();
    // Let the last workflow tasks finish and V8's memory reducer run its idle-time collections
    // (a burst of GC right after the work stops): the figure is the steady state of waiting.
    await sleep(SETTLE_MS);
    const cpuBefore = cpuSeconds(pid!);
    const t0 = Date.now();
    await sleep(quietSeconds * 1000);
    const cpu = cpuSeconds(pid!) - cpuBefore;
    const elapsed = (Date.now() - t0) / 1000;
    return {
      workflows,
      parked,
      rssMiB: residentMiB(pid!),
      cpuPercent: (cpu / elapsed) * 100,
      quietSeconds: elapsed,
      reachMs,
      heapMiB,
    };
  } finally {
    await stack.stop();
  }
}

export function parkedFigures(r: ParkedResult): Figure[] {
  const heap = r.heapMiB > 0 ? `, worker heap limit ${r.heapMiB} MiB` : ', default heap limit';
  return [
    info(
      `Workflows parked at AWAITING_APPROVAL`,
      r.parked,
      `of ${r.workflows}`,
      `reached in ${(r.reachMs / 1000).toFixed(0)} s`,
    ),
    atMost(`Worker resident memory with ${r.parked} parked${heap}`, r.rssMiB, 500, 'MiB'),
    atMost(`Worker CPU while they wait (${r.quietSeconds.toFixed(0)} s window)`, r.cpuPercent, 1, '%', 'of one core'),
  ];
}

export async function runParked(workflows = 10_000, quietSeconds = 60, heapMiB = 0): Promise<Figure[]> {
  return parkedFigures(await measureParked(workflows, quietSeconds, heapMiB));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const a = numericArgs({ workflows: 10_000, quietSeconds: 60, heapMiB: 0 });
  console.log(formatFigures('Parked workflows', await runParked(a.workflows, a.quietSeconds, a.heapMiB)));
  process.exit(0);
}
