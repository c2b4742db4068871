import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { runCli } from '../client/cli.js';
import type { BrowserContext } from 'playwright-core';
import { startMonthlyDeduction } from '../client/deductions.js';
import { buildInbox } from '../inbox/server.js';
import { timeLeft } from '../inbox/view.js';
import type { MonthlyDeductionResult } from '../workflows/contract.js';
import { startStack, type TestStack } from './support/stack.js';
import { waitForStage } from './support/workflows.js';
import { launchChromium } from './support/browser.js';
import { TEST_WINDOW } from './support/calendar.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500, backoffCoefficient: 1.5 };

describe('inbox: time left', () => {
  it('counts days and hours, hours and minutes, or overdue', () => {
    const now = new Date('2026-12-10T00:00:00+08:00');
    assert.equal(timeLeft('2026-12-13T03:00:00+08:00', now), '3 天 3 小时 (3d 3h)');
    assert.equal(timeLeft('2026-12-10T05:30:00+08:00', now), '5 小时 30 分 (5h 30m)');
    assert.equal(timeLeft('2026-12-09T00:00:00+08:00', now), '已逾期 overdue');
  });
});

describe("the approvers' inbox in headless Chromium against the real stack", function () {
  this.timeout(180_000);
  let stack: TestStack;
  let inbox: FastifyInstance;
  let url: string;
  let browser: BrowserContext;

  before(async () => {
    stack = await startStack();
    await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 30, seed: 11 });
    await stack.admin.setClock(SANDBOX_NOW);
    await stack.startWorker();
    inbox = await buildInbox({
      client: stack.client,
      names: new Map([['91440300591872133B', '深圳示例科技有限公司']]),
    });
    url = await inbox.listen({ port: 0, host: '127.0.0.1' });
    // A fresh profile directory per run (playwright passes it as --user-data-dir).
    browser = await launchChromium(mkdtempSync(join(tmpdir(), 'chromium-')));
  });
  after(async () => {
    await browser?.close();
    await inbox?.close();
    await stack?.stop();
  });

  it('lists a waiting taxpayer-month with its statistic, and approving it completes the workflow', async () => {
    const taxNo = '91440300591872133B';
    const { handle } = await startMonthlyDeduction(stack.client, { taxNo, taxPeriod: PERIOD, polling: FAST_POLLING });
    const waiting = await waitForStage(handle, 'AWAITING_APPROVAL');
    // Visibility follows the DeductionStage search attribute shortly after the stage changes.
    const health = await (await fetch(`${url}/health`)).json();
    assert.equal(health.status, 'ok');

    const page = await browser.newPage();
    let card = page.locator(`section.pending[data-workflow-id="${handle.workflowId}"]`);
    for (let i = 0; i < 40 && (await card.count()) === 0; i++) {
      await page.goto(url);
      card = page.locator(`section.pending[data-workflow-id="${handle.workflowId}"]`);
      if ((await card.count()) === 0) await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(await card.count(), 1, 'the waiting month is listed');
    const text = await card.innerText();
    assert.match(text, /深圳示例科技有限公司/);
    assert.ok(text.includes(`税款所属期 Period ${PERIOD}`), 'the period is shown');
    assert.match(text, /剩余时间 Time left/);
    assert.ok(text.includes(waiting.statistic!.deductibleTax), 'the deductible tax total is shown');
    const statisticRows = await card.locator('table.statistic tbody tr').count();
    assert.equal(
      statisticRows,
      waiting.statistic!.items.length + (waiting.statistic!.total ? 1 : 0),
      'categories and the total',
    );
    assert.match(text, /核对 Planned vs bureau: 计划 planned \d+ .* 一致 agrees/);

    // Meanwhile an operator watches the month live from the CLI (status --watch --json).
    let watched = '';
    const watching = runCli(
      ['node', 'cli', 'status', '--tax-no', taxNo, '--period', PERIOD, '--watch', '0.2', '--json'],
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

    await card.locator('form.approve input[name=approver]').fill('王会计');
    await card.locator('form.approve input[name=comment]').fill('核对无误');
    await card.locator('form.approve button').click();
    await page.waitForSelector('p.message');
    assert.match(await page.locator('p.message').innerText(), /已同意 Approved/);

    const result: MonthlyDeductionResult = await handle.result();
    assert.equal(result.outcome, 'COMPLETED');
    assert.equal(result.decision?.approver, '王会计');
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
    for (let i = 0; i < 40 && (await row.count()) === 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      await page.goto(url);
      row = page.locator(`table.history tr[data-workflow-id="${handle.workflowId}"]`);
    }
    assert.match(await row.innerText(), /COMPLETED[\s\S]*王会计[\s\S]*核对无误/);
  });

  it('shows a clear error when the approver name is missing or the month is not waiting', async () => {
    const response = await fetch(`${url}/approve`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ taxNo: '91440300591872133B', period: PERIOD, approver: '王会计' }),
      redirect: 'manual',
    });
    assert.equal(response.status, 303);
    assert.match(decodeURIComponent(response.headers.get('location') ?? ''), /not AWAITING_APPROVAL|COMPLETED/);
  });
});
