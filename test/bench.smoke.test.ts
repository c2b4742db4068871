import assert from 'node:assert/strict';
import { accountingScaleFigures, measureAccountingScale } from '../bench/accountingScale.js';
import { formatFigures } from '../bench/figures.js';
import { historyFigures, measureHistory } from '../bench/historySize.js';
import { inboxListFigures, measureInboxList } from '../bench/inboxList.js';
import { measureParked, parkedFigures } from '../bench/parked.js';
import { measureThroughput, throughputFigures } from '../bench/throughput.js';
import { measureNotice, noticeFigures } from '../bench/timeToNotice.js';

/**
 * Each benchmark at its smallest size (seconds, not minutes): it runs on the real stack and its
 * figure reporting works. The figures themselves are benchmarks' business, not asserted here.
 */
describe('benchmarks (smoke, smallest sizes)', function () {
  this.timeout(240_000);

  it('time to notice measures lag and queries from history and the ledger', async () => {
    const c = { latencyMs: 2000, scale: 1, lagTargetMs: 2000, queryTarget: 6 };
    const samples = await measureNotice(c, 1);
    assert.ok(samples.length >= 6, `3 tasks per policy, got ${samples.length}`);
    for (const s of samples) {
      assert.ok(s.lagMs > -500, `lag ${s.lagMs} ms cannot be much before the task settled`);
      assert.ok(s.queries >= 1);
    }
    assert.match(formatFigures('notice', noticeFigures(c, samples)), /worst lag/);
  });

  it('throughput counts every gateway call and runs the baseline script', async () => {
    const o = { months: 2, invoices: 20, quota: 20, workers: 1, baseline: true, taskLatencyMs: 300 };
    const r = await measureThroughput(o);
    assert.equal(r.temporal.statuses.COMPLETED, 2);
    assert.ok(r.temporal.calls >= 2 * 10, `at least 10 calls per month, got ${r.temporal.calls}`);
    assert.equal(r.baseline?.failures, 0);
    assert.ok((r.baseline?.calls ?? 0) >= 2 * 10);
    assert.match(formatFigures('throughput', throughputFigures(o, r)), /Temporal time \/ baseline time/);
  });

  it('history size reads the events of closed workflows', async () => {
    const samples = await measureHistory([10], [200]);
    assert.equal(samples.length, 1);
    assert.equal(samples[0]!.status, 'COMPLETED');
    assert.ok(samples[0]!.events > 20);
    assert.match(formatFigures('history', historyFigures(samples)), /events/);
  });

  it('inbox list: the page with 50 pending months, timed over HTTP, Temporal calls counted', async () => {
    const o = { months: 50, requests: 3, intervalMs: 100 };
    const r = await measureInboxList(o);
    assert.equal(r.rows, 50);
    assert.equal(r.uncached.maxCallsPerPage, 2, 'one list call for the waiting months, one for the history');
    assert.deepEqual(Object.keys(r.uncached.calls), ['ListWorkflowExecutions']);
    assert.ok(r.cached.maxCallsPerPage <= 2);
    assert.match(formatFigures('inbox', inboxListFigures(o, r)), /list page latency p95/);
  });

  it('parked workflows: the worker process is measured from /proc', async () => {
    const r = await measureParked(3, 1);
    assert.ok(r.parked >= 1, `some months park (a month with only ineligible invoices completes), got ${r.parked}`);
    assert.ok(r.rssMiB > 10);
    assert.match(formatFigures('parked', parkedFigures(r)), /resident memory/);
  });

  it('auto-accounting at scale: books a small pool, reads its history and the worker from /proc', async () => {
    const o = { invoices: 300, maxPerRun: 250, batchSize: 50 };
    const r = await measureAccountingScale(o);
    assert.equal(r.report.status, 'COMPLETED');
    assert.equal(r.report.booked, 250);
    assert.ok(r.events > 10 && r.historyBytes > 0 && r.largestPayloadBytes > 0);
    assert.ok(r.workerPeakMiB > 10);
    assert.ok((r.calls.invoiceAccount ?? 0) >= 5, 'batches of 50');
    assert.match(formatFigures('accounting', accountingScaleFigures(o, r)), /Largest payload in history/);
  });
});
