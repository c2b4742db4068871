import type { z } from 'zod';
import { DataDecodingError, decodeData, encodeData, type DataEncoding } from '../../protocol/codec.js';
import {
  GatewayCode,
  OK_MESSAGE,
  softCertificateOffMessage,
  TASK_PROCESSING_MESSAGE,
  taxNoNotInTenantMessage,
} from '../../protocol/codes.js';
import { BusinessRequest, type BusinessReply } from '../../protocol/envelope.js';
import { describeZodError, interfaces, isInterfaceCode, type InterfaceCode } from '../../protocol/interfaces.js';
import type { ProtocolProfile } from '../../protocol/profile.js';
import type { Bureau } from '../bureau/bureau.js';
import { GatewayError } from '../errors.js';
import type { Settings } from '../settings.js';
import type { Store, Tenant } from '../store.js';
import { handlers, IDEMPOTENT_WRITES, LEDGERED_WRITES, SOFT_CERTIFICATE_REQUIRED, type Handler } from './handlers.js';
import { ledgerRefused, writeArrival } from './taskHelpers.js';

export interface GatewayDeps {
  store: Store;
  settings: Settings;
  bureau: Bureau;
}

const failure = (code: string, message: string): BusinessReply => ({
  success: false,
  status: false,
  errorCode: code,
  message,
});

export function tenantEncoding(tenant: Tenant): DataEncoding {
  return tenant.encoding === 'aes-gcm' ? { kind: 'aes-gcm', password: tenant.aesPassword } : { kind: 'base64' };
}

/** One business call, from the raw envelope to the reply envelope. Never throws. */
export function processBusinessRequest(
  deps: GatewayDeps,
  body: unknown,
  accessToken: string | undefined,
  onInternalError: (err: unknown) => void = () => {},
): BusinessReply {
  try {
    return deps.store.transaction(() => dispatch(deps, body, accessToken));
  } catch (err) {
    if (err instanceof GatewayError) return failure(err.code, err.message);
    if (err instanceof DataDecodingError) return failure(GatewayCode.InvalidRequest, `data: ${err.message}`);
    onInternalError(err);
    return failure(GatewayCode.InternalError, '系统内部错误，请稍后重试');
  }
}

function authenticate(deps: GatewayDeps, accessToken: string | undefined): Tenant {
  if (!accessToken) throw new GatewayError(GatewayCode.TokenInvalid, 'access_token缺失，请先获取access_token');
  const token = deps.store.tenants.getToken(accessToken, 'access');
  // Tokens expire in real time (clients compare expire_time with their own clock), not sandbox time.
  if (!token || token.expiresAt <= Date.now()) {
    throw new GatewayError(GatewayCode.TokenInvalid, 'access_token无效或已过期，请重新获取');
  }
  const tenant = deps.store.tenants.get(token.tenantId);
  if (!tenant) throw new GatewayError(GatewayCode.TokenInvalid, 'access_token所属租户不存在');
  return tenant;
}

/**
 * The logical interface a wire interfaceCode names under the tenant's profile: the profile's
 * `interfaceCodes` rename the documented steps (a renamed step no longer answers to its
 * documented code), `confirmation: {kind: 'result-interface', interfaceCode}` serves the
 * tenant's confirm-result interface, and every other interface answers to its own code.
 */
export function logicalInterface(wireCode: string, profile: ProtocolProfile): InterfaceCode | undefined {
  const renamed = profile.interfaceCodes as Record<string, string>;
  for (const [logical, wire] of Object.entries(renamed)) {
    if (wire === wireCode && isInterfaceCode(logical)) return logical;
  }
  if (profile.confirmation.kind === 'result-interface' && profile.confirmation.interfaceCode === wireCode) {
    return 'statisticConfirmResult';
  }
  if (!isInterfaceCode(wireCode) || wireCode === 'statisticConfirmResult') return undefined;
  if (Object.prototype.hasOwnProperty.call(renamed, wireCode)) return undefined; // renamed away
  return wireCode;
}

/** Interfaces that answer a taxpayer without soft-certificate mode with the seed's 4.06 reply (6910 + reason). */
const SOFT_CERTIFICATE_PENDING: readonly InterfaceCode[] = ['invoiceSelectQuery'];

