import type { FastifyInstance } from 'fastify';

export async function openApiPlugin(app: FastifyInstance, opts: { gatewayPath: string }): Promise<void> {
  app.get('/openapi.json', async () => ({ openapi: '3.1.0', gatewayPath: opts.gatewayPath }));
}
