import type { FastifyInstance, FastifyReply } from 'fastify';
import { decodeData, encodeData } from '../../protocol/codec.js';
import { GatewayCode } from '../../protocol/codes.js';
import { DEFAULT_GATEWAY_PATH, type BusinessReply } from '../../protocol/envelope.js';
import type { FaultInjector, QuotaMeter, ServedFault } from '../faults/injector.js';
import { LEDGERED_WRITES } from '../gateway/handlers.js';
import { processBusinessRequest, tenantEncoding, type GatewayDeps } from '../gateway/process.js';

export interface GatewayPluginDeps extends GatewayDeps {
  path?: string;
  faults: FaultInjector;
  quota: QuotaMeter;
}

export const QUOTA_EXCEEDED_MESSAGE = '请求过于频繁，超出租户接口调用限额，请稍后再试';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The business gateway: every 4.xx interface behind one path, `?access_token=` in the query.
 * The tenant's quota and injected faults (simulator/faults) are applied around the processing.
 */
export async function gatewayPlugin(app: FastifyInstance, deps: GatewayPluginDeps): Promise<void> {
  const { store, settings } = deps;

  app.post(deps.path ?? DEFAULT_GATEWAY_PATH, async (request, reply) => {
    const token = (request.query as Record<string, string | undefined>).access_token;
    const tenantId = token ? store.tenants.getToken(token, 'access')?.tenantId : undefined;
    const process = () =>
      processBusinessRequest(deps, request.body, token, (err) => request.log.error({ err }, 'gateway failure'));
    if (!tenantId) return process();

    if (!deps.quota.admit(tenantId, settings.quota(tenantId).requestsPerSecond)) {
      return { success: false, status: false, errorCode: GatewayCode.QuotaExceeded, message: QUOTA_EXCEEDED_MESSAGE };
    }
    const faults = settings.faults(tenantId);
    const interfaceCode = (request.body as { interfaceCode?: unknown } | null)?.interfaceCode;
    const draw = deps.faults.draw(tenantId, faults, typeof interfaceCode === 'string' ? interfaceCode : undefined);
    const served: ServedFault[] = draw.delayMs > 0 ? ['slow'] : [];
    if (draw.delayMs > 0) await sleep(draw.delayMs);
    if (draw.action === 'none') {
      deps.faults.served(tenantId, served);
      return process();
    }
    served.push(draw.action);
    if (draw.action === 'corrupt') {
      deps.faults.served(tenantId, served);
      return corrupt(process(), tenantId, deps);
    }
    // A lost reply after processing: the write is committed, the client hears nothing useful.
    if (faults.injectAt === 'after') {
      const processed = process();
      served.push('lostAfterProcessing');
      const write = typeof interfaceCode === 'string' && (LEDGERED_WRITES as readonly string[]).includes(interfaceCode);
      if (write && processed.success) served.push('writesLostAfterProcessing');
    }
    deps.faults.served(tenantId, served, typeof interfaceCode === 'string' ? interfaceCode : undefined);
    return misbehave(draw.action, faults.http5xxStatus, reply);
  });
}

function misbehave(action: 'http5xx' | 'hang' | 'reset', status: number, reply: FastifyReply): FastifyReply {
  if (action === 'http5xx') return reply.code(status).send({ error: 'injected fault', statusCode: status });
  reply.hijack();
  // hang: never answer; the socket stays open until the client gives up or the sandbox closes.
  if (action === 'reset') reply.raw.socket?.destroy();
  return reply;
}

/** A malformed but well-enveloped reply: the decoded data loses every field (a reader tolerant of drift still fails). */
function corrupt(result: BusinessReply, tenantId: string, deps: GatewayDeps): BusinessReply {
  const tenant = deps.store.tenants.get(tenantId);
  if (!tenant || result.data === undefined) return result;
  const encoding = tenantEncoding(tenant);
  decodeData(result.data, encoding);
  return { ...result, data: encodeData({}, encoding) };
}
