import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decimal } from 'decimal.js';
import type { FastifyInstance } from 'fastify';
import type { BrowserContext, Page } from 'playwright-core';
import { approve, reject, startMonthlyDeduction } from '../client/deductions.js';
import type { PeriodOverview } from '../inbox/overview.js';
import { buildInbox } from '../inbox/server.js';
import type { TaxpayerInfo } from '../inbox/taxpayers.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import { Stage, type MonthlyDeductionResult, type Progress } from '../workflows/contract.js';
import { launchChromium } from './support/browser.js';
import { TEST_WINDOW } from './support/calendar.js';
import { PASSWORDS, writeTestAccounts } from './support/inboxBrowser.js';
import { startStack, type TestStack } from './support/stack.js';
import { addTaxpayer } from './support/taxpayers.js';
import { waitForStage } from './support/workflows.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500, backoffCoefficient: 1.5 };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Who approves each taxpayer, and what its month is brought to. */
const PLAN = [
  { key: 'waiting', approvers: ['wang', 'li'], end: Stage.AwaitingApproval },
  { key: 'done1', approvers: ['wang'], end: Stage.Completed },
  { key: 'done2', approvers: ['wang'], end: Stage.Completed },
  { key: 'rejected', approvers: ['wang'], end: Stage.Rejected },
  { key: 'late', approvers: ['wang'], end: Stage.Expired },
  { key: 'lisOwn', approvers: ['li'], end: Stage.Completed },
] as const;
type Key = (typeof PLAN)[number]['key'];
const taxNoOf = (i: number) => withCheckCharacter(`91440300MA5PQ${String(i).padStart(4, '0')}`);
/** In wang's registry, never started this period. */
const NEVER_STARTED = taxNoOf(99);

