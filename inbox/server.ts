/**
 * The approvers' inbox: after a login (built-in account or OpenID Connect), lists the
 * taxpayer-months the logged-in identity may decide with what an approver needs to decide, sends
 * approve / reject through the client helpers with that identity as the approver, shows the
 * decision history. docs/inbox-security.md describes the protections.
 */
import type { Client } from '@temporalio/client';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { z } from 'zod';
import {
  approve,
  checkPeriod,
  checkTaxNo,
  DeductionInputError,
  DeductionNotFoundError,
  DeductionStateError,
  getProgress,
  reject,
  type DecisionSigner,
} from '../client/deductions.js';
import { Stage } from '../workflows/contract.js';
import { AccountStore, authenticate, DEFAULT_ACCOUNTS_FILE, Lockout } from './accounts.js';
import { decisionHistory, pendingMonths, type PendingApproval, type PendingMonth } from './data.js';
import { approverEntryFor, displayName, type Identity } from './identity.js';
import { SharedRefresh } from './listCache.js';
import { OidcLogin, OidcLoginError } from './oidc.js';
import { registerOverview } from './overviewRoutes.js';
import { mayReadReports, registerReportRoutes } from './reports.js';
import type { InboxSecuritySettings } from './settings.js';
import { fixedDirectory, type TaxpayerDirectory } from './taxpayers.js';
import { INBOX_CSS, renderInbox, renderLogin, renderMonth } from './view.js';
import { registerWebSecurity, sendProblem, sessionCookieName, type Flash } from './webSecurity.js';
import { describeZodError } from '../protocol/zodErrors.js';

export interface InboxOptions {
  client: Client;
  /** Taxpayer names and approvers by taxNo (the registry), read on every request. */
  taxpayers?: TaxpayerDirectory;
  /** Accounts file, public URL, session, rate limit and OIDC settings (inbox/settings.ts). */
  security?: Partial<InboxSecuritySettings>;
  now?: () => Date;
  /**
   * Signs every decision for the logged-in approver (docs/decision-signing.md); required for
   * taxpayers whose decision policy is `signed`.
   */
  signer?: DecisionSigner;
  /** A pino logger for requests and refusals (none by default; inbox/main.ts passes one). */
  logger?: FastifyBaseLogger;
  /**
   * How long the waiting months and the decision history read from Temporal serve every request
   * (default 5 s); a decision made here drops them at once. 0: read on every request.
   */
  listCacheMs?: number;
}

const DecisionForm = z.object({
  taxNo: z.string().trim().min(1, 'taxNo is required'),
  period: z.string().trim().min(1, 'period is required'),
  comment: z.string().optional(),
  reason: z.string().optional(),
  statisticDigest: z.string().optional(),
});

const LoginForm = z.object({
  account: z.string().trim().min(1).max(64),
  password: z.string().min(1).max(256),
});

/** Domain errors of the client helpers, shown as they are; anything else is logged too. */
function isExpected(err: unknown): boolean {
  return (
    err instanceof DeductionInputError || err instanceof DeductionNotFoundError || err instanceof DeductionStateError
  );
}

/**
 * The text for what approve()/reject() returned, shown whatever it is: its `message` (after the
 * taxpayer and period), else an `outcome` beside what was asked. A result that says it was not
 * accepted (an approval voided because the table changed) is shown as an error.
 */
export function describeDecisionResult(
  kind: 'approve' | 'reject',
  taxNo: string,
  period: string,
  result: unknown,
): { message?: string; error?: string } {
  const label = `${kind === 'approve' ? '已同意 Approved' : '已驳回 Rejected'} ${taxNo} ${period}`;
  if (!result || typeof result !== 'object') return { message: label };
  const r = result as Record<string, unknown>;
  const text = (key: string) => (typeof r[key] === 'string' && r[key] ? (r[key] as string) : undefined);
  const outcome = [text('outcome'), text('note')].filter(Boolean).join(' · ');
  if (r.accepted === false || r.refused === true) {
    return { error: `${taxNo} ${period}: ${text('message') ?? text('reason') ?? (outcome || '未接受 not accepted')}` };
  }
  if (text('message')) return { message: `${taxNo} ${period}: ${text('message')}` };
  return { message: outcome ? `${label}: ${outcome}` : label };
}

