import type { FastifyInstance } from 'fastify';
import { buildOpenApiDocument } from '../openapi/document.js';

/** GET /openapi.json: the sandbox's OpenAPI document (built once, from the zod schemas). */
export async function openApiPlugin(app: FastifyInstance, opts: { gatewayPath: string }): Promise<void> {
  const document = buildOpenApiDocument(opts);
  app.get('/openapi.json', async () => document);
}
