import assert from 'node:assert/strict';
import { ConfigError, invoiceCloudConfigFromEnv } from '../activities/invoiceCloudConfig.js';
import { RequestRateLimiter } from '../activities/requestRateLimiter.js';
import type { ActivitySlotInfo } from '@temporalio/worker';
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

  it('a worker polls for activities only while its share could send at once, one open poll per spare request', async () => {
    let now = 50_000;
    const limiter = new RequestRateLimiter(2, () => now);
    const slots = quotaActivitySlots(limiter, 10);
    const ctx = {} as Parameters<typeof slots.reserveSlot>[0];
    const slotInfo = {} as ActivitySlotInfo;
    const first = slots.tryReserveSlot(ctx);
    const second = slots.tryReserveSlot(ctx);
    assert.ok(first && second, 'an idle share of 2: two polls at once');
    assert.equal(slots.tryReserveSlot(ctx), null, 'not a third: it could not be sent at once');
    // Both polls bring a task; both activities send a request: the share is in use.
    slots.markSlotUsed({ slotInfo, permit: first });
    slots.markSlotUsed({ slotInfo, permit: second });
    const held = await Promise.all([limiter.acquire(), limiter.acquire()]);
    assert.equal(limiter.spare, 0);
    assert.equal(slots.tryReserveSlot(ctx), null, 'no poll while the share is in use');
    let granted = false;
    const reserving = slots.reserveSlot(ctx, new AbortController().signal).then((permit) => {
      granted = true;
      return permit;
    });
    for (const release of held) release();
    await settle();
    assert.equal(granted, false, 'a reply frees its slot only a second later: the task stays on the queue');
    now += 1000;
    const permit = await reserving;
    assert.equal(granted, true, 'polls again once the held slots came free');
    assert.equal(limiter.spare, 2);
    assert.ok(slots.tryReserveSlot(ctx), 'a second open poll for the second spare request');
    assert.equal(slots.tryReserveSlot(ctx), null, 'and no third');
    // A poll that timed out without a task hands its place back.
    slots.releaseSlot({ permit });
    assert.ok(slots.tryReserveSlot(ctx));

    const aborted = new AbortController();
    const waiting = slots.reserveSlot(ctx, aborted.signal);
    aborted.abort();
    await assert.rejects(waiting, 'a reservation the SDK no longer needs ends');
  });
});
