import assert from 'node:assert/strict';
import { ConfigError, invoiceCloudConfigFromEnv } from '../activities/invoiceCloudConfig.js';
import { RequestRateLimiter } from '../activities/requestRateLimiter.js';
import { quotaActivitySlots } from '../workers/quotaSlots.js';

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('fleet quota: each worker process keeps to its share', () => {
  it('the share is floor(INVOICE_CLOUD_MAX_RPS / INVOICE_CLOUD_FLEET_SIZE)', () => {
    const share = (env: Record<string, string>) => invoiceCloudConfigFromEnv(env).maxRequestsPerSecond;
    assert.equal(share({ INVOICE_CLOUD_MAX_RPS: '20' }), 20, 'a fleet of one by default');
    assert.equal(share({ INVOICE_CLOUD_MAX_RPS: '20', INVOICE_CLOUD_FLEET_SIZE: '2' }), 10);
    assert.equal(share({ INVOICE_CLOUD_MAX_RPS: '20', INVOICE_CLOUD_FLEET_SIZE: '3' }), 6, 'never rounded up');
    assert.equal(share({ INVOICE_CLOUD_FLEET_SIZE: '3' }), undefined, 'no quota, no limit');
    assert.deepEqual(invoiceCloudConfigFromEnv({ INVOICE_CLOUD_MAX_RPS: '30', INVOICE_CLOUD_FLEET_SIZE: '3' }).quota, {
      tenantRequestsPerSecond: 30,
      fleetSize: 3,
    });
  });

  it('a fleet size that leaves a worker less than one request per second, or is not a whole number, names the variable', () => {
    assert.throws(
      () => invoiceCloudConfigFromEnv({ INVOICE_CLOUD_MAX_RPS: '2', INVOICE_CLOUD_FLEET_SIZE: '3' }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /INVOICE_CLOUD_FLEET_SIZE=3 is more than INVOICE_CLOUD_MAX_RPS=2/.test(e.message) &&
        /at most 2 worker processes/.test(e.message),
    );
    for (const bad of ['0', '-1', '1.5', 'two']) {
      assert.throws(
        () => invoiceCloudConfigFromEnv({ INVOICE_CLOUD_MAX_RPS: '20', INVOICE_CLOUD_FLEET_SIZE: bad }),
        (e: unknown) => e instanceof ConfigError && /INVOICE_CLOUD_FLEET_SIZE/.test(e.message),
        `INVOICE_CLOUD_FLEET_SIZE=${bad}`,
      );
    }
  });

  it("a limiter grants nothing before its start time (a replacement process's first second)", async () => {
    let now = 10_000;
    const limiter = new RequestRateLimiter(2, () => now, 11_000);
    const granted: number[] = [];
    for (const n of [1, 2, 3]) void limiter.acquire().then(() => granted.push(n));
    await settle();
    assert.deepEqual(granted, [], 'nothing before the start time, though two slots are free');
    now = 10_999;
    await settle();
    assert.deepEqual(granted, []);
    now = 11_000;
    // The limiter's timer wakes it at the start time (real timers: up to the 1 s it computed then).
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.deepEqual(granted, [1, 2], 'then its share, and no more');
  });

  it('a worker takes new activities only while no request waits for its share', async () => {
    const limiter = new RequestRateLimiter(2);
    const slots = quotaActivitySlots(limiter, 10);
    const ctx = {} as Parameters<typeof slots.reserveSlot>[0];
    assert.ok(slots.tryReserveSlot(ctx), 'an idle share: a slot at once');
    // Two requests hold the share, two more wait behind them.
    const held = await Promise.all([limiter.acquire(), limiter.acquire()]);
    const queued = [limiter.acquire(), limiter.acquire()];
    await settle();
    assert.equal(limiter.backlog, 2);
    assert.equal(slots.tryReserveSlot(ctx), null, 'no eager activity while the share is busy');
    let granted = false;
    const reserving = slots.reserveSlot(ctx, new AbortController().signal).then(() => (granted = true));
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(granted, false, 'the poller waits; the task stays on the queue for another worker');
    for (const release of held) release();
    // The queued two get their slots a second after the replies: the backlog is gone, a slot is free.
    const released = await Promise.all(queued);
    await reserving;
    assert.equal(granted, true);
    for (const release of released) release();

    const aborted = new AbortController();
    const more = [limiter.acquire(), limiter.acquire(), limiter.acquire(), limiter.acquire()];
    await settle();
    const waiting = slots.reserveSlot(ctx, aborted.signal);
    aborted.abort();
    await assert.rejects(waiting, 'a reservation the SDK no longer needs ends');
    for (const release of await Promise.all(more.slice(0, 2))) release();
  });
});
