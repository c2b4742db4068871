import type { GatewayCode } from '../protocol/codes.js';

/** A business-envelope failure: the gateway replies {success:false, errorCode: code, message}. */
export class GatewayError extends Error {
  override name = 'GatewayError';
  constructor(
    readonly code: GatewayCode,
    message: string,
  ) {
    super(message);
  }
}
