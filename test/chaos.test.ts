import assert from 'node:assert/strict';
import { formatChaosReport, runChaos } from '../scripts/chaos/runChaos.js';
import { testToday } from './support/calendar.js';

/** The CI variant of `npm run chaos`: fewer taxpayers and kills, the same faults and invariants. */
describe('Chaos (CI variant)', function () {
  this.timeout(900_000);

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
      timeoutMs: 540_000,
      // Within mocha's 900 s: a month still retrying past the timeout is waited for up to 4 minutes.
      retryWaitMs: 240_000,
      seed: 7,
      today: testToday().toISOString(),
    });
    console.log(formatChaosReport(report).replace(/^/gm, '      '));

    // Every kind of fault fired, as the processes and the sandbox's fault injector counted it.
    const fired = report.faultsFired;
    assert.ok(fired.liveWorkerKills >= 1, `a SIGKILL hit a live worker (${fired.liveWorkerKills})`);
    assert.equal(fired.liveSandboxKills, 1, 'the SIGKILL hit the live sandbox');
    assert.equal(fired.temporalRestarts, 1, 'the Temporal server was killed and restarted');
    assert.ok(fired.served.http5xx >= 1, `a 5xx was served (${fired.served.http5xx})`);
    assert.ok(fired.served.hang >= 1, `a hung reply was served (${fired.served.hang})`);
    assert.ok(
      fired.served.lostAfterProcessing >= 1,
      `a reply was lost after processing (${fired.served.lostAfterProcessing})`,
    );

    // The invariants, from the bureau's ledger, pool and tables, Temporal and the approvals sent.
    assert.equal(report.invariants.length, 6);
    for (const invariant of report.invariants) assert.ok(invariant.held, `${invariant.name}: ${invariant.detail}`);
  });
});
