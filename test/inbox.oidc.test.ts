import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { after, afterEach, before, describe, it } from 'mocha';
import Provider from 'oidc-provider';
import { buildInbox } from '../inbox/server.js';
import { fixedDirectory, type TaxpayerInfo } from '../inbox/taxpayers.js';
import { FakeTemporal, KINGDEE, PERIOD, STATISTIC, progress } from './support/fakeTemporal.js';
import { shownNotices, writeTestAccounts } from './support/inboxBrowser.js';

/**
 * OpenID Connect login against a real OpenID provider: the maintained `oidc-provider` package,
 * started here on loopback with one client and one test user. The login is driven with plain HTTP
 * requests as a browser would make them: redirects followed, cookies kept per host, the provider's
 * own login and consent forms posted. The inbox listens on loopback too; Temporal is a fake.
 */

const CLIENT_ID = 'vat-inbox';
const CLIENT_SECRET = 'a-client-secret-for-the-oidc-test-only';
const TEST_USER = { sub: 'u-7f3a9c', email: 'Li.Jingli@Corp.Example', name: '李经理' };

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** A cookie jar per host, and a fetch that uses it and never follows redirects by itself. */
class HttpBrowser {
  private readonly jars = new Map<string, Map<string, string>>();
  readonly visited: URL[] = [];

  async request(url: URL, init: { method?: string; form?: Record<string, string>; origin?: string } = {}) {
    this.visited.push(url);
    const jar = this.jars.get(url.host) ?? new Map<string, string>();
    this.jars.set(url.host, jar);
    const headers: Record<string, string> = { accept: 'text/html' };
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin = init.origin ?? url.origin;
    }
    const response = await fetch(url, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      headers,
      redirect: 'manual',
      ...(init.form ? { body: new URLSearchParams(init.form).toString() } : {}),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      const name = pair!.slice(0, at).trim();
      const value = pair!.slice(at + 1).trim();
      const expired = /expires=Thu, 01 Jan 1970/i.test(line) || /max-age=0/i.test(line);
      if (!value || expired) jar.delete(name);
      else jar.set(name, value);
    }
    return { response, body: await response.text() };
  }

  /**
   * Follows redirects from `url`, posting the provider's login form (as `login`) and its consent
   * form on the way, until a page of `until` answers, or just before a URL of `stopBefore`.
   */
  async follow(
    url: URL,
    login: { user: string; password: string },
    until: (url: URL) => boolean,
    stopBefore: (url: URL) => boolean = () => false,
  ) {
    let next: { url: URL; form?: Record<string, string> } | undefined = { url };
    for (let hops = 0; next && hops < 20; hops++) {
      const current: { url: URL; form?: Record<string, string> } = next;
      if (stopBefore(current.url)) return { url: current.url, response: undefined, body: '' };
      const { response, body } = await this.request(current.url, current.form ? { form: current.form } : {});
      next = undefined;
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        next = { url: new URL(location, current.url) };
        continue;
      }
      if (until(current.url)) return { url: current.url, response, body };
      const form = /<form[^>]*action="([^"]+)"[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/.exec(body);
      if (!form) return { url: current.url, response, body };
      const fields: Record<string, string> = {};
      for (const input of form[2]!.matchAll(/<input[^>]*name="([^"]+)"(?:[^>]*value="([^"]*)")?[^>]*>/g)) {
        fields[input[1]!] = input[2] ?? '';
      }
      if ('login' in fields) fields.login = login.user;
      if ('password' in fields) fields.password = login.password;
      next = { url: new URL(form[1]!, current.url), form: fields };
    }
    throw new Error(`too many hops: ${this.visited.map(String).join(' -> ')}`);
  }
}