function withoutRefusals(p: PendingApproval): PendingApproval {
  // Refused decisions name who tried (and, in older workflows, who may approve): not for this page.
  const { refusedSignals: _refused, ...progress } = p.progress;
  return { ...p, progress: progress as PendingApproval['progress'] };
}

export async function buildInbox(opts: InboxOptions): Promise<FastifyInstance> {
  const now = opts.now ?? (() => new Date());
  const settings: InboxSecuritySettings = {
    accountsFile: DEFAULT_ACCOUNTS_FILE,
    sessionHours: 8,
    loginRateLimitPerMinute: 10,
    trustProxy: false,
    ...opts.security,
  };
  const taxpayers = opts.taxpayers ?? fixedDirectory([]);
  const accounts = new AccountStore(settings.accountsFile);
  const lockout = new Lockout(() => now().getTime());
  const oidc = settings.oidc ? new OidcLogin(settings.oidc) : undefined;
  const loginRateLimit = { rateLimit: { max: settings.loginRateLimitPerMinute, timeWindow: 60_000 } };
  const cacheMs = opts.listCacheMs ?? 5000;
  const waiting = new SharedRefresh(() => pendingMonths(opts.client, taxpayerNames()), cacheMs, cacheMs * 6);
  const history = new SharedRefresh(() => decisionHistory(opts.client), cacheMs, cacheMs * 6);

  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    trustProxy: settings.trustProxy,
    // Fastify's own request lines carry the full URL, and the OIDC callback's holds the code.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        path: request.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request',
    );
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  await registerWebSecurity(app, settings);

  /** The logged-in identity, or undefined; a disabled or removed account's session ends here. */
  async function identityOf(request: FastifyRequest): Promise<Identity | undefined> {
    const identity = request.session.identity;
    if (identity?.kind === 'account') {
      const account = accounts.find(identity.id);
      if (!account || account.disabled) {
        await request.session.regenerate();
        return undefined;
      }
    }
    return identity;
  }

  /** preHandler of the pages and actions that need a login. */
  async function requireLogin(request: FastifyRequest, reply: FastifyReply) {
    if (await identityOf(request)) return;
    if (request.method === 'GET' && !request.url.startsWith('/api/')) return reply.redirect('/login', 303);
    return sendProblem(request, reply, 401, '请先登录 Log in first: nothing was done.');
  }

  function identity(request: FastifyRequest): Identity {
    return request.session.identity!;
  }

  function takeFlash(request: FastifyRequest): Flash {
    const flash = request.session.flash ?? {};
    if (request.session.flash) request.session.flash = undefined;
    return { ...flash };
  }

  app.get('/health', async (_req, reply) => {
    try {
      await opts.client.connection.withDeadline(Date.now() + 3000, () => opts.client.workflowService.getSystemInfo({}));
      return { status: 'ok', temporal: 'reachable' };
    } catch (err) {
      return reply.code(503).send({ status: 'degraded', temporal: (err as Error).message });
    }
  });

  app.get('/inbox.css', async (_req, reply) => reply.type('text/css; charset=utf-8').send(INBOX_CSS));

  // ---- login and logout ----------------------------------------------------------------------

  // Each new visitor of the login page gets a session (for its CSRF secret): limited too.
  const loginPageRateLimit = { rateLimit: { max: settings.loginRateLimitPerMinute * 6, timeWindow: 60_000 } };
  app.get('/login', { config: loginPageRateLimit }, async (request, reply) => {
    if (await identityOf(request)) return reply.redirect('/', 303);
    const flash = takeFlash(request);
    if ((request.query as { loggedOut?: string }).loggedOut !== undefined) flash.message = '已退出登录 Logged out.';
    return reply
      .type('text/html; charset=utf-8')
      .send(renderLogin({ csrfToken: reply.generateCsrf(), sso: Boolean(oidc), ...flash }));
  });

  async function startSession(request: FastifyRequest, who: Identity): Promise<void> {
    // A new session id at login: an id planted before the login (session fixation) is worthless.
    await request.session.regenerate();
    request.session.identity = who;
    request.session.loggedInAt = now().getTime();
  }

  app.post('/login', { config: loginRateLimit, preHandler: app.csrfProtection }, async (request, reply) => {
    const form = LoginForm.safeParse(request.body);
    const accountId =
      typeof (request.body as { account?: unknown })?.account === 'string'
        ? (request.body as { account: string }).account
        : '';
    const again = (status: number, error: string) =>
      reply
        .code(status)
        .type('text/html; charset=utf-8')
        .send(renderLogin({ csrfToken: reply.generateCsrf(), sso: Boolean(oidc), accountId, error }));
    if (!form.success) return again(400, '请输入账号和密码 Enter the account and the password.');
    const result = await authenticate(accounts, lockout, form.data.account, form.data.password);
    if (!result.ok) {
      request.log.warn({ account: form.data.account, reason: result.reason, ip: request.ip }, 'inbox login refused');
      if (result.reason === 'locked') {
        return again(
          423,
          `账号已锁定，请于 ${result.until.toISOString()} 后再试 Too many failed logins: this account is locked until ${result.until.toISOString()}.`,
        );
      }
      return again(401, '账号或密码错误 Wrong account or password.');
    }
    await startSession(request, { kind: 'account', id: result.account.id, name: result.account.name });
    request.log.info({ account: result.account.id }, 'inbox login');
    return reply.redirect('/', 303);
  });

  app.get('/auth/oidc/login', { config: loginRateLimit }, async (request, reply) => {
    if (!oidc) return reply.code(404).send({ statusCode: 404, message: 'OpenID Connect is not configured' });
    try {
      const { url, pending } = await oidc.start(now().getTime());
      request.session.oidcLogin = pending;
      return reply.redirect(url.href, 302);
    } catch (err) {
      request.session.flash = { error: (err as Error).message };
      return reply.redirect('/login', 303);
    }
  });

  app.get('/auth/oidc/callback', { config: loginRateLimit }, async (request, reply) => {
    if (!oidc) return reply.code(404).send({ statusCode: 404, message: 'OpenID Connect is not configured' });
    const pending = request.session.oidcLogin;
    request.session.oidcLogin = undefined;
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    try {
      const who = await oidc.finish(query, pending, now().getTime());
      await startSession(request, who);
      request.log.info({ sub: who.kind === 'oidc' ? who.sub : undefined }, 'inbox OIDC login');
      return reply.redirect('/', 303);
    } catch (err) {
      if (!(err instanceof OidcLoginError)) request.log.error({ err }, 'OIDC callback failed');
      request.session.flash = { error: (err as Error).message };
      return reply.redirect('/login', 303);
    }
  });

  app.post('/logout', { preHandler: app.csrfProtection }, async (request, reply) => {
    if (request.session.sessionId) await request.session.destroy();
    reply.clearCookie(sessionCookieName(settings), { path: '/' });
    return reply.redirect('/login?loggedOut', 303);
  });

  // ---- the inbox ---------------------------------------------------------------------------------

  function taxpayerNames(): Map<string, string> {
    return new Map([...taxpayers()].flatMap(([taxNo, t]) => (t.name ? [[taxNo, t.name] as [string, string]] : [])));
  }

  /**
   * The waiting months from visibility (one paged list, no query per month), split into those this
   * identity may decide (with its registry entry) and the rest.
   */
  async function pendingFor(who: Identity) {
    const directory = taxpayers();
    const mine: { month: PendingMonth; approver: string }[] = [];
    const others: PendingMonth[] = [];
    for (const month of await waiting.get()) {
      const approver = approverEntryFor(who, directory.get(month.taxNo)?.approvers);
      if (approver) mine.push({ month, approver });
      else others.push(month);
    }
    return { mine, others };
  }

  app.get('/api/pending', { preHandler: requireLogin }, async (request) => {
    const { mine } = await pendingFor(identity(request));
    return mine.map((m) => ({ ...m.month, approver: m.approver }));
  });
  app.get('/api/history', { preHandler: requireLogin }, async () => history.get());

  // The period at a glance (inbox/overviewRoutes.ts).
  const overview = registerOverview(app, { client: opts.client, taxpayers, now, requireLogin, cacheMs });

  // The audit reports of decided months (inbox/reports.ts).
  registerReportRoutes(app, { client: opts.client, taxpayers, requireLogin, now });

  app.get('/', { preHandler: requireLogin }, async (request, reply) => {
    const who = identity(request);
    const [{ mine, others }, decided] = await Promise.all([pendingFor(who), history.get()]);
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    return renderInbox({
      mine: mine.map((m) => m.month),
      others,
      history: decided,
      now: now(),
      user: displayName(who),
      csrfToken: reply.generateCsrf(),
      approverLabel: (approver) => {
        const account = accounts.find(approver);
        return account ? `${account.name} (${account.id})` : approver;
      },
      mayReadReports: (taxNo) => mayReadReports(taxpayers, who, taxNo),
      ...takeFlash(request),
    });
  });

  // One month in full: this page (and the decision) may query the workflow; the list never does.
  app.get('/months/:taxNo/:period', { preHandler: requireLogin }, async (request, reply) => {
    const { taxNo, period } = request.params as { taxNo: string; period: string };
    try {
      checkTaxNo(taxNo);
      checkPeriod(period);
      const status = await getProgress(opts.client, taxNo, period);
      const who = identity(request);
      const approver = approverEntryFor(who, taxpayers().get(taxNo)?.approvers);
      const csrfToken = reply.generateCsrf();
      const pending = withoutRefusals({
        workflowId: status.workflowId,
        name: taxpayerNames().get(taxNo),
        progress: status.progress,
      });
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
      return renderMonth({
        pending,
        ...(approver && status.status === 'RUNNING' ? { decideAs: { csrfToken, approver } } : {}),
        now: now(),
        user: displayName(who),
        csrfToken,
      });
    } catch (err) {
      if (!isExpected(err)) throw err;
      request.session.flash = { error: (err as Error).message };
      return reply.redirect('/', 303);
    }
  });

  async function decide(
    request: FastifyRequest,
    kind: 'approve' | 'reject',
  ): Promise<{ message?: string; error?: string }> {
    const form = DecisionForm.safeParse(request.body);
    if (!form.success) return { error: describeZodError(form.error, '') };
    const { taxNo, period, comment, reason, statisticDigest } = form.data;
    const who = identity(request);
    try {
      checkTaxNo(taxNo);
      checkPeriod(period);
      const taxpayer = taxpayers().get(taxNo);
      const approver = approverEntryFor(who, taxpayer?.approvers);
      if (!approver) {
        request.log.warn({ who: displayName(who), taxNo, period, kind }, 'refused a decision by a non-approver');
        return {
          error:
            `您不是 ${taxpayer?.name ?? ''} ${taxNo} 的审批人，未发送任何决定。` +
            `You (${displayName(who)}) are not an approver of ${taxNo}; nothing was sent.`,
        };
      }
      const signing = opts.signer ? { signer: opts.signer } : {};
      if (kind === 'reject') {
        const input = { approver, reason: reason ?? '', ...(statisticDigest ? { statisticDigest } : {}) };
        return describeDecisionResult(kind, taxNo, period, await reject(opts.client, taxNo, period, input, signing));
      }
      if (!statisticDigest) {
        return {
          error: '缺少统计表摘要 The form names no statistic table (digest): reload the page; nothing was sent.',
        };
      }
      // Refused here, before anything is sent, when the table changed since the page showed it.
      const live = (await getProgress(opts.client, taxNo, period)).progress;
      const shown = live.stage === Stage.AwaitingApproval ? live.statistic?.digest : undefined;
      if (shown && /^[0-9a-f]{8}$/.test(statisticDigest) && shown !== statisticDigest) {
        return {
          error:
            `统计表已变化，未发送任何决定 The statistic table of ${taxNo} ${period} changed since the page showed it ` +
            `(shown ${statisticDigest}, now ${shown}); nothing was sent. Reload the page and check the table again.`,
        };
      }
      const result = await approve(
        opts.client,
        taxNo,
        period,
        { approver, ...(comment?.trim() ? { comment: comment.trim() } : {}), statisticDigest },
        signing,
      );
      return describeDecisionResult(kind, taxNo, period, result);
    } catch (err) {
      if (!isExpected(err)) request.log.error({ err, taxNo, period, kind }, 'decision failed');
      return { error: (err as Error).message || String(err) };
    }
  }

  // The outcome is shown once on the page it redirects to (kept in the session, not in the URL).
  const decisionRoute = { preHandler: [app.csrfProtection, requireLogin] };
  for (const kind of ['approve', 'reject'] as const) {
    app.post(`/${kind}`, decisionRoute, async (request, reply) => {
      request.session.flash = await decide(request, kind);
      waiting.invalidate();
      history.invalidate();
      overview.invalidate();
      return reply.redirect('/', 303);
    });
  }
  return app;
}
