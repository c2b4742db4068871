import assert from 'node:assert/strict';
import { inboxOverviewFigures, measureInboxOverview } from '../bench/inboxOverview.js';

/** The overview bench at a small size: what it counts is right, and the page reads visibility only. */
describe("the period overview's bench (60 months on a dev server)", function () {
  this.timeout(180_000);

  it('counts every visible month, and each page makes at most one list call, never a query or a history read', async () => {
    const o = { months: 60, requests: 4, intervalMs: 200 };
    const r = await measureInboxOverview(o);
    assert.equal(r.expected, 54, '9 taxpayers in 10 are the approver’s');
    assert.equal(r.counted, r.expected);
    assert.deepEqual(Object.keys(r.uncached.calls), ['ListWorkflowExecutions'], JSON.stringify(r.uncached.calls));
    assert.equal(r.uncached.maxCallsPerPage, 1, 'one page of 1,000 holds the period');
    assert.ok(r.cached.maxCallsPerPage <= 1);
    for (const f of inboxOverviewFigures(o, r)) assert.notEqual(f.met, false, `${f.name}: ${f.value}`);
  });
});
