import assert from 'node:assert/strict';
import { fleetQuotaFigures, measureFleetQuota } from '../bench/fleetQuota.js';
import { formatFigures } from '../bench/figures.js';

/**
 * bench/fleetQuota.ts at its smallest size: three worker processes, each told the tenant's quota
 * and the fleet size, against the sandbox enforcing the quota; then the control run, the same three
 * told a fleet of one (each taking the whole quota), which the sandbox must refuse.
 */
describe('one quota for the whole fleet (benchmark smoke, 3 worker processes)', function () {
  this.timeout(240_000);

  it('three workers told the fleet size stay inside the quota; told a fleet of one, they do not', async () => {
    const o = { months: 4, invoices: 20, quota: 3, workers: 3, single: false, control: true, taskLatencyMs: 300 };
    const r = await measureFleetQuota(o);
    assert.equal(r.fleet.completed, o.months);
    assert.ok(r.fleet.calls >= o.months * 10, `at least 10 gateway calls per month, got ${r.fleet.calls}`);
    assert.equal(r.fleet.quotaRejections, 0, 'quota rejections');
    assert.ok(r.fleet.peakPerSecond <= o.quota, `at most ${o.quota} in any second, got ${r.fleet.peakPerSecond}`);
    assert.ok(
      r.control!.quotaRejections > 0,
      `each worker taking the whole quota, the fleet should be refused (peak ${r.control!.peakPerSecond} in a second)`,
    );
    assert.match(formatFigures('fleet', fleetQuotaFigures(o, r)), /quota rejections \(4290\)\s+0 /);
  });
});
