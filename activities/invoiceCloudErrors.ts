import { GatewayCode } from '../protocol/codes.js';

/**
 * A failed invoice-cloud call, classified so callers switch on `kind` instead of parsing text.
 * - retryable: the call may succeed later unchanged (network, HTTP 5xx, 6910, quota, token).
 * - business:  the bureau refused it; the code and message are the bureau's, verbatim.
 * - protocol:  the reply or our request did not match the interface definition.
 * - auth:      the tenant credentials were refused.
 */
export type InvoiceCloudErrorKind = 'retryable' | 'business' | 'protocol' | 'auth';

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
    return this.kind === 'retryable';
  }
}

const RETRYABLE_GATEWAY_CODES: readonly string[] = [
  GatewayCode.TaskProcessing,
  GatewayCode.TokenInvalid,
  GatewayCode.QuotaExceeded,
  GatewayCode.InternalError,
  // Not a refusal for good: confirmation opens once the period's calendar month has ended.
  GatewayCode.ConfirmationNotOpen,
];
const PROTOCOL_GATEWAY_CODES: readonly string[] = [GatewayCode.InvalidRequest, GatewayCode.UnknownInterface];

export function classifyGatewayCode(code: string): InvoiceCloudErrorKind {
  if (RETRYABLE_GATEWAY_CODES.includes(code)) return 'retryable';
  if (PROTOCOL_GATEWAY_CODES.includes(code)) return 'protocol';
  return 'business';
}
