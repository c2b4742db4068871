import type { Payload, PayloadCodec } from '@temporalio/common';
import Fastify, { type FastifyInstance } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { describeZodError } from '../protocol/interfaces.js';

/**
 * Temporal's remote codec protocol: the Web UI (or `temporal --codec-endpoint`) POSTs
 * `{payloads: [{metadata: {k: base64}, data: base64}]}` to /decode (or /encode) and shows what
 * comes back. Only callers holding the token (when one is set) get decoded payloads.
 */
const JsonPayloads = z.object({
  payloads: z.array(
    z.object({
      metadata: z.record(z.string(), z.string()).optional(),
      data: z.string().optional(),
    }),
  ),
});
type JsonPayloads = z.infer<typeof JsonPayloads>;

function fromJson(body: JsonPayloads): Payload[] {
  return body.payloads.map((p) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  }));
}

function toJson(payloads: Payload[]): JsonPayloads {
  return {
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(
        Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
      ),
      data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
    })),
  };
}

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Origins allowed to call from a browser (the Web UI's address). */
  allowedOrigins: string[];
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  authToken?: string;
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.replace(/^Bearer\s+/i, '') ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function buildCodecServer(options: CodecServerOptions): FastifyInstance {
  const app = Fastify({ logger: false });
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin && options.allowedOrigins.includes(origin)) {
      reply.header('Access-Control-Allow-Origin', origin);
      reply.header('Access-Control-Allow-Credentials', 'true');
      reply.header('Access-Control-Allow-Methods', 'POST, OPTIONS');
      reply.header('Access-Control-Allow-Headers', 'content-type, x-namespace, authorization');
    }
    if (request.method === 'OPTIONS') return reply.code(204).send();
    if (request.url === '/health') return;
    if (options.authToken && !tokenMatches(request.headers.authorization, options.authToken)) {
      return reply.code(401).send({ error: 'unauthorized: a valid Authorization bearer token is required' });
    }
  });
  app.get('/health', async () => ({ status: 'ok' }));
  for (const direction of ['encode', 'decode'] as const) {
    app.post(`/${direction}`, async (request, reply) => {
      const parsed = JsonPayloads.safeParse(request.body);
      if (!parsed.success) return reply.code(400).send({ error: describeZodError(parsed.error) });
      try {
        const out = await options.codec[direction](fromJson(parsed.data));
        return toJson(out);
      } catch (error) {
        return reply.code(422).send({ error: (error as Error).message });
      }
    });
  }
  return app;
}