function dispatch(deps: GatewayDeps, body: unknown, accessToken: string | undefined): BusinessReply {
  const tenant = authenticate(deps, accessToken);
  const envelope = BusinessRequest.safeParse(body);
  if (!envelope.success) throw new GatewayError(GatewayCode.InvalidRequest, describeZodError(envelope.error));
  const { requestId, businessSystemCode } = envelope.data;
  if (businessSystemCode !== tenant.businessSystemCode) {
    throw new GatewayError(GatewayCode.InvalidRequest, `业务系统编码${businessSystemCode}未在租户中注册`);
  }
  const profile = deps.settings.profile(tenant.tenantId);
  const interfaceCode = logicalInterface(envelope.data.interfaceCode, profile);
  if (interfaceCode === undefined) {
    throw new GatewayError(GatewayCode.UnknownInterface, `接口${envelope.data.interfaceCode}不存在`);
  }
  const encoding = tenantEncoding(tenant);
  const definition = interfaces[interfaceCode];
  const parsed = (definition.request as z.ZodType).safeParse(decodeData(envelope.data.data, encoding));
  if (!parsed.success) throw new GatewayError(GatewayCode.InvalidRequest, describeZodError(parsed.error));
  const request = parsed.data as { taxNo: string };

  const taxpayer = deps.store.taxpayers.get(request.taxNo);
  if (!taxpayer || taxpayer.tenantId !== tenant.tenantId) {
    throw new GatewayError(GatewayCode.TaxpayerNotAvailable, taxNoNotInTenantMessage(request.taxNo, tenant.tenantNo));
  }
  if (SOFT_CERTIFICATE_REQUIRED.includes(interfaceCode) && !taxpayer.softCertificate) {
    throw new GatewayError(GatewayCode.TaxpayerNotAvailable, softCertificateOffMessage(taxpayer.taxNo));
  }
  if (SOFT_CERTIFICATE_PENDING.includes(interfaceCode) && !taxpayer.softCertificate) {
    // Seed 4.06: a permanent condition dressed as "still processing".
    throw new GatewayError(
      GatewayCode.TaskProcessing,
      `${TASK_PROCESSING_MESSAGE}[${softCertificateOffMessage(taxpayer.taxNo)}]`,
    );
  }
  const now = deps.settings.now();
  deps.bureau.catchUp(taxpayer.taxNo, now);

  // Only with the tenant's de-duplication setting on (off by default: nothing documents that the
  // cloud de-duplicates), a write repeated with the same requestId for the same taxNo and interface
  // is a retry: it gets the original reply (same taskNo) and changes nothing again, even if its data
  // differ. Only accepted writes are remembered; a refused one may be retried. With the setting off
  // every write reaches the bureau, a repeat included.
  const idempotent = IDEMPOTENT_WRITES.includes(interfaceCode) && deps.settings.deduplicatesRequestIds(tenant.tenantId);
  let result = idempotent ? deps.store.tasks.getIdempotentReply(taxpayer.taxNo, interfaceCode, requestId) : undefined;
  if (result === undefined) {
    // Past the requestId cache (if on) the request reaches the bureau: a write is ledgered, accepted or refused.
    const handler = handlers[interfaceCode] as Handler<InterfaceCode>;
    const current = deps.bureau.taxpayer(taxpayer.taxNo);
    const ctx = {
      bureau: deps.bureau,
      store: deps.store,
      taxpayer: current,
      requestId,
      now,
      profile,
      arrival: writeArrival(
        request,
        current.taxPeriod,
        deps.bureau.statisticStatus(current.taxNo, current.taxPeriod),
        profile,
      ),
    };
    let reply: unknown;
    try {
      // A savepoint: a refused write leaves nothing behind but its ledger entry.
      reply = deps.store.transaction(() => handler(request as never, ctx));
    } catch (err) {
      if (!(err instanceof GatewayError) || !LEDGERED_WRITES.includes(interfaceCode)) throw err;
      ledgerRefused(ctx, interfaceCode, { code: err.code, message: err.message });
      return failure(err.code, err.message);
    }
    result = (definition.reply as z.ZodType).parse(reply);
    if (idempotent) deps.store.tasks.saveIdempotentReply(taxpayer.taxNo, interfaceCode, requestId, result);
  }
  return {
    success: true,
    status: true,
    errorCode: GatewayCode.Ok,
    message: OK_MESSAGE,
    data: encodeData(result, encoding),
  };
}
