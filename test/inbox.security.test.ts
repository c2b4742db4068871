import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import type { FastifyInstance, Session } from 'fastify';
import { afterEach, before, describe, it } from 'mocha';
import { readAccountsFile, writeAccountsFile } from '../inbox/accounts.js';
import { buildInbox } from '../inbox/server.js';
import type { InboxSecuritySettings } from '../inbox/settings.js';
import { fixedDirectory } from '../inbox/taxpayers.js';
import { ExpiringSessionStore } from '../inbox/webSecurity.js';
import { FakeTemporal, KINGDEE, PERIOD, STATISTIC, progress } from './support/fakeTemporal.js';
import { INBOX_ORIGIN, InboxBrowser, PASSWORDS, writeTestAccounts } from './support/inboxBrowser.js';

/**
 * The inbox's login and web protections through Fastify's inject (no Temporal server: a fake
 * client records what would have been sent): login required, wrong passwords, lock-out, CSRF
 * tokens, the Origin check, logout, cookies and security headers, the login rate limit.
 */

const REGISTRY = fixedDirectory([[KINGDEE, { name: '深圳示例科技有限公司', approvers: ['wang', 'li'] }]]);

describe('inbox security (Fastify inject)', () => {
  let app: FastifyInstance | undefined;
  let accountsFile: string;
  let temporal: FakeTemporal;
  let clock: number;

  before(async () => {
    accountsFile = await writeTestAccounts();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function inbox(security: Partial<InboxSecuritySettings> = {}): Promise<FastifyInstance> {
    temporal = new FakeTemporal();
    const run = temporal.add({ taxNo: KINGDEE, stage: 'AWAITING_APPROVAL' });
    run.progress = progress(KINGDEE, 'AWAITING_APPROVAL', { statistic: STATISTIC });
    clock = Date.parse('2026-12-10T00:00:00+08:00');
    app = await buildInbox({
      client: temporal.client(),
      taxpayers: REGISTRY,
      security: { accountsFile, ...security },
      now: () => new Date(clock),
    });
    return app;
  }

  const approveFields = { taxNo: KINGDEE, period: PERIOD, statisticDigest: '0badf00d', comment: 'ok' };

  describe('login required', () => {
    it('sends the page to the login form, and answers the API 401', async () => {
      const browser = new InboxBrowser(await inbox());
      const page = await browser.get('/');
      assert.equal(page.statusCode, 303);
      assert.equal(page.headers.location, '/login');
      const login = await browser.get('/login');
      assert.equal(login.statusCode, 200);
      assert.match(login.body, /<form method="post" action="\/login" class="login"><input type="hidden" name="_csrf"/);
      assert.ok(!login.body.includes('/auth/oidc/login'), 'no SSO link without OIDC settings');
      for (const url of ['/api/pending', '/api/history']) {
        const response = await app!.inject({ url });
        assert.equal(response.statusCode, 401, url);
        assert.match(response.json().message, /Log in first/);
      }
    });

    it('refuses a decision from a session that is not logged in, even with a valid token, and sends nothing', async () => {
      const browser = new InboxBrowser(await inbox());
      await browser.get('/login'); // a session with a CSRF secret, but no login
      const response = await browser.post('/approve', approveFields);
      assert.equal(response.statusCode, 401);
      assert.match(response.body, /请先登录 Log in first: nothing was done/);
      assert.deepEqual(temporal.decisions, []);
    });

    it('logs in with the right password and decides as that account', async () => {
      const browser = new InboxBrowser(await inbox());
      const response = await browser.login('wang');
      assert.equal(response.statusCode, 303, response.body);
      assert.equal(response.headers.location, '/');
      const { message } = await browser.decide('/approve', approveFields);
      assert.equal(
        message,
        `${KINGDEE} 202611: 已同意，统计表 0badf00d 待确认 Approved: the bureau's table is still 0badf00d; the month goes on to confirm it`,
      );
      assert.deepEqual(temporal.decisions[0]?.args, [{ approver: 'wang', comment: 'ok', statisticDigest: '0badf00d' }]);
    });

    it('gives a new session id at login (a planted session id is worthless)', async () => {
      const browser = new InboxBrowser(await inbox());
      await browser.get('/login');
      const before = browser.cookies.get('inbox-session');
      assert.ok(before, 'the login page starts a session for its CSRF secret');
      await browser.post('/login', { account: 'wang', password: PASSWORDS.wang! });
      const after = browser.cookies.get('inbox-session');
      assert.ok(after && after !== before, 'a new session cookie');
      const planted = await app!.inject({ url: '/', headers: { cookie: `inbox-session=${before}` } });
      assert.equal(planted.statusCode, 303, 'the pre-login session is not logged in');
    });
  });

  describe('wrong passwords and lock-out', () => {
    it('refuses a wrong password, an unknown account and a disabled one with the same message', async () => {
      const browser = new InboxBrowser(await inbox());
      for (const [account, password] of [
        ['wang', 'not-the-password'],
        ['nobody', 'whatever-password'],
        ['zhao', PASSWORDS.zhao!],
      ] as const) {
        const response = await browser.login(account, password);
        assert.equal(response.statusCode, 401, `${account}: ${response.body}`);
        assert.ok(response.body.includes('<p class="error">账号或密码错误 Wrong account or password.</p>'), account);
        assert.ok(response.body.includes(`value="${account}"`), 'the account id is kept in the form');
        assert.ok(!response.body.includes(password), 'the password is never echoed');
        assert.equal((await browser.get('/')).statusCode, 303, 'still not logged in');
      }
    });

    it('locks an account after 3 failed logins for 15 minutes, even for the right password, then lets it in', async () => {
      const browser = new InboxBrowser(await inbox());
      for (let i = 1; i <= 2; i++) assert.equal((await browser.login('wang', `wrong-${i}`)).statusCode, 401);
      const third = await browser.login('wang', 'wrong-3');
      assert.equal(third.statusCode, 423);
      assert.match(third.body, /this account is locked until 2026-12-09T16:15:00.000Z/);
      const right = await browser.login('wang');
      assert.equal(right.statusCode, 423, 'locked: the right password does not open it');
      assert.equal((await browser.get('/')).statusCode, 303);
      // Another account is not affected.
      assert.equal((await new InboxBrowser(app!).login('li')).statusCode, 303);
      clock += 15 * 60_000 + 1;
      const later = await browser.login('wang');
      assert.equal(later.statusCode, 303, later.body);
      assert.equal((await browser.get('/')).statusCode, 200);
    });

    it('locks an id that does not exist the same way (the answer does not tell which ids exist)', async () => {
      const browser = new InboxBrowser(await inbox());
      const codes = [];
      for (let i = 0; i < 3; i++) codes.push((await browser.login('ghost', `wrong-${i}`)).statusCode);
      assert.deepEqual(codes, [401, 401, 423]);
    });

    it('rate-limits the login form per address (429)', async () => {
      const browser = new InboxBrowser(await inbox({ loginRateLimitPerMinute: 4 }));
      const codes = [];
      for (let i = 0; i < 5; i++) codes.push((await browser.login(`user${i}`, 'wrong-password')).statusCode);
      assert.deepEqual(codes, [401, 401, 401, 401, 429]);
      assert.match(browser.lastPage, /Too many login attempts from this address/);
      assert.equal((await browser.get('/login')).statusCode, 200, 'pages other than the login POST are not limited');
    });

    it('ends the session of an account disabled or removed after it logged in', async () => {
      const file = await writeTestAccounts();
      const browser = new InboxBrowser(await inbox({ accountsFile: file }));
      await browser.login('li');
      assert.equal((await browser.get('/')).statusCode, 200);
      const content = readAccountsFile(file);
      // A later modification time, so the inbox reads the file again.
      await new Promise((r) => setTimeout(r, 20));
      writeAccountsFile(file, {
        ...content,
        accounts: content.accounts.map((a) => ({ ...a, disabled: a.id === 'li' })),
      });
      assert.equal((await browser.get('/')).statusCode, 303);
      assert.equal((await browser.login('li')).statusCode, 401);
    });
    it('refuses every login while the accounts file is broken, naming the problem', async () => {
      const file = await writeTestAccounts();
      const browser = new InboxBrowser(await inbox({ accountsFile: file }));
      await browser.get('/login');
      await new Promise((r) => setTimeout(r, 20));
      writeFileSync(file, '{"accounts": [{"id": "wang", "name": "王", "passwordHash": "plain-text"}]}');
      const response = await browser.post('/login', { account: 'wang', password: PASSWORDS.wang! });
      assert.equal(response.statusCode, 500);
      assert.match(response.body, /accounts\.0\.passwordHash: must be an argon2id hash/);
      assert.equal((await browser.get('/')).statusCode, 303);
    });
  });

  describe('CSRF tokens and the Origin check', () => {
    it('refuses a POST without the CSRF token (403) and sends nothing', async () => {
      const browser = new InboxBrowser(await inbox());
      await browser.login('wang');
      await browser.get('/');
      const response = await browser.post('/approve', approveFields, { csrf: false });
      assert.equal(response.statusCode, 403);
      assert.match(response.body, /did not come from this inbox; nothing was done/);
      assert.deepEqual(temporal.decisions, []);
    });

    it('refuses a token from another session (403)', async () => {
      const attacker = new InboxBrowser(await inbox());
      await attacker.login('li');
      await attacker.get('/');
      const victim = new InboxBrowser(app!);
      await victim.login('wang');
      await victim.get('/');
      const response = await victim.post('/approve', { ...approveFields, _csrf: attacker.csrf() });
      assert.equal(response.statusCode, 403);
      assert.deepEqual(temporal.decisions, []);
    });

    it('refuses the login form without its token (login CSRF)', async () => {
      const browser = new InboxBrowser(await inbox());
      await browser.get('/login');
      const response = await browser.post('/login', { account: 'wang', password: PASSWORDS.wang! }, { csrf: false });
      assert.equal(response.statusCode, 403);
    });

    it('refuses a POST from a foreign Origin (403), even with the cookie and a valid token', async () => {
      const browser = new InboxBrowser(await inbox());
      await browser.login('wang');
      await browser.get('/');
      const response = await browser.post('/approve', approveFields, { headers: { origin: 'https://evil.example' } });
      assert.equal(response.statusCode, 403);
      assert.match(
        response.body,
        /this form was posted from https:\/\/evil.example, not from the inbox \(http:\/\/localhost\)/,
      );
      assert.deepEqual(temporal.decisions, []);
    });

    it('refuses a POST with a foreign Referer and no Origin, or with neither', async () => {
      const browser = new InboxBrowser(await inbox(), null);
      await browser.get('/login');
      const token = browser.csrf();
      for (const headers of [{ referer: 'https://evil.example/page' }, {}, { origin: 'null' }] as Record<
        string,
        string
      >[]) {
        const response = await browser.post(
          '/login',
          { _csrf: token, account: 'wang', password: PASSWORDS.wang! },
          {
            csrf: false,
            headers,
          },
        );
        assert.equal(response.statusCode, 403, JSON.stringify(headers));
      }
      const sameSite = await browser.post(
        '/login',
        { _csrf: token, account: 'wang', password: PASSWORDS.wang! },
        { csrf: false, headers: { referer: `${INBOX_ORIGIN}/login` } },
      );
      assert.equal(sameSite.statusCode, 303, 'a same-origin Referer is enough when there is no Origin');
    });

    it('checks the Origin against INBOX_PUBLIC_URL when it is set', async () => {
      const browser = new InboxBrowser(
        await inbox({ publicUrl: new URL('http://inbox.example:8088/') }),
        'http://inbox.example:8088',
      );
      await browser.get('/login');
      assert.equal((await browser.post('/login', { account: 'wang', password: PASSWORDS.wang! })).statusCode, 303);
      const other = new InboxBrowser(app!); // Origin http://localhost, the address it was reached at
      await other.get('/login');
      assert.equal((await other.post('/login', { account: 'wang', password: PASSWORDS.wang! })).statusCode, 403);
    });
  });

  describe('logout', () => {
    it('ends the session: the old cookie no longer opens the inbox', async () => {
      const browser = new InboxBrowser(await inbox());
      await browser.login('wang');
      await browser.get('/');
      const cookie = browser.cookieHeader();
      const response = await browser.post('/logout', {});
      assert.equal(response.statusCode, 303);
      assert.equal(response.headers.location, '/login?loggedOut');
      assert.match(String(response.headers['set-cookie']), /inbox-session=;/);
      const login = await browser.get('/login?loggedOut');
      assert.ok(login.body.includes('<p class="message">已退出登录 Logged out.</p>'));
      // Replaying the cookie from before the logout (as a thief would) is not logged in.
      const replay = await app!.inject({ url: '/', headers: { cookie } });
      assert.equal(replay.statusCode, 303);
      assert.equal(replay.headers.location, '/login');
      const api = await app!.inject({ url: '/api/pending', headers: { cookie } });
      assert.equal(api.statusCode, 401);
    });

    it('needs the CSRF token, so another site cannot log the user out', async () => {
      const browser = new InboxBrowser(await inbox());
      await browser.login('wang');
      await browser.get('/');
      assert.equal((await browser.post('/logout', {}, { csrf: false })).statusCode, 403);
      assert.equal((await browser.get('/')).statusCode, 200);
    });
  });

  describe('cookies and headers', () => {
    it('sets the session cookie HttpOnly, SameSite=Lax, not Secure over http', async () => {
      const browser = new InboxBrowser(await inbox());
      const response = await browser.login('wang');
      const cookie = String(response.headers['set-cookie']);
      assert.match(cookie, /^inbox-session=/);
      assert.match(cookie, /; HttpOnly/);
      assert.match(cookie, /; SameSite=Lax/);
      assert.match(cookie, /; Path=\//);
      assert.doesNotMatch(cookie, /Secure/);
    });

    it('behind https (INBOX_PUBLIC_URL) names it __Host-, marks it Secure and sends HSTS', async () => {
      const origin = 'https://inbox.example';
      await inbox({ publicUrl: new URL(`${origin}/`), trustProxy: true });
      const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'inbox.example', origin };
      const loginPage = await app!.inject({ url: '/login', headers: forwarded });
      const sessionCookie = String(loginPage.headers['set-cookie']);
      assert.match(sessionCookie, /^__Host-inbox-session=.*; Secure/);
      assert.match(String(loginPage.headers['strict-transport-security']), /max-age=31536000/);
      assert.match(String(loginPage.headers['content-security-policy']), /upgrade-insecure-requests/);
      const token = /name="_csrf" value="([^"]+)"/.exec(loginPage.body)![1]!;
      const login = await app!.inject({
        method: 'POST',
        url: '/login',
        headers: {
          ...forwarded,
          'content-type': 'application/x-www-form-urlencoded',
          cookie: sessionCookie.split(';')[0]!,
        },
        payload: new URLSearchParams({ _csrf: token, account: 'wang', password: PASSWORDS.wang! }).toString(),
      });
      assert.equal(login.statusCode, 303, login.body);
      assert.match(String(login.headers['set-cookie']), /^__Host-inbox-session=.*; HttpOnly; Secure; SameSite=Lax/);
    });

    it('sends the security headers on every page: CSP with frame-ancestors none, nosniff, no framing', async () => {
      const browser = new InboxBrowser(await inbox());
      await browser.login('wang');
      for (const url of ['/login', '/', '/health']) {
        const response = await browser.get(url);
        const csp = String(response.headers['content-security-policy']);
        assert.match(csp, /frame-ancestors 'none'/, url);
        assert.match(csp, /default-src 'none'/, url);
        assert.match(csp, /form-action 'self'/, url);
        assert.doesNotMatch(csp, /unsafe-inline/, url);
        assert.equal(response.headers['x-frame-options'], 'DENY', url);
        assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
        assert.equal(response.headers['referrer-policy'], 'same-origin', url);
        assert.equal(response.headers['strict-transport-security'], undefined, 'no HSTS over http');
      }
      const css = await browser.get('/inbox.css');
      assert.equal(css.statusCode, 200);
      assert.match(String(css.headers['content-type']), /^text\/css/);
      assert.ok(!browser.lastPage.includes('<style'), 'no inline styles (the CSP would block them)');
    });

    it('the page holds no password hash and no secret', async () => {
      const browser = new InboxBrowser(await inbox());
      await browser.login('wang');
      const page = (await browser.get('/')).body;
      const hash = JSON.parse(readFileSync(accountsFile, 'utf8')).accounts[0].passwordHash as string;
      assert.ok(!page.includes(hash.slice(-20)));
      assert.ok(!page.includes('argon2'));
    });
  });

  describe('the session store', () => {
    const session = (expires: number) => ({ cookie: { expires: new Date(expires) } }) as unknown as Session;
    const read = (store: ExpiringSessionStore, id: string) =>
      new Promise<unknown>((resolve) => store.get(id, (_err, s) => resolve(s)));

    it('forgets a session when it expires', async () => {
      let now = 1_000;
      const store = new ExpiringSessionStore(60_000, () => now);
      store.set('a', session(now + 60_000), () => {});
      assert.ok(await read(store, 'a'));
      now += 60_000;
      assert.equal(await read(store, 'a'), null);
      assert.equal(store.size, 0);
    });

    it('keeps at most its limit, dropping expired sessions first, then the oldest', async () => {
      let now = 0;
      const store = new ExpiringSessionStore(60_000, () => now, 3);
      store.set('old', session(10), () => {});
      store.set('b', session(100_000), () => {});
      store.set('c', session(100_000), () => {});
      now = 50;
      store.set('d', session(100_000), () => {});
      assert.equal(await read(store, 'old'), null, 'the expired one went first');
      store.set('e', session(100_000), () => {});
      assert.equal(store.size, 3);
      assert.equal(await read(store, 'b'), null, 'then the oldest');
      assert.ok(await read(store, 'e'));
    });
  });
});
