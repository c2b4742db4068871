/**
 * OpenID Connect login for the inbox (authorization code flow with PKCE, state and nonce) through
 * openid-client. The identity is `oidc:<sub>` plus the e-mail address when the provider gives one
 * it has not marked unverified.
 */
import * as oidc from 'openid-client';
import type { Identity } from './identity.js';

export interface OidcSettings {
  issuer: URL;
  clientId: string;
  /** Absent for a public client (PKCE only, no client authentication). */
  clientSecret?: string;
  /** Where the provider sends the browser back: <inbox>/auth/oidc/callback. */
  redirectUrl: URL;
  scope: string;
}

/** What the inbox keeps in the (server-side) session between the redirect and the callback. */
export interface PendingOidcLogin {
  codeVerifier: string;
  state: string;
  nonce: string;
  startedAt: number;
}

export class OidcLoginError extends Error {
  override name = 'OidcLoginError';
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isLoopback(url: URL): boolean {
  return LOOPBACK.has(url.hostname) || url.hostname.startsWith('127.');
}

export class OidcLogin {
  private configuration?: Promise<oidc.Configuration>;

  constructor(readonly settings: OidcSettings) {}

  /** Discovery runs on first use and again after a failure, so the inbox starts while the provider is down. */
  private config(): Promise<oidc.Configuration> {
    if (!this.configuration) {
      const { issuer, clientId, clientSecret } = this.settings;
      const auth = clientSecret ? oidc.ClientSecretBasic(clientSecret) : oidc.None();
      // Plain http only for a provider on this machine (development and the tests).
      const insecure = issuer.protocol === 'http:' && isLoopback(issuer);
      this.configuration = oidc
        .discovery(issuer, clientId, clientSecret, auth, insecure ? { execute: [oidc.allowInsecureRequests] } : {})
        .catch((err: unknown) => {
          this.configuration = undefined;
          throw new OidcLoginError(
            `单点登录服务不可用 The OpenID provider ${issuer.href} did not answer discovery: ${(err as Error).message}`,
          );
        });
    }
    return this.configuration;
  }

  /** The provider's authorization URL and what the callback will need to check. */
  async start(now = Date.now()): Promise<{ url: URL; pending: PendingOidcLogin }> {
    const config = await this.config();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const pending: PendingOidcLogin = {
      codeVerifier,
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      startedAt: now,
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUrl.href,
      scope: this.settings.scope,
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url, pending };
  }

  /**
   * Completes the login from the callback's query string: checks state, exchanges the code with
   * the PKCE verifier, validates the ID token (issuer, audience, nonce, signature) and reads the
   * identity, from the ID token or else the userinfo endpoint.
   */
  async finish(query: string, pending: PendingOidcLogin | undefined, now = Date.now()): Promise<Identity> {
    if (!pending) throw new OidcLoginError('登录已过期 The login was not started here or has expired: log in again.');
    if (now - pending.startedAt > 10 * 60_000)
      throw new OidcLoginError('登录已过期 The login took over 10 minutes: log in again.');
    const config = await this.config();
    const current = new URL(this.settings.redirectUrl);
    current.search = query;
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      // openid-client says "invalid response encountered" and puts what was wrong in the cause.
      const cause = (err as { cause?: unknown }).cause;
      const why = cause instanceof Error ? `${(err as Error).message}: ${cause.message}` : (err as Error).message;
      throw new OidcLoginError(`单点登录失败 The OpenID login failed: ${why}`);
    }
    const claims = tokens.claims();
    if (!claims?.sub) throw new OidcLoginError('单点登录失败 The OpenID provider returned no subject.');
    let profile: Record<string, unknown> = claims;
    if (typeof claims.email !== 'string' && config.serverMetadata().userinfo_endpoint) {
      try {
        profile = { ...(await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)), ...claims };
      } catch {
        // the login stands on the ID token alone; only the e-mail address is missing then
      }
    }
    const email =
      typeof profile.email === 'string' && profile.email_verified !== false ? profile.email.toLowerCase() : undefined;
    const name =
      typeof profile.name === 'string'
        ? profile.name
        : typeof profile.preferred_username === 'string'
          ? profile.preferred_username
          : undefined;
    return { kind: 'oidc', sub: claims.sub, ...(email ? { email } : {}), ...(name ? { name } : {}) };
  }
}
