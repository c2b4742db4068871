import assert from 'node:assert/strict';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import axios from 'axios';
import { InvoiceCloudClient } from '../activities/invoiceCloudClient.js';
import { invoiceCloudConfigFromEnv } from '../activities/invoiceCloudConfig.js';
import { RequestRateLimiter } from '../activities/requestRateLimiter.js';
import { TEST_WINDOW } from './support/calendar.js';
import { KINGDEE, sleep, TestSandbox } from './support/sandbox.js';

/** An activity's cancellation reaches the invoice-cloud calls and the quota wait. */

const settle = () => sleep(20);

describe('request rate limiter: an aborted wait', () => {
  it('ends at once with the reason, takes no slot, and the next caller is served', async () => {
    let now = 0;
    const limiter = new RequestRateLimiter(1, () => now);
    const first = await limiter.acquire();
    const controller = new AbortController();
    const order: string[] = [];
    const waiting = limiter.acquire(controller.signal).then(
      () => order.push('aborted caller served'),
      (error: unknown) => order.push(`aborted caller: ${(error as Error).message}`),
    );
    const next = limiter.acquire().then((release) => {
      order.push('next served');
      return release;
    });
    await settle();
    assert.deepEqual(order, [], 'both wait while the one slot is in flight');
    controller.abort(new Error('cancelled'));
    await waiting;
    assert.deepEqual(order, ['aborted caller: cancelled'], 'the aborted wait ends at once, the slot still taken');
    first(); // the reply arrives at t=0: the slot frees at t=1000
    now = 1000;
    const release = await next;
    assert.deepEqual(order, ['aborted caller: cancelled', 'next served']);
    // The aborted caller took no slot: the next one holds the only one, and a fourth waits for it.
    let fourth = false;
    void limiter.acquire().then(() => (fourth = true));
    now = 5000;
    await settle();
    assert.equal(fourth, false, 'one slot, held by the next caller');
    release();
    now = 6000;
    await settle();
    assert.equal(fourth, true);
  });

  it('an already aborted signal never waits, and an abort while queued behind others ends that wait alone', async () => {
    const limiter = new RequestRateLimiter(1);
    const done = new AbortController();
    done.abort(new Error('already cancelled'));
    await assert.rejects(limiter.acquire(done.signal), /already cancelled/);
    const held = await limiter.acquire();
    const queued = [new AbortController(), new AbortController()];
    const outcomes: string[] = [];
    const waits = queued.map((c, i) =>
      limiter.acquire(c.signal).then(
        (release) => {
          outcomes.push(`${i} served`);
          release();
        },
        () => outcomes.push(`${i} aborted`),
      ),
    );
    queued[1]!.abort(new Error('second cancelled'));
    await settle();
    assert.deepEqual(outcomes, ['1 aborted'], 'the second caller leaves the line while the first still waits');
    held();
    await Promise.all(waits);
    assert.deepEqual(outcomes, ['1 aborted', '0 served']);
  });
});

describe('invoice-cloud client in a cancelled activity, against the sandbox', function () {
  this.timeout(30_000);
  let t: TestSandbox;
  /** Gateway requests the client sent, by interfaceCode (axios is the client's real transport). */
  let sent: string[];
  const clientWith = (env: Record<string, string> = {}) => {
    const config = invoiceCloudConfigFromEnv({
      INVOICE_CLOUD_BASE_URL: t.url,
      INVOICE_CLOUD_TIMEOUT_MS: '10000',
      ...env,
    });
    const http = axios.create({ baseURL: config.baseUrl, timeout: config.timeoutMs });
    http.interceptors.request.use((request) => {
      const code = (request.data as { interfaceCode?: string } | undefined)?.interfaceCode;
      if (code) sent.push(code);
      return request;
    });
    return new InvoiceCloudClient(config, http);
  };

  beforeEach(async () => {
    sent = [];
    t = await TestSandbox.start();
    await t.admin.seedDemo({ taxPeriod: TEST_WINDOW.period, now: TEST_WINDOW.sandboxNow, invoicesPerTaxpayer: 0 });
    await t.admin.setClock(TEST_WINDOW.sandboxNow);
  });
  afterEach(() => t.close());

  it('a reply that never comes: the cancellation ends the call at once, not at the call timeout', async () => {
    const client = clientWith();
    await client.authenticate();
    await t.admin.setFaults({ hangRate: 1, interfaces: ['taxperiodQuery'] });
    const activity = new MockActivityEnvironment();
    const call = activity.run(() => client.call('taxperiodQuery', { taxNo: KINGDEE }));
    await sleep(300);
    assert.deepEqual(sent, ['taxperiodQuery'], 'the request is on its way and gets no answer');
    const cancelledAt = Date.now();
    activity.cancel();
    await assert.rejects(call, (error: unknown) => error instanceof CancelledFailure);
    const tookMs = Date.now() - cancelledAt;
    assert.ok(tookMs < 500, `the call ended ${tookMs} ms after the cancellation (call timeout 10 s)`);
  });

  it('a call waiting for a quota slot: the cancellation ends the wait and nothing is sent', async () => {
    const client = clientWith({ INVOICE_CLOUD_MAX_RPS: '1' });
    await client.authenticate();
    await t.admin.setFaults({ hangRate: 1, interfaces: ['taxperiodQuery'] });
    const holder = new MockActivityEnvironment();
    const holding = holder.run(() => client.call('taxperiodQuery', { taxNo: KINGDEE }));
    await sleep(200);
    const waiter = new MockActivityEnvironment();
    const waiting = waiter.run(() => client.call('taxLogin', { taxNo: KINGDEE }));
    await sleep(300);
    assert.deepEqual(sent, ['taxperiodQuery'], 'the second call waits for the one slot');
    waiter.cancel();
    await assert.rejects(waiting, (error: unknown) => error instanceof CancelledFailure);
    holder.cancel();
    await assert.rejects(holding, (error: unknown) => error instanceof CancelledFailure);
    await sleep(1200);
    assert.deepEqual(sent, ['taxperiodQuery'], 'the cancelled call was never sent');
    // The limiter is free again: a call outside any activity goes through.
    await t.admin.clearFaults();
    assert.equal((await client.call('taxLogin', { taxNo: KINGDEE })).loginType, '1');
  });

  it('a cancelled caller stops waiting for a token renewal that another caller still gets', async () => {
    const client = clientWith();
    const [cancelled, other] = [new MockActivityEnvironment(), new MockActivityEnvironment()];
    // Both need the token the client has not got yet: one renewal, shared.
    const first = cancelled.run(() => client.call('taxLogin', { taxNo: KINGDEE }));
    const second = other.run(() => client.call('taxLogin', { taxNo: KINGDEE })) as Promise<{ loginType: string }>;
    cancelled.cancel();
    await assert.rejects(first, (error: unknown) => error instanceof CancelledFailure);
    assert.equal((await second).loginType, '1');
    assert.deepEqual(sent, ['taxLogin'], 'only the caller that was not cancelled sent its call');
  });
});
