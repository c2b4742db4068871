import { permanentCondition, recognises, type ProtocolProfile } from '../protocol/profile.js';

/**
 * A failed invoice-cloud call, classified so callers switch on `kind` instead of parsing text.
 * - pending:   an asynchronous task is still running; ask again later.
 * - retryable: the call may succeed later unchanged (network, HTTP 5xx, quota, not yet open).
 * - business:  the bureau refused it; the code and message are the bureau's, verbatim.
 * - protocol:  the reply or our request did not match the interface definition.
 * - auth:      the tenant credentials were refused.
 */
export type InvoiceCloudErrorKind = 'pending' | 'retryable' | 'business' | 'protocol' | 'auth';

export class InvoiceCloudError extends Error {
  override name = 'InvoiceCloudError';
  constructor(
    readonly kind: InvoiceCloudErrorKind,
    readonly interfaceCode: string,
    readonly code: string,
    readonly bureauMessage: string,
  ) {
    super(`${interfaceCode}: [${code}] ${bureauMessage}`);
  }
  get retryable(): boolean {
    return this.kind === 'retryable' || this.kind === 'pending';
  }
}

/** What an unsuccessful reply means, by the protocol profile (docs/protocol.md). */
export type ReplyMeaning =
  { kind: 'token-expired' } | { kind: 'permanent'; meaning: string } | { kind: InvoiceCloudErrorKind };

/**
 * Reads an unsuccessful reply. A permanent condition wins over everything (the seed's 6910
 * "…没有开启软证书模式" is not a pending task); unknown codes are refusals, never retried blindly.
 */
export function classifyReply(profile: ProtocolProfile, code: string, message: string): ReplyMeaning {
  const permanent = permanentCondition(profile, message);
  if (permanent) return { kind: 'permanent', meaning: permanent };
  if (recognises(profile.tokenExpired, code, message)) return { kind: 'token-expired' };
  if (recognises(profile.stillProcessing, code, message)) return { kind: 'pending' };
  if (
    recognises(profile.tooEarly, code, message) ||
    recognises(profile.quotaExceeded, code, message) ||
    recognises(profile.transient, code, message)
  ) {
    return { kind: 'retryable' };
  }
  return { kind: 'business' };
}
