/**
 * History size: events (and payload bytes) per workflow for 100, 2,000 and 20,000 invoices, with
 * short and long bureau waits. `tsx bench/historySize.ts [--longWaitMs=20000] [--largest=20000]`
 */
import { fileURLToPath } from 'node:url';
import { startMonthlyDeduction } from '../client/deductions.js';
import { deductionWorkflowId } from '../workflows/contract.js';
import { atMost, formatFigures, info, numericArgs, type Figure } from './figures.js';
import { historyEvents, payloadBytes } from './history.js';
import { APPROVER, autoApprover, benchTaxNos, PERIOD, seedTaxpayers, startBenchStack, waitForClosed } from './stack.js';

export interface HistorySample {
  invoices: number;
  batchSize: number;
  waitMs: number;
  events: number;
  payloadBytes: number;
  status: string;
}

/** Temporal's default limits: a run is terminated at 51,200 events or 50 MB of history. */
export const TEMPORAL_EVENT_LIMIT = 51_200;

export async function measureHistory(invoiceCounts: number[], waitsMs: number[]): Promise<HistorySample[]> {
  const stack = await startBenchStack({ workers: 1 });
  const samples: HistorySample[] = [];
  try {
    const { admin, client } = stack;
    const approver = autoApprover(client);
    for (const [w, waitMs] of waitsMs.entries()) {
      for (const kind of ['select', 'statistic', 'confirm'] as const) {
        await admin.setTaskLatency({ kind, distribution: { type: 'fixed', ms: waitMs } });
      }
      const taxNos = benchTaxNos(`HT${w}00`, invoiceCounts.length);
      const plan = invoiceCounts.map((invoices, i) => ({
        taxNo: taxNos[i]!,
        invoices,
        // The bureau takes at most 2000 per select call; the default batch is 500.
        batchSize: invoices > 2000 ? 2000 : 500,
      }));
      for (const p of plan) await seedTaxpayers(admin, [p.taxNo], p.invoices);
      for (const p of plan) {
        await startMonthlyDeduction(client, {
          approvers: [APPROVER],
          taxNo: p.taxNo,
          taxPeriod: PERIOD,
          batchSize: p.batchSize,
        });
      }
      const ids = plan.map((p) => deductionWorkflowId(p.taxNo, PERIOD));
      await waitForClosed(client, ids, 20 * 60_000);
      for (const p of plan) {
        const id = deductionWorkflowId(p.taxNo, PERIOD);
        const events = await historyEvents(client, id);
        const status = (await client.workflow.getHandle(id).describe()).status.name;
        samples.push({
          invoices: p.invoices,
          batchSize: p.batchSize,
          waitMs,
          events: events.length,
          payloadBytes: payloadBytes(events),
          status,
        });
      }
    }
    await approver.stop();
    return samples;
  } finally {
    await stack.stop();
  }
}

export function historyFigures(samples: HistorySample[]): Figure[] {
  return samples.map((s) => {
    const name = `${s.invoices} invoices (batch ${s.batchSize}), bureau wait ${s.waitMs / 1000} s: events`;
    const note = `${(s.payloadBytes / 1024).toFixed(0)} KiB payloads, ${s.status}`;
    return s.invoices <= 2000 ? atMost(name, s.events, 150, '', note) : info(name, s.events, '', note);
  });
}

export async function runHistorySize(invoiceCounts = [100, 2000, 20_000], waitsMs = [500, 20_000]): Promise<Figure[]> {
  return historyFigures(await measureHistory(invoiceCounts, waitsMs));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const a = numericArgs({ longWaitMs: 20_000, largest: 20_000 });
  const figures = await runHistorySize([100, 2000, a.largest], [500, a.longWaitMs]);
  console.log(formatFigures('History size per workflow', figures));
  process.exit(0);
}
