import type { ActivitySlotInfo, CustomSlotSupplier, SlotPermit, WorkerTuner } from '@temporalio/worker';
import type { RequestRateLimiter } from '../activities/requestRateLimiter.js';

/** The SDK's default slots per task type when no tuner is given. */
const DEFAULT_SLOTS = 100;

interface QuotaPermit {
  /** Set once a task arrived in the slot; until then the slot stands for an open poll. */
  used: boolean;
}

/**
 * Activity slots that follow the quota: a worker polls for a new activity task only while its
 * share of the tenant's quota could send a request at once, and keeps no more polls open than it
 * has such spare requests. A task then goes to a worker that can serve it now; a worker whose share
 * is busy leaves it on the task queue instead of making it wait behind its own limiter
 * (docs/fleet-quota.md).
 */
export function quotaActivitySlots(
  limiter: RequestRateLimiter,
  maxSlots = DEFAULT_SLOTS,
): CustomSlotSupplier<ActivitySlotInfo> {
  let reserved = 0;
  let openPolls = 0;
  const changed = new Set<() => void>();
  const notify = () => {
    for (const wake of [...changed]) wake();
  };
  const free = () => reserved < maxSlots && openPolls < limiter.spare;
  const take = (): QuotaPermit => {
    reserved++;
    openPolls++;
    return { used: false };
  };
  /** The next change of the limiter's spare requests or of this supplier's own counts. */
  const nextChange = (signal: AbortSignal) => {
    const local = new AbortController();
    const onAbort = () => local.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const own = new Promise<void>((resolve) => {
      const wake = () => {
        changed.delete(wake);
        resolve();
      };
      changed.add(wake);
      local.signal.addEventListener('abort', wake, { once: true });
    });
    return Promise.race([limiter.nextChange(local.signal), own]).finally(() => {
      signal.removeEventListener('abort', onAbort);
      local.abort();
    });
  };
  return {
    type: 'custom',
    async reserveSlot(_ctx, abortSignal): Promise<SlotPermit> {
      while (!free()) {
        abortSignal.throwIfAborted();
        await nextChange(abortSignal).catch(() => undefined);
      }
      return take();
    },
    tryReserveSlot(): SlotPermit | null {
      return free() ? take() : null;
    },
    markSlotUsed(ctx) {
      const permit = ctx.permit as QuotaPermit;
      if (!permit.used) {
        permit.used = true;
        openPolls--;
      }
    },
    releaseSlot(ctx) {
      const permit = ctx.permit as QuotaPermit;
      reserved--;
      if (!permit.used) openPolls--;
      notify();
    },
  };
}

/**
 * The worker's tuner: `workflowTaskSlots` workflow tasks at once; activity slots that follow the
 * quota when there is one (else the SDK's default 100); the SDK's default fixed slots for the rest.
 */
export function workerTuner(workflowTaskSlots: number, limiter?: RequestRateLimiter): WorkerTuner {
  const fixed = { type: 'fixed-size', numSlots: DEFAULT_SLOTS } as const;
  return {
    activityTaskSlotSupplier: limiter ? quotaActivitySlots(limiter) : fixed,
    workflowTaskSlotSupplier: { type: 'fixed-size', numSlots: workflowTaskSlots },
    localActivityTaskSlotSupplier: fixed,
    nexusTaskSlotSupplier: fixed,
  };
}
