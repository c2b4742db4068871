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

/** Failures after which the request may have been applied: no answer, or one we could not read. */
const UNANSWERED = /^(HTTP_\d+|NETWORK|BAD_REPLY|BAD_DATA|NO_DATA)$/;

/**
 * Sends `write` with its intent recorded first. A refusal the bureau answered (or a request never
 * sent) clears the intent, since nothing of it can land; no answer keeps it, so the next attempt
 * waits for the request to show before sending a second one.
 */
export async function sendRecorded<T>(write: string, at: number, send: () => Promise<T>): Promise<T> {
  markSending(write, at);
  try {
    return await send();
  } catch (error) {
    if (error instanceof InvoiceCloudError && !UNANSWERED.test(error.code)) {
      Context.current().heartbeat({ write, answered: true });
    }
    throw error;
  }
}
