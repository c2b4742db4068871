import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'mocha';
import { GatewayCode } from '../protocol/codes.js';
import { openDb } from '../simulator/db.js';
import { Settings } from '../simulator/settings.js';
import { Store } from '../simulator/store.js';
import {
  KINGDEE,
  selectAndWait,
  selectLine,
  selectRequest,
  selectResults,
  sleep,
  TestSandbox,
} from './support/sandbox.js';

/** Every injected fault, per tenant, through the admin API and the start options. */

describe('sandbox: fault injection', () => {
  let t: TestSandbox;

  beforeEach(async () => {
    t = await TestSandbox.start();
    await t.admin.seedDemo({ taxPeriod: '202510', now: '2025-11-05T10:00:00+08:00', invoicesPerTaxpayer: 0 });
    await t.admin.addInvoices(KINGDEE, [
      { invoiceType: 27, invoiceNo: 'F1', invoiceDate: '2025-10-10', invoiceAmount: '100.00', taxAmount: '13.00' },
    ]);
    await t.login();
    await t.ok('taxLogin', { taxNo: KINGDEE });
  });
  afterEach(() => t.close());

  const selectEnvelope = (requestId: string) =>
    t.envelope('invoiceSelect', selectRequest(KINGDEE, [selectLine('F1')]), requestId);
  const selectLedger = async () => (await t.admin.ledger({ interfaceCode: 'invoiceSelect' })).length;

  it('HTTP 5xx before processing: nothing is applied', async () => {
    await t.admin.setFaults({ http5xxRate: 1, injectAt: 'before' });
    const res = await t.rawHttp(selectEnvelope('w1'));
    assert.equal(res.status, 503);
    assert.equal(await selectLedger(), 0);
  });

  it('HTTP 5xx after processing: the write is recorded; with de-duplication on a retry with the same requestId gets the first reply', async () => {
    await t.admin.setRequestIdDedup(true);
    await t.admin.setFaults({ http5xxRate: 1, http5xxStatus: 502, injectAt: 'after', interfaces: ['invoiceSelect'] });
    assert.equal((await t.rawHttp(selectEnvelope('w1'))).status, 502);
    const ledger = await t.admin.ledger({ interfaceCode: 'invoiceSelect' });
    assert.equal(ledger.length, 1, 'the bureau accepted the write although the client never heard');
    await t.admin.clearFaults();
    const retry = await t.raw(selectEnvelope('w1'));
    assert.equal(retry.errorCode, '0000');
    assert.equal(await selectLedger(), 1, 'the retry did nothing again');
    assert.equal((await t.admin.getTaxpayer(KINGDEE)).selectedCount, 1);
  });

  it('connection reset: the socket is destroyed; after processing the write still lands', async () => {
    await t.admin.setFaults({ resetRate: 1, injectAt: 'after' });
    await assert.rejects(t.rawHttp(selectEnvelope('w1')), (err: Error & { code?: string }) => {
      assert.match(String(err.code), /ECONNRESET|ERR_BAD_RESPONSE|ECONNABORTED|EPIPE/);
      return true;
    });
    assert.equal(await selectLedger(), 1);
  });

  it('hung response: never answers until the client times out, and close() still works', async () => {
    await t.admin.setFaults({ hangRate: 1 });
    const started = Date.now();
    await assert.rejects(t.rawHttp(selectEnvelope('w1'), t.accessToken, 300), /timeout/);
    assert.ok(Date.now() - started >= 290);
    const pending = t.rawHttp(selectEnvelope('w2'), t.accessToken, 60_000).catch((e: Error) => e);
    await sleep(100);
    const closing = Date.now();
    await t.close();
    assert.ok(Date.now() - closing < 2000, 'close() did not wait for the hung reply');
    assert.ok((await pending) instanceof Error, 'the hung request ends when the sandbox closes');
    t = await TestSandbox.start(); // afterEach closes it
  });

  it('slow responses answer after slowMs', async () => {
    await t.admin.setFaults({ slowRate: 1, slowMs: 300 });
    const started = Date.now();
    const reply = await t.call('taxperiodQuery', { taxNo: KINGDEE });
    assert.equal(reply.errorCode, '0000');
    assert.ok(Date.now() - started >= 290);
  });

  it('only affects the listed interfaces, and draws the same faults for the same seed', async () => {
    await t.admin.setFaults({ http5xxRate: 0.5, interfaces: ['taxperiodQuery'], seed: 7 });
    assert.equal((await t.rawHttp(t.envelope('taxLogin', { taxNo: KINGDEE }))).status, 200);
    const run = async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++)
        statuses.push((await t.rawHttp(t.envelope('taxperiodQuery', { taxNo: KINGDEE }))).status);
      return statuses;
    };
    const first = await run();
    await t.admin.setFaults({ http5xxRate: 0.5, interfaces: ['taxperiodQuery'], seed: 7 });
    assert.deepEqual(await run(), first);
    assert.ok(first.includes(503) && first.includes(200), `a mix of faults: ${first.join(',')}`);
  });

  it('expired tokens answer 1002 until a new token is fetched', async () => {
    const { expired } = await t.admin.expireTokens();
    assert.ok(expired >= 1);
    const reply = await t.call('taxperiodQuery', { taxNo: KINGDEE });
    assert.equal(reply.errorCode, GatewayCode.TokenInvalid);
    await t.login();
    assert.equal((await t.call('taxperiodQuery', { taxNo: KINGDEE })).errorCode, '0000');
  });

  it('an expired bureau login fails each invoice with 8 "税局登录失败" until taxLogin is called again', async () => {
    await t.admin.expireBureauLogins(KINGDEE);
    const loginFailed = async () => {
      const { success, fail } = await selectResults(t, KINGDEE, [selectLine('F1')]);
      assert.deepEqual([success, fail.map((i) => i.selectResult)], [[], ['8']]);
      assert.match(fail[0]!.description, /税局登录失败/);
    };
    await loginFailed();
    await loginFailed(); // still failing
    await t.ok('taxLogin', { taxNo: KINGDEE });
    assert.deepEqual(await selectAndWait(t, KINGDEE, [selectLine('F1')]), { F1: '1' });
  });

  it('enforces a per-tenant request quota with 4290', async () => {
    await t.admin.setQuota({ requestsPerSecond: 3 });
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) codes.push((await t.call('taxperiodQuery', { taxNo: KINGDEE })).errorCode);
    assert.deepEqual(codes, ['0000', '0000', '0000', '4290', '4290']);
    await sleep(1100);
    assert.equal((await t.call('taxperiodQuery', { taxNo: KINGDEE })).errorCode, '0000');
    await t.admin.setQuota({ requestsPerSecond: null });
    assert.deepEqual(await t.admin.getQuota(), { tenantId: 'devbiz', requestsPerSecond: null });
  });

  it('refuses bad fault settings with 400 naming the field', async () => {
    await assert.rejects(t.admin.setFaults({ http5xxRate: 2 }), (err: { response?: { data?: { field?: string } } }) => {
      assert.equal(err.response?.data?.field, 'http5xxRate');
      return true;
    });
    await assert.rejects(t.admin.setFaults({ hangRate: 0.1 }, 'nobody'), /400/);
  });

  it('holds a task for its latency: 6910 until a fixed latency has passed', async () => {
    await t.admin.setTaskLatency({ kind: 'select', distribution: { type: 'fixed', ms: 400 } });
    const { taskNo } = await t.ok('invoiceSelect', selectRequest(KINGDEE, [selectLine('F1')]));
    assert.equal((await t.call('invoiceSelectQuery', { taxNo: KINGDEE, taskNo: taskNo! })).errorCode, '6910');
    await sleep(450);
    assert.equal((await t.call('invoiceSelectQuery', { taxNo: KINGDEE, taskNo: taskNo! })).errorCode, '0000');
    assert.deepEqual((await t.admin.getTaskLatency()).select, { type: 'fixed', ms: 400 });
  });
});

