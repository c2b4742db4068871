import type { Payload, PayloadCodec } from '@temporalio/common';
import Fastify, { type FastifyInstance } from 'fastify';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { describeZodError } from '../protocol/interfaces.js';

/**
 * Temporal's remote codec protocol: the Web UI (or `temporal --codec-endpoint`) POSTs
 * `{payloads: [{metadata: {k: base64}, data: base64}]}` to /decode (or /encode) and shows what
 * comes back. Only callers holding the token (when one is set) get decoded payloads: as a bearer
 * header (`temporal --codec-auth`), or as the cookie GET/POST /login sets, which a browser sends
 * when the Web UI runs with TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true.
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
  /**
   * When set, requests must carry `Authorization: Bearer <token>` or the login cookie. Only tests
   * leave it out: the codec server's entry point refuses to start without one.
   */
  authToken?: string;
}

export const CODEC_TOKEN_VARIABLE = 'CODEC_AUTH_TOKEN';
const MIN_TOKEN_LENGTH = 16;

export interface CodecServerSettings {
  host: string;
  port: number;
  allowedOrigins: string[];
  authToken: string;
}

export class CodecServerConfigError extends Error {
  override name = 'CodecServerConfigError';
}

/** The entry point's settings; without a token of at least 16 characters there is no codec server. */
export function codecServerSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): CodecServerSettings {
  const authToken = env[CODEC_TOKEN_VARIABLE]?.trim() ?? '';
  if (authToken.length < MIN_TOKEN_LENGTH) {
    throw new CodecServerConfigError(
      `${CODEC_TOKEN_VARIABLE} ${authToken ? `is shorter than ${MIN_TOKEN_LENGTH} characters` : 'is not set'}: ` +
        'the codec server decrypts payloads only for callers holding it (e.g. openssl rand -hex 32)',
    );
  }
  const port = Number(env.CODEC_PORT?.trim() || 8888);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new CodecServerConfigError(`CODEC_PORT=${env.CODEC_PORT}: must be a port number`);
  }
  return {
    host: env.CODEC_HOST?.trim() || '127.0.0.1',
    port,
    allowedOrigins: (env.CODEC_ALLOWED_ORIGINS?.trim() || 'http://127.0.0.1:8233,http://localhost:8233')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    authToken,
  };
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function bearerMatches(header: string | undefined, token: string): boolean {
  return sameSecret(header?.replace(/^Bearer\s+/i, '') ?? '', token);
}

const COOKIE = 'codec_session';
const COOKIE_MAX_AGE_S = 12 * 3600;

/** The cookie holds a value derived from the token, so the token itself never sits in a browser. */
function cookieValue(token: string): string {
  return createHmac('sha256', token).update('codec-server session v1').digest('base64url');
}

function cookieFrom(header: string | undefined): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return value.join('=');
  }
  return undefined;
}

const LOGIN_PAGE = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Codec server</title></head>
<body><form method="post" action="/login">
<label>Codec token 解码令牌 <input name="token" type="password" autocomplete="off" required></label>
<button type="submit">Sign in 登录</button>
</form></body></html>`;

export function buildCodecServer(options: CodecServerOptions): FastifyInstance {
  const app = Fastify({ logger: false });
  const token = options.authToken;
  const session = token ? cookieValue(token) : undefined;
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    const allowedOrigin = origin !== undefined && options.allowedOrigins.includes(origin);
    if (allowedOrigin) {
      reply.header('Access-Control-Allow-Origin', origin);
      reply.header('Access-Control-Allow-Credentials', 'true');
      reply.header('Access-Control-Allow-Methods', 'POST, OPTIONS');
      reply.header('Access-Control-Allow-Headers', 'content-type, x-namespace, authorization');
    }
    if (request.method === 'OPTIONS') return reply.code(204).send();
    const path = request.url.split('?')[0];
    if (path === '/health' || path === '/login') return;
    if (!token || bearerMatches(request.headers.authorization, token)) return;
    // A cookie rides along with any request the browser makes, so it counts only from the UI's origin.
    const cookie = cookieFrom(request.headers.cookie);
    if (cookie && session && sameSecret(cookie, session) && (origin === undefined || allowedOrigin)) return;
    return reply.code(401).send({ error: 'unauthorized: a valid Authorization bearer token is required' });
  });
  if (token && session) {
    app.get('/login', async (_request, reply) =>
      reply
        .header('content-security-policy', "default-src 'none'; form-action 'self'; frame-ancestors 'none'")
        .type('text/html')
        .send(LOGIN_PAGE),
    );
    app.post('/login', async (request, reply) => {
      const given = (request.body as { token?: unknown } | undefined)?.token;
      if (typeof given !== 'string' || !sameSecret(given, token)) {
        return reply.code(401).send({ error: 'unauthorized: wrong token' });
      }
      const secure = request.protocol === 'https' ? '; Secure' : '';
      reply.header(
        'set-cookie',
        `${COOKIE}=${session}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${COOKIE_MAX_AGE_S}${secure}`,
      );
      return reply.type('text/plain; charset=utf-8').send('Signed in: the Web UI can decode payloads now. 已登录。\n');
    });
  }
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
