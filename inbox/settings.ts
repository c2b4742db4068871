/**
 * The inbox's settings from the environment (docs/inbox-security.md explains each one). A bad
 * value stops the inbox at start-up with the variable named.
 */
import { DEFAULT_ACCOUNTS_FILE } from './accounts.js';
import { isLoopback, type OidcSettings } from './oidc.js';

export class InboxSettingsError extends Error {
  override name = 'InboxSettingsError';
}

export interface InboxSecuritySettings {
  accountsFile: string;
  /** The address people open (scheme, host, port); decides Secure cookies and the expected Origin. */
  publicUrl?: URL;
  /** Signs the session cookie; random per start when absent (sessions live in memory anyway). */
  sessionSecret?: string;
  sessionHours: number;
  /** Login requests per minute from one address. */
  loginRateLimitPerMinute: number;
  /** Fastify's trustProxy: which proxy's X-Forwarded-* headers to believe. */
  trustProxy: boolean | string;
  oidc?: OidcSettings;
}

export interface InboxSettings extends InboxSecuritySettings {
  host: string;
  port: number;
  registryFile: string;
  /** The key the inbox signs decisions with (docs/decision-signing.md), when set. */
  signing?: { keyFile: string; keyId: string };
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

function signingFromEnv(env: NodeJS.ProcessEnv): InboxSettings['signing'] {
  const keyFile = env.INBOX_SIGNING_KEY_FILE?.trim();
  const keyId = env.INBOX_SIGNING_KEY_ID?.trim();
  if (!keyFile && !keyId) return undefined;
  if (!keyFile) throw new InboxSettingsError('INBOX_SIGNING_KEY_FILE is required with INBOX_SIGNING_KEY_ID');
  if (!keyId) throw new InboxSettingsError('INBOX_SIGNING_KEY_ID is required with INBOX_SIGNING_KEY_FILE');
  if (!KEY_ID.test(keyId)) {
    throw new InboxSettingsError(`INBOX_SIGNING_KEY_ID: "${keyId}" must be 1-64 letters, digits, ".", "_" or "-"`);
  }
  return { keyFile, keyId };
}

function url(name: string, value: string): URL {
  try {
    const parsed = new URL(value);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('not http(s)');
    return parsed;
  } catch {
    throw new InboxSettingsError(`${name}: "${value}" is not an http(s) URL`);
  }
}

function positiveNumber(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InboxSettingsError(`${name}: "${value}" is not a positive number`);
  return n;
}

function oidcFromEnv(env: NodeJS.ProcessEnv, publicUrl: URL | undefined): OidcSettings | undefined {
  const issuer = env.INBOX_OIDC_ISSUER?.trim();
  const clientId = env.INBOX_OIDC_CLIENT_ID?.trim();
  const clientSecret = env.INBOX_OIDC_CLIENT_SECRET?.trim();
  const redirect = env.INBOX_OIDC_REDIRECT_URL?.trim();
  if (!issuer && !clientId && !clientSecret && !redirect) return undefined;
  if (!issuer) throw new InboxSettingsError('INBOX_OIDC_ISSUER is required when the other INBOX_OIDC_* are set');
  if (!clientId) throw new InboxSettingsError('INBOX_OIDC_CLIENT_ID is required with INBOX_OIDC_ISSUER');
  const issuerUrl = url('INBOX_OIDC_ISSUER', issuer);
  if (issuerUrl.protocol !== 'https:' && !isLoopback(issuerUrl)) {
    throw new InboxSettingsError(`INBOX_OIDC_ISSUER: ${issuer} must be https (plain http only on loopback)`);
  }
  let redirectUrl: URL;
  if (redirect) redirectUrl = url('INBOX_OIDC_REDIRECT_URL', redirect);
  else if (publicUrl) redirectUrl = new URL('/auth/oidc/callback', publicUrl);
  else throw new InboxSettingsError('INBOX_OIDC_REDIRECT_URL (or INBOX_PUBLIC_URL) is required with INBOX_OIDC_ISSUER');
  if (publicUrl && redirectUrl.origin !== publicUrl.origin) {
    throw new InboxSettingsError(
      `INBOX_OIDC_REDIRECT_URL ${redirectUrl.href} must be on the inbox's own address ${publicUrl.origin} (INBOX_PUBLIC_URL)`,
    );
  }
  return {
    issuer: issuerUrl,
    clientId,
    ...(clientSecret ? { clientSecret } : {}),
    redirectUrl,
    scope: env.INBOX_OIDC_SCOPE?.trim() || 'openid email profile',
  };
}

export function inboxSecurityFromEnv(env: NodeJS.ProcessEnv = process.env): InboxSecuritySettings {
  const publicUrl = env.INBOX_PUBLIC_URL?.trim() ? url('INBOX_PUBLIC_URL', env.INBOX_PUBLIC_URL.trim()) : undefined;
  const sessionSecret = env.INBOX_SESSION_SECRET?.trim() || undefined;
  if (sessionSecret && sessionSecret.length < 32) {
    throw new InboxSettingsError('INBOX_SESSION_SECRET: must have at least 32 characters');
  }
  const trust = env.INBOX_TRUST_PROXY?.trim();
  const oidcSettings = oidcFromEnv(env, publicUrl);
  return {
    accountsFile: env.INBOX_ACCOUNTS_FILE?.trim() || DEFAULT_ACCOUNTS_FILE,
    ...(publicUrl ? { publicUrl } : {}),
    ...(sessionSecret ? { sessionSecret } : {}),
    sessionHours: positiveNumber('INBOX_SESSION_HOURS', env.INBOX_SESSION_HOURS, 8),
    loginRateLimitPerMinute: positiveNumber('INBOX_LOGIN_RATE_LIMIT', env.INBOX_LOGIN_RATE_LIMIT, 10),
    // Behind an https proxy on this machine, believe its X-Forwarded-Proto so Secure cookies are set.
    trustProxy:
      trust === undefined || trust === ''
        ? publicUrl?.protocol === 'https:'
          ? 'loopback'
          : false
        : trust === 'true'
          ? true
          : trust === 'false'
            ? false
            : trust,
    ...(oidcSettings ? { oidc: oidcSettings } : {}),
  };
}

export function inboxSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): InboxSettings {
  const port = Number(env.INBOX_PORT ?? 8088);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InboxSettingsError(`INBOX_PORT: "${env.INBOX_PORT}" is not a port number`);
  }
  const signing = signingFromEnv(env);
  return {
    ...inboxSecurityFromEnv(env),
    host: env.INBOX_HOST?.trim() || '127.0.0.1',
    port,
    registryFile: env.TAXPAYER_REGISTRY?.trim() || 'config/taxpayers.json',
    ...(signing ? { signing } : {}),
  };
}
