/**
 * Throughput at the API quota, against the plain-script baseline, and with 1..N worker processes.
 * `tsx bench/throughput.ts [--months=500] [--invoices=200] [--quota=20] [--workers=1] [--baseline=1]`
 */
import { fileURLToPath } from 'node:url';
import { startMonthlyDeduction } from '../client/deductions.js';
import { deductionWorkflowId, pollingForExpectedTaskMs } from '../workflows/contract.js';
import { runBaselineMonths } from './baseline.js';
import { atLeast, atMost, formatFigures, info, numericArgs, type Figure } from './figures.js';
import { APPROVER, autoApprover, benchTaxNos, PERIOD, seedTaxpayers, startBenchStack, waitForClosed } from './stack.js';

export interface ThroughputOptions {
  months: number;
  invoices: number;
  /** Sandbox quota Q in requests per second; 0 = no quota. */
  quota: number;
  workers: number;
  /** Also run the plain-script baseline on a second set of taxpayers, after the Temporal run. */
  baseline: boolean;
  /** Fixed bureau task latency. */
  taskLatencyMs: number;
}

export interface ThroughputResult {
  temporal: { ms: number; calls: number; quotaRejections: number; statuses: Record<string, number> };
  baseline?: { ms: number; calls: number; quotaRejections: number; failures: number };
}

const BATCH_SIZE = 500;

export async function measureThroughput(o: ThroughputOptions): Promise<ThroughputResult> {
  const perWorkerRps = o.quota > 0 ? Math.max(1, Math.floor(o.quota / o.workers)) : undefined;
  const stack = await startBenchStack({ workers: o.workers, maxRpsPerWorker: perWorkerRps });
  try {
    const { admin, client, proxy } = stack;
    for (const kind of ['select', 'statistic', 'confirm'] as const) {
      await admin.setTaskLatency({ kind, distribution: { type: 'fixed', ms: o.taskLatencyMs } });
    }
    const polling = pollingForExpectedTaskMs(o.taskLatencyMs);
    const taxNos = benchTaxNos('TP000', o.months);
    const baselineTaxNos = o.baseline ? benchTaxNos('BL000', o.months) : [];
    await seedTaxpayers(admin, [...taxNos, ...baselineTaxNos], o.invoices);
    await admin.setQuota({ requestsPerSecond: o.quota > 0 ? o.quota : null });

    proxy.reset();
    const began = Date.now();
    const approver = autoApprover(client);
    for (const taxNo of taxNos) {
      await startMonthlyDeduction(client, {
        approvers: [APPROVER],
        taxNo,
        taxPeriod: PERIOD,
        polling,
        batchSize: BATCH_SIZE,
      });
    }
    const statuses = await waitForClosed(
      client,
      taxNos.map((t) => deductionWorkflowId(t, PERIOD)),
      30 * 60_000,
    );
    const temporalMs = Date.now() - began;
    await approver.stop();
    const counted = proxy.counts();
    const result: ThroughputResult = {
      temporal: { ms: temporalMs, calls: counted.total, quotaRejections: counted.quotaRejections, statuses },
    };

    if (o.baseline) {
      await stack.stopWorkers();
      proxy.reset();
      const start = Date.now();
      const outcome = await runBaselineMonths(proxy.url, baselineTaxNos, {
        ...(o.quota > 0 ? { maxRps: o.quota } : {}),
        polling,
        batchSize: BATCH_SIZE,
      });
      const c = proxy.counts();
      result.baseline = {
        ms: Date.now() - start,
        calls: c.total,
        quotaRejections: c.quotaRejections,
        failures: outcome.failures,
      };
    }
    return result;
  } finally {
    await stack.stop();
  }
}

export function throughputFigures(o: ThroughputOptions, r: ThroughputResult): Figure[] {
  const t = r.temporal;
  const completed = t.statuses.COMPLETED ?? 0;
  const callsPerMonth = t.calls / o.months;
  const scope = `${o.months} months x ${o.invoices} invoices, ${o.workers} worker(s)`;
  const figures: Figure[] = [
    info(`Temporal: months completed (${scope})`, completed, `of ${o.months}`),
    info('Temporal: end-to-end time', t.ms / 1000, 's'),
    info('Temporal: gateway calls per taxpayer-month', callsPerMonth, ''),
    info('Temporal: taxpayer-months per minute', (completed / t.ms) * 60_000, '/min'),
  ];
  if (o.quota > 0) {
    const ideal = o.quota / callsPerMonth; // months per second at the quota
    figures.push(
      atLeast(`Temporal: throughput / ideal (Q=${o.quota} rps)`, completed / (t.ms / 1000) / ideal, 0.9, ''),
    );
    figures.push(atMost('Temporal: quota rejections (4290)', t.quotaRejections, 0, ''));
  }
  if (r.baseline) {
    const b = r.baseline;
    figures.push(info('Baseline script: end-to-end time', b.ms / 1000, 's', `${b.failures} months failed`));
    figures.push(info('Baseline script: gateway calls per taxpayer-month', b.calls / o.months, ''));
    if (o.quota > 0) figures.push(atMost('Baseline script: quota rejections (4290)', b.quotaRejections, 0, ''));
    figures.push(atMost('Temporal time / baseline time', t.ms / b.ms, 1.15, ''));
  }
  return figures;
}

export async function runThroughput(o: ThroughputOptions): Promise<Figure[]> {
  return throughputFigures(o, await measureThroughput(o));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const a = numericArgs({ months: 500, invoices: 200, quota: 20, workers: 1, baseline: 1, latencyMs: 1000 });
  const o: ThroughputOptions = {
    months: a.months,
    invoices: a.invoices,
    quota: a.quota,
    workers: a.workers,
    baseline: a.baseline !== 0,
    taskLatencyMs: a.latencyMs,
  };
  console.log(formatFigures('Throughput at the API quota, against the baseline', await runThroughput(o)));
  process.exit(0);
}