describe('sandbox: task latency distributions', () => {
  const draws = (settings: Settings, n: number) => Array.from({ length: n }, () => settings.drawTaskDelay('select'));
  const fresh = () => new Settings(new Store(openDb(':memory:')));

  it('fixed, uniform within bounds, long tail capped; the same seed gives the same draws', () => {
    const s = fresh();
    s.setTaskLatency('select', { type: 'fixed', ms: 250 });
    assert.deepEqual(draws(s, 3), [250, 250, 250]);

    s.setTaskLatency('select', { type: 'uniform', minMs: 100, maxMs: 200 }, 42);
    const uniform = draws(s, 200);
    assert.ok(uniform.every((ms) => ms >= 100 && ms <= 200));
    assert.ok(new Set(uniform).size > 50, 'spread over the range');
    const other = fresh();
    other.setTaskLatency('select', { type: 'uniform', minMs: 100, maxMs: 200 }, 42);
    assert.deepEqual(draws(other, 200), uniform, 'deterministic for a seed');

    s.setTaskLatency('select', { type: 'longTail', minMs: 100, alpha: 1.5, maxMs: 60_000 }, 3);
    const tail = draws(s, 1000).sort((a, b) => a - b);
    const median = tail[500]!;
    const p99 = tail[990]!;
    assert.ok(tail[0]! >= 100 && tail.at(-1)! <= 60_000);
    assert.ok(median < 250, `median ${median} near the minimum`);
    assert.ok(p99 > 10 * median, `a long tail: p99 ${p99}, median ${median}`);
  });
});

