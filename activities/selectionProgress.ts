import { Context } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * What a selection round already sent, kept in its activity's heartbeat details so that a retried
 * attempt sends only the rest (docs/protocol.md, "Writes read before they send"). Temporal keeps
 * the last details of a failed attempt; a worker killed before its heartbeat left loses them, and
 * the bureau's flags (in progress, selected) cover that gap.
 */
const SentBatch = z.object({
  /** The bureau's task for the batch; absent when it answered at once. */
  taskNo: z.string().optional(),
  /** The batch's invoices, as short digests of their identities (invoice code and number). */
  keys: z.array(z.string()),
});
const ImmediateTally = z.object({
  taskNo: z.string(),
  total: z.number(),
  selected: z.number(),
  alreadySelected: z.number(),
  toRetry: z.number(),
  failed: z.number(),
  failures: z.array(
    z.object({ invoiceCode: z.string(), invoiceNo: z.string(), resultCode: z.string(), resultMsg: z.string() }),
  ),
  selectedTax: z.string().optional(),
  invoices: z
    .array(
      z.tuple([
        z.string(),
        z.string(),
        z.string(),
        z.enum(['selected', 'already-selected', 'retry', 'failed']),
        z.string(),
        z.string().optional(),
      ]),
    )
    .optional(),
});
export const SelectionHeartbeat = z.object({
  round: z.number().int(),
  sent: z.array(SentBatch),
  immediate: ImmediateTally.optional(),
  /** A download task reading the bureau's selections for this attempt, still being awaited. */
  stateReadTaskNo: z.string().optional(),
});
export type SelectionHeartbeat = z.infer<typeof SelectionHeartbeat>;

/** The short digest of an invoice's identity kept in heartbeats (paper numbers repeat across codes). */
export function sentKey(invoiceCode: string, invoiceNo: string): string {
  return createHash('sha256').update(`${invoiceCode}|${invoiceNo}`).digest('base64url').slice(0, 12);
}

/**
 * The progress an earlier attempt of this round left, or a fresh one. Details of another round
 * (or unreadable ones) are not this round's: the round starts from the bureau's state alone.
 */
export function earlierProgress(round: number): SelectionHeartbeat {
  const parsed = SelectionHeartbeat.safeParse(Context.current().info.heartbeatDetails);
  if (parsed.success && parsed.data.round === round) return parsed.data;
  return { round, sent: [] };
}

/** The invoices earlier attempts sent and got an answer for. */
export function sentKeys(progress: SelectionHeartbeat): Set<string> {
  return new Set(progress.sent.flatMap((batch) => batch.keys));
}

export function recordProgress(progress: SelectionHeartbeat): void {
  Context.current().heartbeat(progress);
}

/** How often a selection attempt heartbeats while it runs, whatever it is doing. */
export const SELECTION_BEAT_MS = 1000;

/**
 * Heartbeats `progress` (the same object, as it grows) every `everyMs` until the returned stop is
 * called, also while the attempt waits for a quota slot or a slow reply. Temporal delivers a
 * cancellation only in the answer to a heartbeat, and the worker sends at most one per
 * maxHeartbeatThrottleInterval (workers/createWorker.ts): together they bound how long a
 * cancelled selection can go on sending.
 */
export function keepBeating(progress: SelectionHeartbeat, everyMs: number = SELECTION_BEAT_MS): () => void {
  const context = Context.current();
  const timer = setInterval(() => context.heartbeat(progress), everyMs);
  return () => clearInterval(timer);
}

/** The immediate answers of earlier attempts, to add this attempt's to (a SelectionTaskResult). */
export function immediateOf(progress: SelectionHeartbeat): z.infer<typeof ImmediateTally> | undefined {
  if (!progress.immediate) return undefined;
  const { invoices, failures } = progress.immediate;
  return { ...progress.immediate, failures: [...failures], ...(invoices ? { invoices: [...invoices] } : {}) };
}