describe('the period overview in headless Chromium against the real stack', function () {
  this.timeout(180_000);
  let stack: TestStack;
  let inbox: FastifyInstance;
  let url: string;
  let browser: BrowserContext;
  const directory = new Map<string, TaxpayerInfo>();
  const taxNos = new Map<Key, string>();
  /** Each month's table when it awaited approval (what its approval memo carries). */
  const tables = new Map<Key, NonNullable<Progress['statistic']>>();

  before(async () => {
    stack = await startStack();
    await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 3, seed: 7 });
    await stack.admin.setClock(SANDBOX_NOW);
    await stack.startWorker();
    for (const [i, p] of PLAN.entries()) {
      const taxNo = taxNoOf(i + 1);
      taxNos.set(p.key, taxNo);
      await addTaxpayer(stack.admin, taxNo, { name: `概览测试${i + 1}有限公司`, invoices: 4 + i, seed: 60 + i });
      directory.set(taxNo, { name: `概览测试${i + 1}有限公司`, approvers: [...p.approvers] });
    }
    directory.set(NEVER_STARTED, { name: '未开始有限公司', approvers: ['wang'] });
    inbox = await buildInbox({
      client: stack.client,
      taxpayers: () => directory,
      security: { accountsFile: await writeTestAccounts() },
      listCacheMs: 500,
    });
    url = await inbox.listen({ port: 0, host: '127.0.0.1' });
    browser = await launchChromium(mkdtempSync(join(tmpdir(), 'chromium-')));

    // Every month up to AWAITING_APPROVAL; the late one's approval closes shortly after.
    const handles = await Promise.all(
      PLAN.map(async (p) => {
        const { handle } = await startMonthlyDeduction(stack.client, {
          taxNo: taxNos.get(p.key)!,
          taxPeriod: PERIOD,
          approvers: [...p.approvers],
          polling: FAST_POLLING,
          ...(p.end === Stage.Expired ? { approvalDeadline: new Date(Date.now() + 40_000).toISOString() } : {}),
        });
        return [p, handle] as const;
      }),
    );
    for (const [p, handle] of handles) {
      if (p.end === Stage.Expired) continue;
      tables.set(p.key, (await waitForStage(handle, Stage.AwaitingApproval, 90_000)).statistic!);
    }
    for (const [p, handle] of handles) {
      const taxNo = taxNos.get(p.key)!;
      const digest = tables.get(p.key)?.digest;
      if (p.end === Stage.Completed) {
        await approve(stack.client, taxNo, PERIOD, { approver: p.approvers[0], statisticDigest: digest! });
      } else if (p.end === Stage.Rejected) {
        await reject(stack.client, taxNo, PERIOD, { approver: 'wang', reason: '金额不符', statisticDigest: digest });
      }
      if (p.end !== Stage.AwaitingApproval) {
        const result = (await handle.result()) as MonthlyDeductionResult;
        assert.equal(result.outcome, p.end, `${p.key} ends ${p.end}`);
        if (p.end === Stage.Expired) tables.set(p.key, result.statistic!);
      }
    }
  });
  after(async () => {
    await browser?.close();
    await inbox?.close();
    await stack?.stop();
  });

  async function logIn(page: Page, account: string): Promise<void> {
    await page.goto(url);
    await page.locator('form.login input[name=account]').fill(account);
    await page.locator('form.login input[name=password]').fill(PASSWORDS[account]!);
    await page.locator('form.login button').click();
    await page.waitForSelector('header.user');
  }

  /** Reloads the overview until visibility shows `months` months (it follows the workflows a moment later). */
  async function overviewShowing(page: Page, months: number, settled: number): Promise<PeriodOverview> {
    let last: PeriodOverview | undefined;
    for (let i = 0; i < 80; i++) {
      const response = await page.request.get(`${url}/api/overview?period=${PERIOD}`);
      assert.equal(response.status(), 200);
      last = (await response.json()) as PeriodOverview;
      const final = last.stages
        .filter((s) => [Stage.Completed, Stage.Rejected, Stage.Expired].includes(s.stage as never))
        .reduce((n, s) => n + s.months, 0);
      if (last.months === months && final === settled) break;
      await sleep(250);
    }
    await page.goto(`${url}/overview?period=${PERIOD}`);
    return last!;
  }

  const sum = (keys: Key[], field: 'deductibleAmount' | 'deductibleTax') =>
    keys.reduce((acc, k) => acc.plus(tables.get(k)![field]), new Decimal(0)).toFixed(2);

  it('refuses the unauthenticated: the page redirects to the login, the API answers 401', async () => {
    const page = await browser.newPage();
    await page.goto(`${url}/overview?period=${PERIOD}`);
    assert.equal(new URL(page.url()).pathname, '/login');
    const api = await fetch(`${url}/api/overview?period=${PERIOD}`);
    assert.equal(api.status, 401);
    assert.doesNotMatch(await api.text(), /COMPLETED|概览测试/);
    await page.close();
  });

  it("shows wang his taxpayers' months by stage, the confirmed amounts, what is overdue and a chart", async () => {
    const page = await browser.newPage();
    const cspViolations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    await logIn(page, 'wang');

    // From the inbox page: the link, and the picker for the tests' period.
    assert.equal(await page.locator('a.overview-link').count(), 1, 'the inbox links the overview');
    await page.locator('form.period-picker input[name=period]').fill(PERIOD);
    await Promise.all([page.waitForNavigation(), page.locator('form.period-picker button').click()]);
    assert.equal(new URL(page.url()).pathname, '/overview');
    assert.equal(new URL(page.url()).searchParams.get('period'), PERIOD);

    const api = await overviewShowing(page, 5, 4);
    assert.equal(await page.locator('h1 span.period').innerText(), PERIOD);

    // The months wang may decide: 1 waiting, 2 completed, 1 rejected, 1 expired; never li's own.
    const stageRows = page.locator('table.stages tbody tr');
    const shown: Record<string, { months: string; amount: string; tax: string }> = {};
    for (let i = 0; i < (await stageRows.count()); i++) {
      const row = stageRows.nth(i);
      shown[(await row.getAttribute('data-stage'))!] = {
        months: await row.locator('td.months').innerText(),
        amount: await row.locator('td.amount').innerText(),
        tax: await row.locator('td.tax').innerText(),
      };
    }
    assert.deepEqual(Object.keys(shown).sort(), ['AWAITING_APPROVAL', 'COMPLETED', 'EXPIRED', 'REJECTED']);
    assert.equal(shown.AWAITING_APPROVAL!.months, '1');
    assert.equal(shown.COMPLETED!.months, '2');
    assert.equal(shown.REJECTED!.months, '1');
    assert.equal(shown.EXPIRED!.months, '1');
    const confirmedAmount = sum(['done1', 'done2'], 'deductibleAmount');
    const confirmedTax = sum(['done1', 'done2'], 'deductibleTax');
    assert.equal(shown.COMPLETED!.amount, confirmedAmount, 'the two confirmed tables, added as decimals');
    assert.equal(shown.COMPLETED!.tax, confirmedTax);
    assert.equal(shown.AWAITING_APPROVAL!.amount, sum(['waiting'], 'deductibleAmount'));
    assert.equal(shown.REJECTED!.tax, sum(['rejected'], 'deductibleTax'));

    const confirmed = await page.locator('.figure.confirmed').innerText();
    assert.match(confirmed, /已确认 Confirmed\s+2/);
    assert.ok(confirmed.includes(`金额 amount ${confirmedAmount}`), confirmed);
    assert.ok(confirmed.includes(`税额 tax ${confirmedTax}`), confirmed);
    assert.match(await page.locator('.figure.waiting').innerText(), /待审批 Awaiting approval\s+1/);
    assert.match(await page.locator('.figure.months').innerText(), /月份 Months\s+5\s+未开始 not started: 1/);
    assert.equal(api.confirmed.amount, confirmedAmount);
    assert.equal(api.taxpayers, 6);

    // Overdue: the month whose approval closed without a decision, with its own deadline.
    assert.match(await page.locator('.figure.overdue').innerText(), /已逾期 Overdue\s+1/);
    const overdue = page.locator('table.overdue tbody tr');
    assert.equal(await overdue.count(), 1);
    assert.equal(await overdue.getAttribute('data-tax-no'), taxNos.get('late'));
    assert.match(await overdue.locator('td.stage').innerText(), /已过期 Expired/);
    assert.match(await overdue.locator('td.late').innerText(), /\((\d+d )?\d+h( \d+m)?\)/);
    assert.match(await page.locator('p.not-started').innerText(), new RegExp(NEVER_STARTED));

    // The chart: drawn (the inbox's CSP lets the inline SVG and the stylesheet through), one bar a stage.
    const chart = page.locator('svg.stage-chart');
    assert.equal(await chart.count(), 1);
    const box = await chart.boundingBox();
    assert.ok(box && box.width > 300 && box.height > 100, `the chart has a size: ${JSON.stringify(box)}`);
    const bars = await page.locator('svg.stage-chart g.stage-bar').evaluateAll((gs) =>
      gs.map((g) => ({
        stage: g.getAttribute('data-stage'),
        months: Number(g.getAttribute('data-months')),
        width: (g.querySelector('rect') as SVGRectElement).getBBox().width,
        fill: getComputedStyle(g.querySelector('rect')!).fill,
      })),
    );
    assert.deepEqual(
      bars.map((b) => [b.stage, b.months]),
      [
        ['AWAITING_APPROVAL', 1],
        ['COMPLETED', 2],
        ['REJECTED', 1],
        ['EXPIRED', 1],
        ['NOT_STARTED', 1],
      ],
    );
    const completedBar = bars.find((b) => b.stage === 'COMPLETED')!;
    assert.ok(
      bars.every((b) => b.width > 0 && b.width <= completedBar.width),
      'the longest bar is the most months',
    );
    assert.equal(completedBar.fill, 'rgb(47, 154, 74)', 'the stylesheet colours the bars');
    assert.deepEqual(cspViolations, [], 'nothing on the page was blocked by the CSP');

    // Nothing of li's own taxpayer.
    assert.ok(!(await page.content()).includes(taxNos.get('lisOwn')!), "li's taxpayer is not on wang's page");
    await page.locator('form.logout button').click();
    await page.waitForSelector('form.login');
    await page.close();
  });

  it('shows li only her taxpayers: the shared waiting month and her own confirmed one', async () => {
    const page = await browser.newPage();
    await logIn(page, 'li');
    const api = await overviewShowing(page, 2, 1);
    assert.equal(api.taxpayers, 2);
    assert.equal(api.months, 2);
    assert.equal(api.confirmed.months, 1);
    assert.equal(api.confirmed.amount, sum(['lisOwn'], 'deductibleAmount'));
    assert.equal(api.confirmed.tax, sum(['lisOwn'], 'deductibleTax'));
    assert.deepEqual(api.overdue, []);
    assert.deepEqual(api.notStarted, []);
    const stages = await page
      .locator('table.stages tbody tr')
      .evaluateAll((rows) =>
        rows.map((r) => [r.getAttribute('data-stage'), r.querySelector('td.months')!.textContent]),
      );
    assert.deepEqual(stages, [
      ['AWAITING_APPROVAL', '1'],
      ['COMPLETED', '1'],
    ]);
    const html = await page.content();
    for (const key of ['done1', 'done2', 'rejected', 'late'] as const) {
      assert.ok(!html.includes(taxNos.get(key)!), `wang's ${key} month is not on li's page`);
    }
    assert.ok(!html.includes(NEVER_STARTED));
    assert.match(await page.locator('.figure.overdue').innerText(), /已逾期 Overdue\s+0/);
    await page.locator('form.logout button').click();
    await page.waitForSelector('form.login');
    await page.close();
  });

  it('refuses a bad period with 400 and says what is wrong', async () => {
    const page = await browser.newPage();
    await logIn(page, 'wang');
    const month13 = `${PERIOD.slice(0, 4)}13`;
    const response = await page.goto(`${url}/overview?period=${month13}`);
    assert.equal(response?.status(), 400);
    assert.match(
      await page.locator('p.error').innerText(),
      new RegExp(`税款所属期无效 Invalid period "${month13}": .*month 01-12`),
    );
    const api = await page.request.get(`${url}/api/overview?period=abc`);
    assert.equal(api.status(), 400);
    assert.match(
      ((await api.json()) as { message: string }).message,
      /Invalid period "abc": tax period must be YYYYMM/,
    );
    // The month picker's spelling is taken.
    const dashed = await page.goto(`${url}/overview?period=${PERIOD.slice(0, 4)}-${PERIOD.slice(4)}`);
    assert.equal(dashed?.status(), 200);
    assert.equal(await page.locator('h1 span.period').innerText(), PERIOD);
    await page.close();
  });
});