describe('inbox OIDC login against a real OpenID provider (oidc-provider on loopback)', function () {
  this.timeout(60_000);
  let providerServer: Server;
  let issuer: string;
  let inbox: FastifyInstance | undefined;
  let inboxUrl: URL;
  let inboxPort: number;
  let temporal: FakeTemporal;
  let accountsFile: string;
  const grantsIssued: string[] = [];

  before(async () => {
    accountsFile = await writeTestAccounts();
    // One inbox port for every test, so the client's redirect URI can be registered exactly.
    const probe = createServer();
    inboxPort = await listen(probe);
    await new Promise((r) => probe.close(r));
    providerServer = createServer();
    const port = await listen(providerServer);
    issuer = `http://127.0.0.1:${port}`;
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          redirect_uris: [`http://127.0.0.1:${inboxPort}/auth/oidc/callback`],
          response_types: ['code'],
          grant_types: ['authorization_code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
      cookies: { keys: ['oidc-test-cookie-key-0123456789abcdef'] },
      features: { devInteractions: { enabled: true } },
      async findAccount(_ctx, id) {
        if (id !== TEST_USER.sub) return undefined;
        return {
          accountId: id,
          async claims() {
            grantsIssued.push(id);
            return { sub: id, email: TEST_USER.email, email_verified: true, name: TEST_USER.name };
          },
        };
      },
    });
    providerServer.on('request', provider.callback());
  });
  after(async () => {
    await new Promise((r) => providerServer?.close(r));
  });
  afterEach(async () => {
    await inbox?.close();
    inbox = undefined;
  });

  async function startInbox(approvers: string[]) {
    temporal = new FakeTemporal();
    const run = temporal.add({ taxNo: KINGDEE, stage: 'AWAITING_APPROVAL' });
    run.progress = progress(KINGDEE, 'AWAITING_APPROVAL', { statistic: STATISTIC });
    const taxpayers = fixedDirectory([[KINGDEE, { name: '深圳示例科技有限公司', approvers } satisfies TaxpayerInfo]]);
    const port = inboxPort;
    const redirectUrl = new URL(`http://127.0.0.1:${port}/auth/oidc/callback`);
    inbox = await buildInbox({
      client: temporal.client(),
      taxpayers,
      security: {
        accountsFile,
        oidc: {
          issuer: new URL(issuer),
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          redirectUrl,
          scope: 'openid email profile',
        },
      },
    });
    await inbox.listen({ port, host: '127.0.0.1' });
    inboxUrl = new URL(`http://127.0.0.1:${port}/`);
    return new HttpBrowser();
  }

  async function ssoLogin(browser: HttpBrowser) {
    const loginPage = await browser.request(new URL('/login', inboxUrl));
    assert.match(loginPage.body, /<a href="\/auth\/oidc\/login" class="sso-link">/);
    return browser.follow(
      new URL('/auth/oidc/login', inboxUrl),
      { user: TEST_USER.sub, password: 'the provider checks it' },
      (url) => url.host === inboxUrl.host,
    );
  }

  it('logs in with authorization code + PKCE, and decides as oidc:<sub>', async () => {
    const browser = await startInbox(['oidc:u-7f3a9c']);
    const landed = await ssoLogin(browser);
    assert.equal(landed.url.href, inboxUrl.href, 'back on the inbox page');
    assert.equal(landed.response?.status, 200);
    assert.ok(
      landed.body.includes('<strong class="user-name">李经理 &lt;li.jingli@corp.example&gt;</strong>'),
      landed.body,
    );

    // The authorization request the inbox made: code flow with S256 PKCE, state and nonce.
    const authorize = browser.visited.find((u) => u.host !== inboxUrl.host && u.pathname === '/auth');
    assert.ok(authorize, browser.visited.map(String).join('\n'));
    assert.equal(authorize.searchParams.get('response_type'), 'code');
    assert.equal(authorize.searchParams.get('client_id'), CLIENT_ID);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.match(authorize.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.ok(authorize.searchParams.get('state') && authorize.searchParams.get('nonce'));
    // The provider's own login and consent pages were used.
    assert.ok(browser.visited.some((u) => u.pathname.startsWith('/interaction/')));
    assert.ok(grantsIssued.includes(TEST_USER.sub));

    // A decision is sent with the OIDC identity as the approver.
    const page = landed.body;
    const token = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
    const posted = await browser.request(new URL('/approve', inboxUrl), {
      form: { _csrf: token, taxNo: KINGDEE, period: PERIOD, statisticDigest: '0badf00d' },
    });
    assert.equal(posted.response.status, 303, posted.body);
    const after = await browser.request(inboxUrl);
    assert.deepEqual(shownNotices(after.body), {
      message: `${KINGDEE} 202611: 已同意，统计表 0badf00d 待确认 Approved: the bureau's table is still 0badf00d; the month goes on to confirm it`,
    });
    assert.deepEqual(temporal.decisions[0]?.args, [{ approver: 'oidc:u-7f3a9c', statisticDigest: '0badf00d' }]);
  });

  it("matches the registry by e-mail address too, sending the registry's own spelling", async () => {
    const browser = await startInbox(['LI.JINGLI@corp.example']);
    const landed = await ssoLogin(browser);
    const token = /name="_csrf" value="([^"]+)"/.exec(landed.body)![1]!;
    await browser.request(new URL('/reject', inboxUrl), {
      form: { _csrf: token, taxNo: KINGDEE, period: PERIOD, reason: '金额不符' },
    });
    assert.deepEqual(temporal.decisions[0]?.args, [{ approver: 'LI.JINGLI@corp.example', reason: '金额不符' }]);
  });

  it('a logged-in SSO user who is not an approver sees the month read-only and is refused', async () => {
    const browser = await startInbox(['wang']);
    const landed = await ssoLogin(browser);
    assert.ok(landed.body.includes('<table class="others">'));
    assert.ok(!landed.body.includes('<section class="pending"'));
    const token = /name="_csrf" value="([^"]+)"/.exec(landed.body)![1]!;
    await browser.request(new URL('/reject', inboxUrl), {
      form: { _csrf: token, taxNo: KINGDEE, period: PERIOD, reason: 'x' },
    });
    const { error } = shownNotices((await browser.request(inboxUrl)).body);
    assert.match(error!, /are not an approver of 91440300591872133B; nothing was sent/);
    assert.deepEqual(temporal.decisions, []);
  });

  it('refuses a callback whose state does not match the login this browser started', async () => {
    const browser = await startInbox(['oidc:u-7f3a9c']);
    await browser.request(new URL('/login', inboxUrl));
    const isCallback = (url: URL) => url.host === inboxUrl.host && url.pathname === '/auth/oidc/callback';
    const { url: callback } = await browser.follow(
      new URL('/auth/oidc/login', inboxUrl),
      { user: TEST_USER.sub, password: 'x' },
      () => false,
      isCallback,
    );
    assert.ok(isCallback(callback) && callback.searchParams.get('code'), String(callback));
    const forged = new URL(callback);
    forged.searchParams.set('state', 'forged-state');
    const answer = await browser.request(forged);
    assert.equal(answer.response.status, 303);
    assert.equal(answer.response.headers.get('location'), '/login');
    const login = await browser.request(new URL('/login', inboxUrl));
    assert.match(shownNotices(login.body).error ?? '', /单点登录失败 The OpenID login failed: .*state/i);
    assert.equal((await browser.request(inboxUrl)).response.status, 303, 'not logged in');
    // The started login is used up: the genuine callback arriving now is refused too.
    await browser.request(callback);
    assert.equal((await browser.request(inboxUrl)).response.status, 303, 'still not logged in');
  });

  it('refuses a callback no login was started for (e.g. a code sent to another browser)', async () => {
    const browser = await startInbox(['oidc:u-7f3a9c']);
    const answer = await browser.request(new URL('/auth/oidc/callback?code=abc&state=def', inboxUrl));
    assert.equal(answer.response.status, 303);
    const login = await browser.request(new URL('/login', inboxUrl));
    assert.match(shownNotices(login.body).error ?? '', /was not started here or has expired/);
  });
});
