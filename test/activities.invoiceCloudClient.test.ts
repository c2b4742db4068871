import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'mocha';
import { invoiceCloudConfigFromEnv, type InvoiceCloudConfig } from '../activities/invoiceCloudConfig.js';
import { InvoiceCloudClient } from '../activities/invoiceCloudClient.js';
import { InvoiceCloudError } from '../activities/invoiceCloudErrors.js';
import { RequestRateLimiter } from '../activities/requestRateLimiter.js';
import { KINGDEE, selectLine, selectRequest, TestSandbox } from './support/sandbox.js';

/** The typed invoice-cloud client against the real sandbox over loopback. */

const rejectsWith = (kind: InvoiceCloudError['kind'], code: string | RegExp, message?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof InvoiceCloudError, `an InvoiceCloudError, got ${String(err)}`);
  assert.equal(err.kind, kind);
  if (typeof code === 'string') assert.equal(err.code, code);
  else assert.match(err.code, code);
  if (message) assert.match(err.message, message);
  return true;
};

describe('invoice-cloud client against the sandbox', () => {
  let t: TestSandbox;
  let config: InvoiceCloudConfig;
  const clientWith = (env: Record<string, string> = {}) => {
    config = invoiceCloudConfigFromEnv({ INVOICE_CLOUD_BASE_URL: t.url, INVOICE_CLOUD_TIMEOUT_MS: '1500', ...env });
    return new InvoiceCloudClient(config);
  };

  beforeEach(async () => {
    t = await TestSandbox.start();
    await t.admin.seedDemo({ taxPeriod: '202510', now: '2025-11-05T10:00:00+08:00', invoicesPerTaxpayer: 0 });
    await t.admin.addInvoices(KINGDEE, [
      { invoiceType: 27, invoiceNo: 'C1', invoiceDate: '2025-10-10', invoiceAmount: '100.00', taxAmount: '13.00' },
    ]);
  });
  afterEach(() => t.close());

  it('speaks AES-GCM end to end when the tenant and the client have the password', async () => {
    await t.admin.setTenantEncoding({ kind: 'aes-gcm', password: 's3cret-数据' });
    const aes = clientWith({ INVOICE_CLOUD_DATA_PASSWORD: 's3cret-数据' });
    assert.equal((await aes.call('taxLogin', { taxNo: KINGDEE })).loginType, '1');
    assert.equal((await aes.call('taxperiodQuery', { taxNo: KINGDEE })).taxPeriod, '202510');
    await assert.rejects(
      clientWith({ INVOICE_CLOUD_DATA_PASSWORD: 'other' }).call('taxperiodQuery', { taxNo: KINGDEE }),
      rejectsWith('business', '1001', /failed authentication/),
    );
    await assert.rejects(
      clientWith().call('taxperiodQuery', { taxNo: KINGDEE }),
      rejectsWith('business', '1001'),
      'a base64 client against an AES tenant',
    );
  });

  it('renews an expired token and sends the write again with the same requestId: applied once', async () => {
    const client = clientWith();
    await client.call('taxLogin', { taxNo: KINGDEE });
    await t.admin.expireTokens();
    const accepted = await client.call('invoiceSelect', selectRequest(KINGDEE, [selectLine('C1')]), 'select-once');
    assert.match(accepted.taskNo!, /^[0-9a-f]{32}$/);
    const ledger = await t.admin.ledger({ interfaceCode: 'invoiceSelect' });
    assert.equal(ledger.length, 1, 'one write reached the bureau');
    assert.match(ledger[0]!.requestId, /^\d{16}$/, 'a requestId in the documented style: 16 digits');
  });

  it('a write whose reply was lost (5xx after processing) is retryable, and the bureau did apply it', async () => {
    const client = clientWith();
    await client.call('taxLogin', { taxNo: KINGDEE });
    const before = (await t.admin.ledger({ interfaceCode: 'invoiceSelect' })).length;
    await t.admin.setFaults({ http5xxRate: 1, injectAt: 'after', interfaces: ['invoiceSelect'] });
    const request = selectRequest(KINGDEE, [selectLine('C1')]);
    await assert.rejects(client.call('invoiceSelect', request, 'lost-reply'), rejectsWith('retryable', 'HTTP_503'));
    await t.admin.clearFaults();
    const applied = await t.admin.ledger({ interfaceCode: 'invoiceSelect' });
    assert.equal(applied.length, before + 1, 'the bureau took the write although the client heard nothing');
    // Without de-duplication (a real tenant promises none) a blind resend is a second write: this is
    // why every write activity reads the bureau before it sends (docs/protocol.md).
    await client.call('invoiceSelect', request, 'lost-reply');
    assert.equal((await t.admin.ledger({ interfaceCode: 'invoiceSelect' })).length, before + 2);
    // With the sandbox's de-duplication on, the same requestId gets the first reply instead.
    await t.admin.setRequestIdDedup(true);
    try {
      await t.admin.setFaults({ http5xxRate: 1, injectAt: 'after', interfaces: ['invoiceSelect'] });
      await assert.rejects(client.call('invoiceSelect', request, 'deduplicated'), rejectsWith('retryable', 'HTTP_503'));
      await t.admin.clearFaults();
      const retry = await client.call('invoiceSelect', request, 'deduplicated');
      const ledger = await t.admin.ledger({ interfaceCode: 'invoiceSelect' });
      assert.equal(ledger.length, before + 3);
      assert.equal(ledger.at(-1)!.taskNo, retry.taskNo);
    } finally {
      await t.admin.setRequestIdDedup(false);
    }
  });

  it('classifies a reset connection and a hung reply as retryable network failures', async () => {
    const client = clientWith();
    await t.admin.setFaults({ resetRate: 1 });
    await assert.rejects(client.call('taxperiodQuery', { taxNo: KINGDEE }), rejectsWith('retryable', 'NETWORK'));
    await t.admin.setFaults({ hangRate: 1 });
    await assert.rejects(
      client.call('taxperiodQuery', { taxNo: KINGDEE }),
      rejectsWith('retryable', 'NETWORK', /ECONNABORTED|timeout/i),
    );
  });

  it('a malformed reply is a non-retryable protocol error naming the interface and the field', async () => {
    const client = clientWith();
    await t.admin.setFaults({ corruptRate: 1, interfaces: ['taxperiodQuery'] });
    await assert.rejects(
      client.call('taxperiodQuery', { taxNo: KINGDEE }),
      rejectsWith(
        'protocol',
        'BAD_REPLY',
        /^taxperiodQuery: \[BAD_REPLY\] reply data: taxPeriod: .*\(capture .*taxperiodQuery\.json\)$/,
      ),
    );
  });

  it('answers over the quota are retryable 4290; with INVOICE_CLOUD_MAX_RPS the client stays inside it', async () => {
    await t.admin.setQuota({ requestsPerSecond: 4 });
    const unlimited = clientWith();
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, () => unlimited.call('taxperiodQuery', { taxNo: KINGDEE })),
    );
    const refused = results.filter((r) => r.status === 'rejected');
    assert.ok(refused.length > 0, 'the quota bites without a client limit');
    for (const r of refused) rejectsWith('retryable', '4290')((r as PromiseRejectedResult).reason);

    await new Promise((resolve) => setTimeout(resolve, 1100));
    const limited = clientWith({ INVOICE_CLOUD_MAX_RPS: '4' });
    const started = Date.now();
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => limited.call('taxperiodQuery', { taxNo: KINGDEE })),
    );
    assert.equal(replies.length, 10, 'no call refused');
    assert.ok(Date.now() - started >= 2000, 'ten calls at four per second take at least two seconds');
  });
});

describe('request rate limiter', () => {
  it('lets n requests through per second, counting each from its reply, in order', async () => {
    let now = 0;
    const limiter = new RequestRateLimiter(2, () => now);
    const order: number[] = [];
    const releases: (() => void)[] = [];
    const all = [1, 2, 3].map((n) =>
      limiter.acquire().then((release) => {
        order.push(n);
        releases.push(release);
      }),
    );
    const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
    await settle();
    assert.deepEqual(order, [1, 2], 'the third waits');
    now = 5000;
    await settle();
    assert.deepEqual(order, [1, 2], 'still waiting: both requests are in flight, however long they take');
    releases[0]!(); // the first reply arrives at t=5000: its slot frees at t=6000
    now = 5999;
    await settle();
    assert.deepEqual(order, [1, 2], 'a slot frees only a second after its reply');
    now = 6000;
    await Promise.all(all);
    assert.deepEqual(order, [1, 2, 3]);
    assert.throws(() => new RequestRateLimiter(0), /positive integer/);
  });
});
