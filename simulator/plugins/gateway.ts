import type { FastifyInstance } from 'fastify';
import { DEFAULT_GATEWAY_PATH } from '../../protocol/envelope.js';
import { processBusinessRequest, type GatewayDeps } from '../gateway/process.js';

/** The business gateway: every 4.xx interface behind one path, `?access_token=` in the query. */
export async function gatewayPlugin(app: FastifyInstance, deps: GatewayDeps & { path?: string }): Promise<void> {
  app.post(deps.path ?? DEFAULT_GATEWAY_PATH, async (request) => {
    const token = (request.query as Record<string, string | undefined>).access_token;
    return processBusinessRequest(deps, request.body, token, (err) => request.log.error({ err }, 'gateway failure'));
  });
}
