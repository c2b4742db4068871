/**
 * Scaling: the same workload with 1, 2 and 3 worker processes on one task queue, no quota, so the
 * workers (not the API) are the limit. `tsx bench/scaling.ts [--months=60] [--invoices=200] [--maxWorkers=3]`
 */
import { fileURLToPath } from 'node:url';
import { formatFigures, info, numericArgs, type Figure } from './figures.js';
import { measureThroughput } from './throughput.js';

export async function runScaling(months = 60, invoices = 200, maxWorkers = 3): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (let workers = 1; workers <= maxWorkers; workers++) {
    const r = await measureThroughput({ months, invoices, quota: 0, workers, baseline: false, taskLatencyMs: 1000 });
    const completed = r.temporal.statuses.COMPLETED ?? 0;
    figures.push(
      info(
        `${workers} worker process(es): taxpayer-months per minute`,
        (completed / r.temporal.ms) * 60_000,
        '/min',
        `${completed}/${months} months x ${invoices} invoices in ${(r.temporal.ms / 1000).toFixed(1)} s`,
      ),
    );
  }
  return figures;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const a = numericArgs({ months: 60, invoices: 200, maxWorkers: 3 });
  console.log(
    formatFigures('Scaling: worker processes on one task queue', await runScaling(a.months, a.invoices, a.maxWorkers)),
  );
  process.exit(0);
}
