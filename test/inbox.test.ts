import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { runCli } from '../client/cli.js';
import type { BrowserContext, Page } from 'playwright-core';
import { startMonthlyDeduction } from '../client/deductions.js';
import { buildInbox } from '../inbox/server.js';
import { fixedDirectory } from '../inbox/taxpayers.js';
import { timeLeft } from '../inbox/view.js';
import type { MonthlyDeductionResult } from '../workflows/contract.js';
import { startStack, type TestStack } from './support/stack.js';
import { waitForStage } from './support/workflows.js';
import { launchChromium } from './support/browser.js';
import { TEST_WINDOW } from './support/calendar.js';
import { PASSWORDS, writeTestAccounts } from './support/inboxBrowser.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500, backoffCoefficient: 1.5 };
const TAX_NO = '91440300591872133B';

describe('inbox: time left', () => {
  it('counts days and hours, hours and minutes, or overdue', () => {
    const now = new Date('2026-12-10T00:00:00+08:00');
    assert.equal(timeLeft('2026-12-13T03:00:00+08:00', now), '3 天 3 小时 (3d 3h)');
    assert.equal(timeLeft('2026-12-10T05:30:00+08:00', now), '5 小时 30 分 (5h 30m)');
    assert.equal(timeLeft('2026-12-09T00:00:00+08:00', now), '已逾期 overdue');
  });
});

/** Decisions that reached the workflow: signals, or Updates once decisions are Updates. */
async function decisionsInHistory(handle: WorkflowHandle): Promise<number> {
  const { events } = await handle.fetchHistory();
  return (events ?? []).filter(
    (e) =>
      e.workflowExecutionSignaledEventAttributes ||
      e.workflowExecutionUpdateAcceptedEventAttributes ||
      e.workflowExecutionUpdateAdmittedEventAttributes,
  ).length;
}

