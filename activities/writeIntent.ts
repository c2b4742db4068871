import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { InvoiceCloudError } from './invoiceCloudErrors.js';

const Intent = z.object({ write: z.string(), sentAt: z.number() });

/**
 * Records, in the activity's heartbeat details, that `write` is about to be sent. Temporal keeps
 * the details of a failed attempt, so the next attempt knows a request may be on its way even
 * though no answer came back.
 */
export function markSending(write: string, at: number): void {
  Context.current().heartbeat({ write, sentAt: at });
}

/** When an earlier attempt sent `write` (epoch ms), if it did. */
export function earlierSend(write: string): number | undefined {
  const parsed = Intent.safeParse(Context.current().info.heartbeatDetails);
  return parsed.success && parsed.data.write === write ? parsed.data.sentAt : undefined;
}

/**
 * Whether an earlier unanswered send of `write` may still show up at the bureau: until `settleMs`
 * (the profile's writeSettleMs) after it, a retry that finds no trace of it waits; past it, the
 * bureau's state is the answer: the write did not land.
 */
export function mayStillLand(write: string, now: number, settleMs: number): boolean {
  const sentAt = earlierSend(write);
  return sentAt !== undefined && now - sentAt < settleMs;
}

/**
 * Sends `write` with its intent recorded first, unless the attempt was already cancelled or timed
 * out (a late send beside the next attempt would be a second write). Only a definite refusal (the
 * bureau's business answer, or credentials refused before anything was sent) clears the intent;
 * anything else (no answer, an unreadable one, a passing fault the cloud may have forwarded) keeps
 * it, so the next attempt waits for the request to show before sending a second one.
 */
export async function sendRecorded<T>(write: string, at: number, send: () => Promise<T>): Promise<T> {
  throwIfAbandoned();
  markSending(write, at);
  try {
    return await send();
  } catch (error) {
    if (error instanceof InvoiceCloudError && (error.kind === 'business' || error.kind === 'auth')) {
      Context.current().heartbeat({ write, answered: true });
    }
    throw error;
  }
}

/** Stops an attempt Temporal has cancelled or timed out before it sends anything more. */
export function throwIfAbandoned(): void {
  Context.current().cancellationSignal.throwIfAborted();
}
