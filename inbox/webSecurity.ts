/**
 * The inbox's web protections, each from a maintained Fastify plugin: server-side sessions
 * (@fastify/session + @fastify/cookie), CSRF tokens (@fastify/csrf-protection), security headers
 * (@fastify/helmet) and login rate limits (@fastify/rate-limit); plus an Origin/Referer check on
 * every POST.
 */
import { randomBytes } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrfProtection from '@fastify/csrf-protection';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySession from '@fastify/session';
import type { FastifyInstance, FastifyReply, FastifyRequest, Session } from 'fastify';
import type { Identity } from './identity.js';
import type { PendingOidcLogin } from './oidc.js';
import type { InboxSecuritySettings } from './settings.js';
import { renderProblem } from './view.js';

/** A message shown once on the next page. */
export interface Flash {
  message?: string;
  error?: string;
}

declare module 'fastify' {
  interface Session {
    identity?: Identity;
    flash?: Flash;
    oidcLogin?: PendingOidcLogin;
    loggedInAt?: number;
    _csrf?: string;
  }
}

type StoreCallback = (err?: unknown, session?: Session | null) => void;

/**
 * Sessions in this process's memory, dropped when they expire (the plugin's own memory store
 * keeps them forever). A restart ends every session.
 */
export class ExpiringSessionStore {
  private readonly sessions = new Map<string, { session: Session; expires: number }>();
  private reads = 0;

  constructor(
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
    /** Past this many, the oldest session is dropped for a new one (a flood of login pages). */
    private readonly maxSessions = 100_000,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  set(id: string, session: Session, callback: StoreCallback): void {
    if (!this.sessions.has(id) && this.sessions.size >= this.maxSessions) {
      this.sweep();
      if (this.sessions.size >= this.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
    }
    const expires = session.cookie?.expires ? new Date(session.cookie.expires).getTime() : this.now() + this.maxAgeMs;
    this.sessions.set(id, { session, expires });
    callback();
  }

  get(id: string, callback: StoreCallback): void {
    const entry = this.sessions.get(id);
    if (entry && entry.expires <= this.now()) this.sessions.delete(id);
    callback(null, entry && entry.expires > this.now() ? entry.session : null);
    if (++this.reads % 1000 === 0) this.sweep();
  }

  destroy(id: string, callback: StoreCallback): void {
    this.sessions.delete(id);
    callback();
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, entry] of this.sessions) if (entry.expires <= now) this.sessions.delete(id);
  }
}

export function sessionCookieName(settings: Pick<InboxSecuritySettings, 'publicUrl'>): string {
  // __Host- cookies are https-only, host-only and path=/: browsers refuse them otherwise.
  return settings.publicUrl?.protocol === 'https:' ? '__Host-inbox-session' : 'inbox-session';
}

/** The origin forms must come from: INBOX_PUBLIC_URL's, or the address the request was made to. */
export function expectedOrigin(request: FastifyRequest, settings: Pick<InboxSecuritySettings, 'publicUrl'>): string {
  if (settings.publicUrl) return settings.publicUrl.origin;
  return originOf(`${request.protocol}://${request.host}`) ?? 'invalid';
}

/** The serialized origin of a URL (default ports dropped, host lower-cased), or undefined. */
function originOf(value: string): string | undefined {
  try {
    const origin = new URL(value).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/** The origin a POST says it came from (Origin, else Referer), or undefined when it says none. */
export function requestOrigin(request: FastifyRequest): string | undefined {
  const { origin, referer } = request.headers;
  if (origin && origin !== 'null') return originOf(origin) ?? 'invalid';
  if (referer) return originOf(referer) ?? 'invalid';
  return origin; // 'null' (an opaque origin) or undefined
}

function wantsJson(request: FastifyRequest): boolean {
  return request.url.startsWith('/api/') || !(request.headers.accept ?? '').includes('text/html');
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, status: number, text: string) {
  reply.code(status);
  if (wantsJson(request) && !request.headers['content-type']?.includes('form-urlencoded')) {
    return reply.send({ statusCode: status, message: text });
  }
  return reply.type('text/html; charset=utf-8').send(renderProblem(status, text));
}

export async function registerWebSecurity(
  app: FastifyInstance,
  settings: InboxSecuritySettings,
): Promise<ExpiringSessionStore> {
  const https = settings.publicUrl?.protocol === 'https:';
  const maxAgeMs = settings.sessionHours * 3600_000;
  const store = new ExpiringSessionStore(maxAgeMs);

  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        ...(https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    frameguard: { action: 'deny' },
    // A same-origin Referer lets the POST check work where a browser sends no Origin.
    referrerPolicy: { policy: 'same-origin' },
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: false } : false,
  });

  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: settings.sessionSecret ?? randomBytes(32).toString('base64url'),
    cookieName: sessionCookieName(settings),
    cookie: { httpOnly: true, sameSite: 'lax', secure: https, path: '/', maxAge: maxAgeMs },
    store,
    // No cookie until there is something to keep (a CSRF secret, a login), and the lifetime is
    // counted from the login, not from the last request.
    saveUninitialized: false,
    rolling: false,
  });
  await app.register(fastifyCsrfProtection, { sessionPlugin: '@fastify/session' });
  await app.register(fastifyRateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      message: `登录尝试过多，请 ${Math.ceil(context.ttl / 1000)} 秒后再试 Too many login attempts from this address: try again in ${Math.ceil(context.ttl / 1000)} s.`,
    }),
  });

  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'POST') return;
    const from = requestOrigin(request);
    const expected = expectedOrigin(request, settings);
    if (from !== expected) {
      request.log.warn({ from, expected, url: request.url }, 'refused a POST from another origin');
      return sendProblem(
        request,
        reply,
        403,
        from
          ? `跨站请求被拒绝 Refused: this form was posted from ${from}, not from the inbox (${expected}).`
          : `跨站请求被拒绝 Refused: the request names no Origin or Referer, so it cannot be shown to come from the inbox (${expected}).`,
      );
    }
  });

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (error.code === 'FST_CSRF_MISSING_SECRET' || error.code === 'FST_CSRF_INVALID_TOKEN') {
      return sendProblem(
        request,
        reply,
        403,
        '表单已失效或不是本站发出，未执行任何操作 The form has expired or did not come from this inbox; nothing was done. Reload the page and try again.',
      );
    }
    if (status === 429) return sendProblem(request, reply, 429, error.message);
    if (status >= 500) {
      request.log.error({ err: error }, 'inbox request failed');
      return sendProblem(request, reply, status, `服务器错误 The inbox failed: ${error.message}`);
    }
    return reply.code(status).send({ statusCode: status, error: error.name, message: error.message });
  });
  return store;
}