describe('sandbox: faults at start', () => {
  it('applies start-time faults to every tenant; a tenant setting overrides them', async () => {
    const t = await TestSandbox.start({ faults: { quota: { requestsPerSecond: 1 }, faults: { slowRate: 0 } } });
    try {
      await t.admin.seedDemo({ taxPeriod: '202510', now: '2025-11-05T10:00:00+08:00', invoicesPerTaxpayer: 0 });
      await t.login();
      assert.equal((await t.call('taxperiodQuery', { taxNo: KINGDEE })).errorCode, '0000');
      assert.equal((await t.call('taxperiodQuery', { taxNo: KINGDEE })).errorCode, '4290');
      await t.admin.setQuota({ requestsPerSecond: 100 });
      assert.equal((await t.call('taxperiodQuery', { taxNo: KINGDEE })).errorCode, '0000');
    } finally {
      await t.close();
    }
  });
});

describe('sandbox: faults from the environment (npm run sandbox)', () => {
  it('reads SANDBOX_* fault variables and names a bad one', async () => {
    const { sandboxEnv } = await import('../simulator/sandboxEnv.js');
    const env = sandboxEnv({
      SANDBOX_FAULTS: '{"http5xxRate":0.1,"injectAt":"after"}',
      SANDBOX_QUOTA_RPS: '20',
      SANDBOX_TASK_LATENCY: '{"select":{"type":"uniform","minMs":10,"maxMs":20}}',
    });
    assert.equal(env.port, 8790);
    assert.equal(env.faults?.quota?.requestsPerSecond, 20);
    assert.equal(env.faults?.faults?.injectAt, 'after');
    assert.deepEqual(env.faults?.taskLatency?.select, { type: 'uniform', minMs: 10, maxMs: 20 });
    assert.throws(() => sandboxEnv({ SANDBOX_FAULTS: '{"hangRate":3}' }), /SANDBOX_FAULTS\.hangRate/);
    assert.throws(() => sandboxEnv({ SANDBOX_FAULTS: 'nope' }), /SANDBOX_FAULTS: must be JSON/);
  });
});
