import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterEach, before, describe, it } from 'mocha';
import { buildInbox } from '../inbox/server.js';
import { verifyDecision, type DecisionSignature } from '../security/decisionSigning.js';
import { fixedDirectory } from '../inbox/taxpayers.js';
import { FakeTemporal, KINGDEE, OTHER, PERIOD, STATISTIC, TRADING, progress, wid } from './support/fakeTemporal.js';
import { InboxBrowser, shownNotices, writeTestAccounts } from './support/inboxBrowser.js';

/**
 * The approvers' inbox routes through Fastify's inject, logged in as a built-in account, against
 * a fake Temporal client (test/support/fakeTemporal.ts) that records every decision sent.
 * Login, CSRF, Origin, headers and lock-out: test/inbox.security.test.ts.
 */

/** wang approves every taxpayer below; li only KINGDEE. */
const REGISTRY = fixedDirectory([
  [KINGDEE, { name: '深圳示例科技有限公司', approvers: ['wang', 'li'] }],
  [TRADING, { name: '深圳示例贸易有限公司', approvers: ['wang'] }],
  [OTHER, { approvers: ['wang'] }],
]);

describe('inbox routes (Fastify inject, fake Temporal client)', () => {
  let app: FastifyInstance | undefined;
  let accountsFile: string;
  before(async () => {
    accountsFile = await writeTestAccounts();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function inboxWith(temporal: FakeTemporal, taxpayers = REGISTRY): Promise<FastifyInstance> {
    app = await buildInbox({
      client: temporal.client(),
      taxpayers,
      security: { accountsFile },
      now: () => new Date('2026-12-10T00:00:00+08:00'),
    });
    return app;
  }

  /** A browser logged in as `account` on a new inbox over `temporal`. */
  async function loggedIn(temporal: FakeTemporal, account = 'wang', taxpayers = REGISTRY): Promise<InboxBrowser> {
    const browser = new InboxBrowser(await inboxWith(temporal, taxpayers));
    const response = await browser.login(account);
    assert.equal(response.statusCode, 303, response.body);
    assert.equal(response.headers.location, '/');
    return browser;
  }

  describe('POST /reject', () => {
    it('sends the reject decision to the waiting run with the logged-in account as approver and the reason trimmed', async () => {
      const temporal = new FakeTemporal();
      temporal.add({ taxNo: KINGDEE, stage: 'AWAITING_APPROVAL', runId: 'run-k1' });
      const browser = await loggedIn(temporal);
      const shown = await browser.decide('/reject', { taxNo: KINGDEE, period: PERIOD, reason: ' 金额与账簿不符 ' });
      assert.deepEqual(shown, {
        message: `${KINGDEE} 202611: 已驳回，统计表将被撤销 Rejected: the month revokes the statistic table`,
      });
      assert.deepEqual(temporal.decisions, [
        {
          workflowId: 'deduction-91440300591872133B-202611',
          runId: 'run-k1',
          name: 'reject',
          args: [{ approver: 'wang', reason: '金额与账簿不符' }],
        },
      ]);
    });

    it('ignores an approver named in the form: the logged-in identity decides', async () => {
      const temporal = new FakeTemporal();
      temporal.add({ taxNo: KINGDEE, stage: 'AWAITING_APPROVAL' });
      const browser = await loggedIn(temporal, 'li');
      await browser.decide('/reject', { taxNo: KINGDEE, period: PERIOD, approver: 'wang', reason: '重复勾选' });
      assert.deepEqual(temporal.decisions[0]?.args, [{ approver: 'li', reason: '重复勾选' }]);
    });

    it('accepts the same decision as a JSON body with the token in a header', async () => {
      const temporal = new FakeTemporal();
      temporal.add({ taxNo: KINGDEE, stage: 'AWAITING_APPROVAL' });
      const browser = await loggedIn(temporal);
      await browser.get('/');
      const response = await app!.inject({
        method: 'POST',
        url: '/reject',
        headers: { cookie: browser.cookieHeader(), origin: 'http://localhost', 'x-csrf-token': browser.csrf() },
        payload: { taxNo: KINGDEE, period: PERIOD, reason: '重复勾选' },
      });
      assert.equal(response.statusCode, 303, response.body);
      assert.deepEqual(temporal.decisions[0]?.args, [{ approver: 'wang', reason: '重复勾选' }]);
    });

    const refusals: {
      title: string;
      fields: Record<string, string>;
      error: string;
      setup?: (t: FakeTemporal) => void;
    }[] = [
      {
        title: 'a missing reason',
        fields: { taxNo: KINGDEE, period: PERIOD },
        error: 'reason: reason is required',
      },
      {
        title: 'a blank reason',
        fields: { taxNo: KINGDEE, period: PERIOD, reason: '   ' },
        error: 'reason: reason is required',
      },
      {
        title: 'a reason over 500 characters',
        fields: { taxNo: KINGDEE, period: PERIOD, reason: '长'.repeat(501) },
        error: 'reason: reason: at most 500 characters',
      },
      {
        title: 'an invalid taxNo',
        fields: { taxNo: '9144', period: PERIOD, reason: '金额不符' },
        error: 'taxNo 9144: must be 18 characters, got 4',
      },
      {
        title: 'an invalid period',
        fields: { taxNo: KINGDEE, period: '202613', reason: '金额不符' },
        error: 'period 202613: tax period must be YYYYMM with a month 01-12 and a year 2000-2099',
      },
      {
        title: 'a month with no workflow',
        fields: { taxNo: OTHER, period: PERIOD, reason: '金额不符' },
        error:
          `No deduction workflow for taxNo ${OTHER} period 202611 (workflow id deduction-${OTHER}-202611). ` +
          `Start it with: start --tax-no ${OTHER} --period 202611`,
      },
      {
        title: 'a month still selecting (the live stage wins over a stale search attribute)',
        fields: { taxNo: TRADING, period: PERIOD, reason: '金额不符' },
        setup: (t) => {
          const run = t.add({ taxNo: TRADING, stage: 'AWAITING_APPROVAL' });
          run.progress = progress(TRADING, 'SELECTING');
        },
        error: `Cannot reject deduction-${TRADING}-202611: its stage is SELECTING, not AWAITING_APPROVAL`,
      },
      {
        title: 'a month already completed',
        fields: { taxNo: TRADING, period: PERIOD, reason: '金额不符' },
        setup: (t) =>
          t.add({
            taxNo: TRADING,
            stage: 'COMPLETED',
            status: 'COMPLETED',
            result: { ...progress(TRADING, 'COMPLETED'), outcome: 'COMPLETED', note: '' },
          }),
        error: `Cannot reject deduction-${TRADING}-202611: the workflow is COMPLETED, not running`,
      },
    ];
    for (const r of refusals) {
      it(`refuses ${r.title} with a clear error and sends nothing`, async () => {
        const temporal = new FakeTemporal();
        temporal.add({ taxNo: KINGDEE, stage: 'AWAITING_APPROVAL' });
        r.setup?.(temporal);
        const browser = await loggedIn(temporal);
        assert.deepEqual(await browser.decide('/reject', r.fields), { error: r.error });
        assert.deepEqual(temporal.decisions, []);
      });
    }

    it('refuses a logged-in non-approver with a clear message, without calling Temporal', async () => {
      const temporal = new FakeTemporal();
      temporal.add({ taxNo: TRADING, stage: 'AWAITING_APPROVAL' });
      const browser = await loggedIn(temporal, 'li');
      await browser.get('/');
      const [lists, handles] = [temporal.listQueries.length, temporal.handleCalls.length];
      const response = await browser.post('/reject', { taxNo: TRADING, period: PERIOD, reason: '金额不符' });
      assert.equal(response.statusCode, 303);
      assert.deepEqual(
        [temporal.listQueries.length, temporal.handleCalls.length],
        [lists, handles],
        'the refusal called Temporal for nothing',
      );
      const { error } = shownNotices((await browser.get('/')).body);
      assert.equal(
        error,
        `您不是 深圳示例贸易有限公司 ${TRADING} 的审批人，未发送任何决定。You (李经理 (li)) are not an approver of ${TRADING}; nothing was sent.`,
      );
      assert.ok(!error!.includes('wang'), 'the refusal does not say who may approve');
      assert.deepEqual(temporal.decisions, []);
    });

    it('refuses every decision on a taxpayer the registry does not list', async () => {
      const temporal = new FakeTemporal();
      temporal.add({ taxNo: '914403007451947782', stage: 'AWAITING_APPROVAL' });
      const browser = await loggedIn(temporal);
      const { error } = await browser.decide('/reject', { taxNo: '914403007451947782', period: PERIOD, reason: 'x' });
      assert.match(error!, /not an approver of 914403007451947782; nothing was sent/);
      assert.deepEqual(temporal.decisions, []);
    });

    it('shows an unexpected Temporal failure as the error on the page', async () => {
      const temporal = new FakeTemporal();
      temporal.add({ taxNo: KINGDEE, stage: 'AWAITING_APPROVAL' });
      temporal.decisionFailure = new Error('14 UNAVAILABLE: connection dropped');
      const browser = await loggedIn(temporal);
      const shown = await browser.decide('/reject', { taxNo: KINGDEE, period: PERIOD, reason: 'x' });
      assert.deepEqual(shown, { error: '14 UNAVAILABLE: connection dropped' });
    });

    it('the error shows escaped on the page it redirects to, and only once', async () => {
      const temporal = new FakeTemporal();
      const browser = await loggedIn(temporal);
      await browser.get('/');
      const response = await browser.post('/reject', { taxNo: '<b>x</b>', period: PERIOD, reason: 'x' });
      assert.equal(response.statusCode, 303);
      assert.equal(response.headers.location, '/', 'the text is not in the URL');
      const page = await browser.get('/');
      assert.ok(page.body.includes('<p class="error">taxNo &lt;b&gt;x&lt;/b&gt;: must be 18 characters'), page.body);
      const again = await browser.get('/');
      assert.ok(!again.body.includes('class="error"'), 'shown once');
    });
  });

  describe('POST /approve', () => {
    it('sends approve with the logged-in approver, the comment trimmed and the digest the page showed', async () => {
      const temporal = new FakeTemporal();
      const run = temporal.add({ taxNo: KINGDEE, stage: 'AWAITING_APPROVAL', runId: 'run-a' });
      run.progress = progress(KINGDEE, 'AWAITING_APPROVAL', { statistic: STATISTIC });
      const browser = await loggedIn(temporal);
      await browser.get(`/months/${KINGDEE}/${PERIOD}`);
      assert.ok(browser.lastPage.includes('<input type="hidden" name="statisticDigest" value="0badf00d">'));
      const shown = await browser.decide('/approve', {
        taxNo: KINGDEE,
        period: PERIOD,
        comment: ' 核对无误 ',
        statisticDigest: '0badf00d',
      });
      assert.deepEqual(shown, {
        message: `${KINGDEE} 202611: 已同意，统计表 0badf00d 待确认 Approved: the bureau's table is still 0badf00d; the month goes on to confirm it`,
      });
      assert.deepEqual(temporal.decisions, [
        {
          workflowId: wid(KINGDEE),
          runId: 'run-a',
          name: 'approve',
          args: [{ approver: 'wang', comment: '核对无误', statisticDigest: '0badf00d' }],
        },
      ]);
    });

    it('sends no comment when it is blank', async () => {
      const temporal = new FakeTemporal();
      const run = temporal.add({ taxNo: KINGDEE, stage: 'AWAITING_APPROVAL' });
      run.progress = progress(KINGDEE, 'AWAITING_APPROVAL', { statistic: STATISTIC });
      const browser = await loggedIn(temporal, 'li');
      const shown = await browser.decide('/approve', {
        taxNo: KINGDEE,
        period: PERIOD,
        comment: '  ',
        statisticDigest: '0badf00d',
      });
      assert.ok(shown.message);
      assert.deepEqual(temporal.decisions[0]?.args, [{ approver: 'li', statisticDigest: '0badf00d' }]);
    });

    it("shows the workflow's refusal as the error", async () => {
      const temporal = new FakeTemporal();
      const run = temporal.add({ taxNo: KINGDEE, stage: 'AWAITING_APPROVAL' });
      run.progress = progress(KINGDEE, 'AWAITING_APPROVAL', { statistic: STATISTIC });
      temporal.refuseDecisions('a decision was already made', 'already-decided');
      const browser = await loggedIn(temporal);
      const shown = await browser.decide('/approve', { taxNo: KINGDEE, period: PERIOD, statisticDigest: '0badf00d' });
      assert.deepEqual(shown, { error: 'a decision was already made' });
    });

    it('shows an approval the workflow voided (the table changed after it) as an error', async () => {
      const temporal = new FakeTemporal();
      const run = temporal.add({ taxNo: KINGDEE, stage: 'AWAITING_APPROVAL' });
      run.progress = progress(KINGDEE, 'AWAITING_APPROVAL', { statistic: STATISTIC });
      temporal.updateOutcome = () => ({
        outcome: 'voided',
        reason: 'the bureau table changed',
        statisticDigest: 'feedf00d',
      });
      const browser = await loggedIn(temporal);
      const shown = await browser.decide('/approve', { taxNo: KINGDEE, period: PERIOD, statisticDigest: '0badf00d' });
      assert.deepEqual(shown, {
        error: `${KINGDEE} 202611: 审批已作废 Approval voided: the bureau table changed (the new table is feedf00d)`,
      });
    });

    it('refuses a table that changed since the page showed it, and sends nothing', async () => {
      const temporal = new FakeTemporal();
      const run = temporal.add({ taxNo: KINGDEE, stage: 'AWAITING_APPROVAL' });
      run.progress = progress(KINGDEE, 'AWAITING_APPROVAL', { statistic: STATISTIC });
      const browser = await loggedIn(temporal);
      const { error } = await browser.decide('/approve', {
        taxNo: KINGDEE,
        period: PERIOD,
        statisticDigest: '12345678',
      });
      assert.match(
        error!,
        /^统计表已变化，未发送任何决定 The statistic table of .* changed since the page showed it \(shown 12345678, now 0badf00d\)/,
      );
      assert.deepEqual(temporal.decisions, []);
    });

    it('refuses a form without the digest, and a malformed digest', async () => {
      const temporal = new FakeTemporal();
      const run = temporal.add({ taxNo: KINGDEE, stage: 'AWAITING_APPROVAL' });
      run.progress = progress(KINGDEE, 'AWAITING_APPROVAL', { statistic: STATISTIC });
      const browser = await loggedIn(temporal);
      assert.match(
        (await browser.decide('/approve', { taxNo: KINGDEE, period: PERIOD })).error!,
        /names no statistic table/,
      );
      assert.deepEqual(await browser.decide('/approve', { taxNo: KINGDEE, period: PERIOD, statisticDigest: 'XYZ' }), {
        error: 'statisticDigest: statisticDigest must be 8 hex characters',
      });
      assert.deepEqual(temporal.decisions, []);
    });

    it('refuses a non-approver before anything reaches Temporal', async () => {
      const temporal = new FakeTemporal();
      const run = temporal.add({ taxNo: TRADING, stage: 'AWAITING_APPROVAL' });
      run.progress = progress(TRADING, 'AWAITING_APPROVAL', { statistic: STATISTIC });
      const browser = await loggedIn(temporal, 'li');
      const { error } = await browser.decide('/approve', {
        taxNo: TRADING,
        period: PERIOD,
        statisticDigest: '0badf00d',
      });
      assert.match(error!, /not an approver of 91440300MA5G9GK78Y; nothing was sent/);
      assert.deepEqual(temporal.decisions, []);
    });
  });

  describe('signed decisions (INBOX_SIGNING_KEY_FILE)', () => {
    it("signs approve and reject for the logged-in approver with the inbox's key; the signature verifies", async () => {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const keys = new Map([['inbox-test-1', publicKey]]);
      const temporal = new FakeTemporal();
      const run = temporal.add({ taxNo: KINGDEE, stage: 'AWAITING_APPROVAL' });
      run.progress = progress(KINGDEE, 'AWAITING_APPROVAL', { statistic: STATISTIC });
      app = await buildInbox({
        client: temporal.client(),
        taxpayers: REGISTRY,
        security: { accountsFile },
        signer: { privateKey, keyId: 'inbox-test-1' },
      });
      const browser = new InboxBrowser(app);
      await browser.login('li');
      await browser.decide('/approve', { taxNo: KINGDEE, period: PERIOD, statisticDigest: '0badf00d' });
      await browser.decide('/reject', {
        taxNo: KINGDEE,
        period: PERIOD,
        statisticDigest: '0badf00d',
        reason: '金额不符',
      });
      assert.equal(temporal.decisions.length, 2);
      for (const [sent, decision] of [
        [temporal.decisions[0]!, 'approve'],
        [temporal.decisions[1]!, 'reject'],
      ] as const) {
        const input = sent.args[0] as { approver: string; statisticDigest: string; signature: DecisionSignature };
        assert.equal(input.approver, 'li');
        assert.equal(input.signature.keyId, 'inbox-test-1');
        const fields = {
          taxNo: KINGDEE,
          taxPeriod: PERIOD,
          statisticDigest: '0badf00d',
          decision,
          approver: 'li',
          signedAt: input.signature.signedAt,
        };
        assert.deepEqual(verifyDecision(keys, fields, input.signature), { valid: true, keyId: 'inbox-test-1' });
        assert.equal(verifyDecision(keys, { ...fields, approver: 'wang' }, input.signature).valid, false);
      }
    });

    it('a signed rejection names the table: the form carries its digest', async () => {
      const temporal = new FakeTemporal();
      const run = temporal.add({ taxNo: KINGDEE, stage: 'AWAITING_APPROVAL' });
      run.progress = progress(KINGDEE, 'AWAITING_APPROVAL', { statistic: STATISTIC });
      const browser = await loggedIn(temporal);
      const page = (await browser.get(`/months/${KINGDEE}/${PERIOD}`)).body;
      const rejectForm = /<form method="post" action="\/reject" class="reject">[\s\S]*?<\/form>/.exec(page)![0];
      assert.ok(rejectForm.includes('<input type="hidden" name="statisticDigest" value="0badf00d">'), rejectForm);
    });
  });

  describe('pages and the JSON API', () => {
    function addWaiting(temporal: FakeTemporal) {
      temporal.add({
        taxNo: KINGDEE,
        stage: 'AWAITING_APPROVAL',
        progress: progress(KINGDEE, 'AWAITING_APPROVAL', {
          approvalDeadline: '2026-12-14T16:00:00.000Z',
          refusedSignals: [
            { signal: 'approve', approver: 'x', reason: 'x is not an approver', at: '2026-12-05T00:00:00Z' },
          ],
        }),
      });
      temporal.add({
        taxNo: TRADING,
        stage: 'AWAITING_APPROVAL',
        progress: progress(TRADING, 'AWAITING_APPROVAL', { approvalDeadline: '2026-12-12T16:00:00.000Z' }),
      });
      // Visibility still says AWAITING_APPROVAL, but the month was decided since: the list shows
      // what visibility says (a decision is checked against the live month when it is sent).
      temporal.add({ taxNo: OTHER, stage: 'AWAITING_APPROVAL', progress: progress(OTHER, 'CONFIRMING') });
      // Closed with a stale attribute.
      temporal.add({
        taxNo: '914403007451947782',
        stage: 'AWAITING_APPROVAL',
        status: 'TERMINATED',
        progress: progress('914403007451947782', 'AWAITING_APPROVAL'),
      });
    }

    it('GET /api/pending lists the months this approver may decide from one visibility list, soonest deadline first, with names', async () => {
      const temporal = new FakeTemporal();
      addWaiting(temporal);
      temporal.runs.get(wid(KINGDEE))!.progress.statistic = STATISTIC;
      const browser = await loggedIn(temporal);
      temporal.handleCalls.length = 0;
      const response = await app!.inject({ url: '/api/pending', headers: { cookie: browser.cookieHeader() } });
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      assert.deepEqual(response.json(), [
        {
          workflowId: 'deduction-91440300MA5G9GK78Y-202611',
          taxNo: TRADING,
          taxPeriod: '202611',
          name: '深圳示例贸易有限公司',
          approvalDeadline: '2026-12-12T16:00:00.000Z',
          approver: 'wang',
        },
        {
          workflowId: 'deduction-91440300591872133B-202611',
          taxNo: KINGDEE,
          taxPeriod: '202611',
          name: '深圳示例科技有限公司',
          approvalDeadline: '2026-12-14T16:00:00.000Z',
          totals: {
            deductibleCount: 3,
            deductibleAmount: '300.00',
            deductibleTax: '39.00',
            statisticDigest: '0badf00d',
            failedInvoices: 0,
          },
          approver: 'wang',
        },
        // No deadline attribute (visibility lags the decision): last.
        { workflowId: wid(OTHER), taxNo: OTHER, taxPeriod: '202611', approver: 'wang' },
      ]);
      assert.deepEqual(temporal.listQueries, [
        'WorkflowType = "MonthlyDeductionWorkflow" AND ExecutionStatus = "Running" AND DeductionStage = "AWAITING_APPROVAL"',
      ]);
      assert.deepEqual(temporal.handleCalls, [], 'no workflow is described or queried for the list');
      assert.deepEqual(temporal.decisions, [], 'reading sends nothing');
    });

    it("GET /api/pending leaves out the months of other approvers' taxpayers", async () => {
      const temporal = new FakeTemporal();
      addWaiting(temporal);
      const browser = await loggedIn(temporal, 'li');
      const response = await app!.inject({ url: '/api/pending', headers: { cookie: browser.cookieHeader() } });
      assert.deepEqual(
        response.json().map((p: { workflowId: string }) => p.workflowId),
        [wid(KINGDEE)],
      );
      assert.ok(!JSON.stringify(response.json()).includes('x is not an approver'), 'refused decisions are not listed');
    });

    it('GET /api/pending is an empty list when nothing waits', async () => {
      const browser = await loggedIn(new FakeTemporal());
      const response = await app!.inject({ url: '/api/pending', headers: { cookie: browser.cookieHeader() } });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), []);
    });

    it('GET /api/history lists closed months, newest first, with who decided', async () => {
      const temporal = new FakeTemporal();
      temporal.add({ taxNo: KINGDEE, stage: 'AWAITING_APPROVAL' }); // running: not history
      const decided = {
        decision: 'rejected',
        approver: 'wang',
        comment: '金额不符',
        decidedAt: '2026-12-06T01:00:00.000Z',
      };
      temporal.add({
        taxNo: TRADING,
        stage: 'REJECTED',
        status: 'COMPLETED',
        closeTime: new Date('2026-12-06T01:00:05.000Z'),
        result: { ...progress(TRADING, 'REJECTED', { decision: decided }), outcome: 'REJECTED', note: '' },
      });
      temporal.add({
        taxNo: OTHER,
        stage: 'SELECTING',
        status: 'TERMINATED',
        closeTime: new Date('2026-12-07T00:00:00.000Z'),
      });
      const browser = await loggedIn(temporal);
      const response = await app!.inject({ url: '/api/history', headers: { cookie: browser.cookieHeader() } });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), [
        {
          workflowId: `deduction-${OTHER}-202611`,
          taxNo: OTHER,
          taxPeriod: '202611',
          outcome: 'TERMINATED',
          closedAt: '2026-12-07T00:00:00.000Z',
        },
        {
          workflowId: `deduction-${TRADING}-202611`,
          taxNo: TRADING,
          taxPeriod: '202611',
          outcome: 'REJECTED',
          approver: 'wang',
          comment: '金额不符',
          decidedAt: '2026-12-06T01:00:00.000Z',
          closedAt: '2026-12-06T01:00:05.000Z',
        },
      ]);
    });

    it('GET / lists the waiting months from visibility: countdown, totals, planned-vs-bureau mark, failed invoices', async () => {
      const temporal = new FakeTemporal();
      const run = temporal.add({ taxNo: KINGDEE, stage: 'AWAITING_APPROVAL' });
      run.progress = progress(KINGDEE, 'AWAITING_APPROVAL', {
        statistic: STATISTIC,
        approvalDeadline: '2026-12-10T19:00:00.000Z',
        selection: { failed: 2 },
        plannedVersusBureau: { agrees: false },
      });
      const browser = await loggedIn(temporal);
      temporal.handleCalls.length = 0;
      const body = (await browser.get('/')).body;
      assert.deepEqual(temporal.handleCalls, [], 'the list queries no workflow');
      const row = new RegExp(`<tr class="pending-row urgent" data-workflow-id="${wid(KINGDEE)}">[\\s\\S]*?</tr>`).exec(
        body,
      )?.[0];
      assert.ok(row, body);
      assert.ok(row.includes('深圳示例科技有限公司'));
      assert.ok(row.includes('<td class="time-left">1 天 3 小时 (1d 3h)</td>'), row);
      assert.ok(row.includes('<td class="n">3</td><td class="n">300.00</td><td class="n">39.00</td>'), row);
      assert.ok(row.includes('<td class="check differs">✗ 不一致 differs</td><td class="n failed">2</td>'), row);
      assert.ok(row.includes(`<a class="review" href="/months/${KINGDEE}/202611">查看并审批 Review</a>`), row);
      assert.ok(!body.includes('<form method="post" action="/approve"'), 'decisions are made on the month page');
    });

    it('GET /months/:taxNo/:period renders the waiting month with forms carrying the token and no approver field', async () => {
      const temporal = new FakeTemporal();
      const run = temporal.add({ taxNo: KINGDEE, stage: 'AWAITING_APPROVAL' });
      run.progress = progress(KINGDEE, 'AWAITING_APPROVAL', {
        statistic: STATISTIC,
        approvalDeadline: '2026-12-13T19:00:00.000Z',
      });
      const browser = await loggedIn(
        temporal,
        'wang',
        fixedDirectory([[KINGDEE, { name: '深圳示例<科技>', approvers: ['wang'] }]]),
      );
      const page = await browser.get(`/months/${KINGDEE}/${PERIOD}`);
      assert.equal(page.statusCode, 200);
      assert.match(String(page.headers['content-type']), /^text\/html; charset=utf-8/);
      assert.equal(page.headers['cache-control'], 'no-store');
      const body = page.body;
      assert.ok(body.includes('<strong class="user-name">王会计 (wang)</strong>'), body);
      assert.ok(body.includes(`<section class="pending" data-workflow-id="deduction-${KINGDEE}-202611">`));
      assert.ok(body.includes('<h3>深圳示例&lt;科技&gt; · 税款所属期 Period 202611</h3>'));
      assert.ok(body.includes('<form method="post" action="/reject" class="reject">'));
      assert.ok(body.includes('<input name="reason" required maxlength="500">'));
      assert.ok(!body.includes('name="approver"'), 'the approver is never a form field');
      // now = 2026-12-10 00:00 +08:00 = 2026-12-09T16:00Z; deadline 2026-12-13T19:00Z: 4 d 3 h.
      assert.ok(body.includes('<dd class="time-left">4 天 3 小时 (4d 3h)</dd>'));
      assert.ok(body.includes('<input type="hidden" name="statisticDigest" value="0badf00d">'));
      // Three forms (approve, reject, logout), each with the token.
      assert.equal(body.match(/<form /g)?.length, 3);
      assert.equal(body.match(/<input type="hidden" name="_csrf" value="[^"]+">/g)?.length, 3);
    });

    it('GET / names an approver that is an account by its name in the history', async () => {
      const temporal = new FakeTemporal();
      const decided = {
        decision: 'approved',
        approver: 'wang',
        comment: '核对无误',
        decidedAt: '2026-12-06T01:00:00.000Z',
      };
      temporal.add({
        taxNo: TRADING,
        stage: 'COMPLETED',
        status: 'COMPLETED',
        closeTime: new Date('2026-12-06T01:00:05.000Z'),
        result: { ...progress(TRADING, 'COMPLETED', { decision: decided }), outcome: 'COMPLETED', note: '' },
      });
      const browser = await loggedIn(temporal, 'li');
      const body = (await browser.get('/')).body;
      assert.match(body, /<td class="outcome">COMPLETED<\/td><td>王会计 \(wang\)<\/td><td>核对无误<\/td>/);
    });

    it("GET / shows other approvers' months read-only; their month page has no forms", async () => {
      const temporal = new FakeTemporal();
      addWaiting(temporal);
      const browser = await loggedIn(temporal, 'li');
      const body = (await browser.get('/')).body;
      assert.equal(body.match(/<tr class="pending-row/g)?.length, 3);
      assert.ok(body.includes('<table class="mine">'));
      assert.ok(body.includes('<table class="others">'));
      assert.match(body, new RegExp(`<table class="others">[\\s\\S]*data-workflow-id="${wid(TRADING)}"`));
      const month = (await browser.get(`/months/${TRADING}/${PERIOD}`)).body;
      assert.ok(month.includes(`<section class="pending" data-workflow-id="${wid(TRADING)}">`));
      assert.ok(!month.includes('action="/approve"') && !month.includes('action="/reject"'));
      assert.ok(month.includes('read-only'));
      const mine = (await browser.get(`/months/${KINGDEE}/${PERIOD}`)).body;
      assert.ok(mine.includes('action="/approve"'));
      assert.ok(!mine.includes('x is not an approver'), 'refused decisions are not shown');
    });
  });

  describe('GET /health (no login needed)', () => {
    it('answers 200 when Temporal answers', async () => {
      const inbox = await inboxWith(new FakeTemporal());
      const response = await inbox.inject({ url: '/health' });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { status: 'ok', temporal: 'reachable' });
    });

    it('answers 503 with the reason when Temporal does not', async () => {
      const temporal = new FakeTemporal();
      temporal.systemInfo = async () => {
        throw new Error('14 UNAVAILABLE: No connection established');
      };
      const inbox = await inboxWith(temporal);
      const response = await inbox.inject({ url: '/health' });
      assert.equal(response.statusCode, 503);
      assert.deepEqual(response.json(), {
        status: 'degraded',
        temporal: '14 UNAVAILABLE: No connection established',
      });
    });

    it('answers 503 within its 3 s deadline with a real client whose server is down', async function () {
      this.timeout(20_000);
      // A port that was free a moment ago: nothing listens on it.
      const port = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as { port: number };
          probe.close(() => resolve(port));
        });
      });
      const connection = Connection.lazy({ address: `127.0.0.1:${port}` });
      try {
        app = await buildInbox({ client: new Client({ connection }) });
        const started = Date.now();
        const response = await app.inject({ url: '/health' });
        const waited = Date.now() - started;
        assert.equal(response.statusCode, 503, response.body);
        const body = response.json();
        assert.equal(body.status, 'degraded');
        assert.match(body.temporal, /UNAVAILABLE|DEADLINE_EXCEEDED|ECONNREFUSED|connect/i);
        assert.ok(waited < 6000, `answered in ${waited} ms`);
      } finally {
        await connection.close();
      }
    });
  });
});