describe("the approvers' inbox in headless Chromium against the real stack", function () {
  this.timeout(180_000);
  let stack: TestStack;
  let inbox: FastifyInstance;
  let url: string;
  let browser: BrowserContext;
  let evil: Server;
  let evilUrl: string;

  before(async () => {
    stack = await startStack();
    await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 30, seed: 11 });
    await stack.admin.setClock(SANDBOX_NOW);
    await stack.startWorker();
    inbox = await buildInbox({
      client: stack.client,
      // wang (王会计) approves this taxpayer; li (李经理) has an account but is not its approver.
      taxpayers: fixedDirectory([[TAX_NO, { name: '深圳示例科技有限公司', approvers: ['wang'] }]]),
      security: { accountsFile: await writeTestAccounts() },
    });
    url = await inbox.listen({ port: 0, host: '127.0.0.1' });
    // Another site (localhost is another origin and another site than 127.0.0.1) whose page
    // posts an approval to the inbox as soon as it is opened.
    evil = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<!doctype html><html><body><form id="f" method="post" action="${url}/approve">
<input name="taxNo" value="${TAX_NO}"><input name="period" value="${PERIOD}"><input name="statisticDigest" value="00000000">
</form><script>document.getElementById('f').submit()</script></body></html>`);
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', () => r()));
    evilUrl = `http://localhost:${(evil.address() as AddressInfo).port}/`;
    // A fresh profile directory per run (playwright passes it as --user-data-dir).
    browser = await launchChromium(mkdtempSync(join(tmpdir(), 'chromium-')));
  });
  after(async () => {
    await browser?.close();
    await new Promise((r) => (evil ? evil.close(r) : r(undefined)));
    await inbox?.close();
    await stack?.stop();
  });

  async function logIn(page: Page, account: string): Promise<void> {
    await page.goto(url);
    assert.equal(new URL(page.url()).pathname, '/login', 'the inbox asks for a login first');
    await page.locator('form.login input[name=account]').fill(account);
    await page.locator('form.login input[name=password]').fill(PASSWORDS[account]!);
    await page.locator('form.login button').click();
    await page.waitForSelector('header.user');
  }

  /**
   * Waits until the list shows the month (`selector`: a row of the approver's list or of the
   * read-only one); for the approver's row, follows its link to the month's page and returns its card.
   */
  async function waitForCard(page: Page, handle: WorkflowHandle, selector = 'table.mine tr') {
    let row = page.locator(`${selector}[data-workflow-id="${handle.workflowId}"]`);
    for (let i = 0; i < 80 && (await row.count()) === 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      await page.goto(url);
      row = page.locator(`${selector}[data-workflow-id="${handle.workflowId}"]`);
    }
    assert.equal(await row.count(), 1, `the waiting month is listed (${selector})`);
    if (selector !== 'table.mine tr') return row;
    await Promise.all([page.waitForNavigation(), row.locator('a.review').click()]);
    const card = page.locator(`section.pending[data-workflow-id="${handle.workflowId}"]`);
    assert.equal(await card.count(), 1, "the month's page shows its card");
    return card;
  }

  /** Posts a form built in the page (same origin, the page's own CSRF token), as a hand-made post would. */
  async function postFromPage(page: Page, action: string, fields: Record<string, string>) {
    await Promise.all([
      page.waitForNavigation(),
      page.evaluate(
        ({ action, fields }) => {
          const form = document.createElement('form');
          form.method = 'post';
          form.action = action;
          const token = (document.querySelector('input[name=_csrf]') as HTMLInputElement).value;
          for (const [name, value] of Object.entries({ _csrf: token, ...fields })) {
            const input = document.createElement('input');
            input.name = name;
            input.value = value;
            form.appendChild(input);
          }
          document.body.appendChild(form);
          form.submit();
        },
        { action, fields },
      ),
    ]);
  }

  it('login, refusals (non-approver, cross-site post, stale table), approve to COMPLETED, logout', async () => {
    const { handle } = await startMonthlyDeduction(stack.client, {
      taxNo: TAX_NO,
      taxPeriod: PERIOD,
      approvers: ['wang'],
      polling: FAST_POLLING,
    });
    const waiting = await waitForStage(handle, 'AWAITING_APPROVAL');
    const health = await (await fetch(`${url}/health`)).json();
    assert.equal(health.status, 'ok');

    // A logged-in non-approver sees the month read-only, and a decision of hers is refused
    // with a clear message before anything reaches Temporal.
    const liPage = await browser.newPage();
    await logIn(liPage, 'li');
    await waitForCard(liPage, handle, 'table.others tr');
    assert.equal(await liPage.locator('section.pending').count(), 0, 'no decision forms for li');
    await postFromPage(liPage, '/reject', { taxNo: TAX_NO, period: PERIOD, reason: '我来驳回' });
    assert.match(
      await liPage.locator('p.error').innerText(),
      /您不是.*的审批人，未发送任何决定。You \(李经理 \(li\)\) are not an approver/,
    );
    await liPage.locator('form.logout button').click();
    await liPage.close();

    const page = await browser.newPage();
    await logIn(page, 'wang');
    assert.match(await page.locator('strong.user-name').innerText(), /王会计 \(wang\)/);
    const card = await waitForCard(page, handle);
    const text = await card.innerText();
    assert.match(text, /深圳示例科技有限公司/);
    assert.ok(text.includes(`税款所属期 Period ${PERIOD}`), 'the period is shown');
    assert.match(text, /剩余时间 Time left/);
    assert.match(text, /审批人 Approver: wang/);
    assert.ok(text.includes(waiting.statistic!.deductibleTax), 'the deductible tax total is shown');
    const statisticRows = await card.locator('table.statistic tbody tr').count();
    assert.equal(
      statisticRows,
      waiting.statistic!.items.length + (waiting.statistic!.total ? 1 : 0),
      'categories and the total',
    );
    assert.match(text, /核对 Planned vs bureau: 计划 planned \d+ .* 一致 agrees/);
    assert.equal(await card.locator('input[name=approver]').count(), 0, 'the approver is not a form field');

    // A page on another site that posts an approval while wang is logged in: refused.
    const evilPage = await browser.newPage();
    const refused = await Promise.all([
      evilPage.waitForResponse((r) => r.url().startsWith(`${url}/approve`)),
      evilPage.goto(evilUrl),
    ]).then(([r]) => r);
    assert.equal(refused.status(), 403);
    await evilPage.waitForSelector('p.error');
    assert.match(await evilPage.locator('p.error').innerText(), /跨站请求被拒绝|表单已失效/);
    await evilPage.close();

    // A stale table: the page showed another digest than the workflow holds now.
    await card.locator('form.approve input[name=statisticDigest]').evaluate((input: HTMLInputElement) => {
      input.value = input.value === 'deadbeef' ? 'beefdead' : 'deadbeef';
    });
    await card.locator('form.approve button').click();
    await page.waitForSelector('p.error');
    assert.match(await page.locator('p.error').innerText(), /统计表已变化.*changed since the page showed it/);
    assert.equal((await waitForStage(handle, 'AWAITING_APPROVAL')).stage, 'AWAITING_APPROVAL');
    assert.equal(await decisionsInHistory(handle), 0, 'no refused decision reached the workflow');

    // Meanwhile an operator watches the month live from the CLI (status --watch --json).
    let watched = '';
    const watching = runCli(
      ['node', 'cli', 'status', '--tax-no', TAX_NO, '--period', PERIOD, '--watch', '0.2', '--json'],
      {
        out: (t) => (watched += t),
        err: (t) => (watched += t),
        connect: async () =>
          new Client({
            connection: await Connection.connect({ address: stack.temporal.address }),
            namespace: stack.temporal.namespace,
          }),
      },
    );

    const fresh = await waitForCard(page, handle);
    await fresh.locator('form.approve input[name=comment]').fill('核对无误');
    await fresh.locator('form.approve button').click();
    await page.waitForSelector('p.message');
    assert.match(await page.locator('p.message').innerText(), /已同意.*Approved/);

    const result: MonthlyDeductionResult = await handle.result();
    assert.equal(result.outcome, 'COMPLETED');
    assert.equal(result.decision?.approver, 'wang');
    assert.equal(result.decision?.comment, '核对无误');
    assert.equal(await watching, 0, watched);
    const stages = watched
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { progress: { stage: string } }).progress.stage);
    assert.equal(stages[0], 'AWAITING_APPROVAL');
    assert.equal(stages.at(-1), 'COMPLETED', 'the watch ends when the workflow closes');

    // The decision shows in the history once visibility has the closed run.
    let row = page.locator(`table.history tr[data-workflow-id="${handle.workflowId}"]`);
    for (let i = 0; i < 80 && (await row.count()) === 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      await page.goto(url);
      row = page.locator(`table.history tr[data-workflow-id="${handle.workflowId}"]`);
    }
    assert.match(await row.innerText(), /COMPLETED[\s\S]*王会计 \(wang\)[\s\S]*核对无误/);

    // A decision on the month now that it is closed: a clear error.
    await postFromPage(page, '/approve', { taxNo: TAX_NO, period: PERIOD, statisticDigest: waiting.statistic!.digest });
    assert.match(await page.locator('p.error').innerText(), /not AWAITING_APPROVAL|COMPLETED/);

    // Logout ends the session: the cookie from before no longer opens the inbox.
    const cookies = await browser.cookies(url);
    assert.ok(cookies.some((c) => c.name === 'inbox-session' && c.httpOnly && c.sameSite === 'Lax'));
    await page.locator('form.logout button').click();
    await page.waitForSelector('form.login');
    assert.match(await page.locator('p.message').innerText(), /已退出登录 Logged out/);
    await browser.addCookies(cookies);
    await page.goto(url);
    assert.equal(new URL(page.url()).pathname, '/login', 'the old session cookie is worthless');
  });
});
