import type { ActivitySlotInfo, CustomSlotSupplier, SlotPermit, WorkerTuner } from '@temporalio/worker';
import type { RequestRateLimiter } from '../activities/requestRateLimiter.js';

/** The SDK's default slots per task type when no tuner is given. */
const DEFAULT_SLOTS = 100;
const DEFAULT_WORKFLOW_SLOTS = 40;
const RECHECK_MS = 50;

/**
 * Activity slots that follow the quota: a worker reserves a slot for a new activity task (and so
 * polls for one) only while no request of its own waits for its share of the tenant's quota. A
 * worker whose share is busy leaves new activities on the task queue for a worker whose share is
 * idle, instead of taking them and making them wait behind its own limiter (docs/fleet-quota.md).
 */
export function quotaActivitySlots(
  limiter: RequestRateLimiter,
  maxSlots = DEFAULT_SLOTS,
): CustomSlotSupplier<ActivitySlotInfo> {
  let reserved = 0;
  const free = () => reserved < maxSlots && limiter.backlog === 0;
  return {
    type: 'custom',
    async reserveSlot(_ctx, abortSignal): Promise<SlotPermit> {
      while (!free()) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(done, RECHECK_MS);
          function onAbort() {
            clearTimeout(timer);
            reject(abortSignal.reason ?? new DOMException('slot reservation aborted', 'AbortError'));
          }
          function done() {
            abortSignal.removeEventListener('abort', onAbort);
            resolve();
          }
          if (abortSignal.aborted) return onAbort();
          abortSignal.addEventListener('abort', onAbort, { once: true });
        });
      }
      reserved++;
      return {};
    },
    tryReserveSlot(): SlotPermit | null {
      if (!free()) return null;
      reserved++;
      return {};
    },
    markSlotUsed() {},
    releaseSlot() {
      reserved--;
    },
  };
}

/** The worker's tuner: quota-following activity slots, the SDK's default fixed slots for the rest. */
export function quotaTuner(limiter: RequestRateLimiter): WorkerTuner {
  const fixed = { type: 'fixed-size', numSlots: DEFAULT_SLOTS } as const;
  return {
    activityTaskSlotSupplier: quotaActivitySlots(limiter),
    workflowTaskSlotSupplier: { type: 'fixed-size', numSlots: DEFAULT_WORKFLOW_SLOTS },
    localActivityTaskSlotSupplier: fixed,
    nexusTaskSlotSupplier: fixed,
  };
}
