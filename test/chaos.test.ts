import assert from 'node:assert/strict';
import { formatChaosReport, runChaos } from '../scripts/chaos/runChaos.js';
import { testToday } from './support/calendar.js';

/** The CI variant of `npm run chaos`: fewer taxpayers and kills, the same faults and invariants. */
describe('Chaos (CI variant)', function () {
  this.timeout(600_000);

  it('completes every taxpayer-month exactly once through worker, Temporal and sandbox crashes', async () => {
    const report = await runChaos({
      taxpayers: 6,
      invoicesPerTaxpayer: 40,
      workers: 2,
      workerKills: 4,
      temporalRestarts: 1,
      sandboxRestarts: 1,
      expiries: 1,
      actionGapMs: [1500, 3000],
      timeoutMs: 300_000,
      seed: 7,
      today: testToday().toISOString(),
    });
    console.log(formatChaosReport(report).replace(/^/gm, '      '));
    assert.equal(report.actions['kill-worker'], 4);
    assert.equal(report.actions['restart-temporal'], 1);
    assert.equal(report.actions['restart-sandbox'], 1);
    for (const invariant of report.invariants) assert.ok(invariant.held, `${invariant.name}: ${invariant.detail}`);
  });
});
