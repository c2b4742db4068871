import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { countingClient } from '../bench/inboxPages.js';
import { startMonthlyDeduction } from '../client/deductions.js';
import { PENDING_LIST_QUERY } from '../inbox/data.js';
import { buildInbox } from '../inbox/server.js';
import { fixedDirectory } from '../inbox/taxpayers.js';
import {
  APPROVAL_MEMO_KEY,
  ApprovalDeadlineSearchAttribute,
  Stage,
  type ApprovalMemo,
  type Progress,
} from '../workflows/contract.js';
import { TEST_WINDOW } from './support/calendar.js';
import { InboxBrowser, writeTestAccounts } from './support/inboxBrowser.js';
import { startStack, type TestStack } from './support/stack.js';
import { waitForStage } from './support/workflows.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500, backoffCoefficient: 1.5 };
const TAX_NOS = ['91440300591872133B', '91440300MA5G9GK78Y'];
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Real months on a dev server: when they wait for approval their ApprovalDeadline search attribute
 * and approval memo are in visibility, and the inbox's list is built from one list call.
 */
describe("the inbox's list of waiting months, from visibility (dev server, real months)", function () {
  this.timeout(180_000);
  let stack: TestStack;
  let inbox: FastifyInstance | undefined;
  let counting: Awaited<ReturnType<typeof countingClient>>;
  const progress = new Map<string, Progress>();

  before(async () => {
    stack = await startStack();
    await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 12, seed: 5 });
    await stack.admin.setClock(SANDBOX_NOW);
    await stack.startWorker();
    for (const taxNo of TAX_NOS) {
      const { handle } = await startMonthlyDeduction(stack.client, {
        taxNo,
        taxPeriod: PERIOD,
        approvers: ['wang'],
        polling: FAST_POLLING,
      });
      progress.set(taxNo, await waitForStage(handle, Stage.AwaitingApproval, 90_000));
    }
    counting = await countingClient(stack.temporal.address, stack.temporal.namespace);
    // Visibility follows the upserts a moment later.
    for (let i = 0; i < 100; i++) {
      const listed = [];
      for await (const info of counting.client.workflow.list({ query: PENDING_LIST_QUERY })) listed.push(info);
      if (listed.length === TAX_NOS.length && listed.every((w) => w.memo?.[APPROVAL_MEMO_KEY])) break;
      await sleep(200);
    }
  });

  after(async () => {
    await inbox?.close();
    await counting?.close();
    await stack?.stop();
  });

  it('each waiting month has the ApprovalDeadline attribute and a memo with its totals', async () => {
    for (const taxNo of TAX_NOS) {
      const p = progress.get(taxNo)!;
      const d = await stack.client.workflow.getHandle(`deduction-${taxNo}-${PERIOD}`).describe();
      assert.equal(d.typedSearchAttributes.get(ApprovalDeadlineSearchAttribute)?.toISOString(), p.approvalDeadline);
      const memo = d.memo?.[APPROVAL_MEMO_KEY] as ApprovalMemo;
      assert.deepEqual(memo, {
        deductibleCount: p.statistic!.deductibleCount,
        deductibleAmount: p.statistic!.deductibleAmount,
        deductibleTax: p.statistic!.deductibleTax,
        statisticDigest: p.statistic!.digest,
        failedInvoices: p.selection!.failed,
        ...(p.plannedVersusBureau ? { plannedAgreesWithBureau: p.plannedVersusBureau.agrees } : {}),
      });
    }
  });

  it('the list page makes one list call for the waiting months (and one for the history), no query, and shows the memo figures', async () => {
    inbox = await buildInbox({
      client: counting.client,
      taxpayers: fixedDirectory(TAX_NOS.map((taxNo) => [taxNo, { approvers: ['wang'] }])),
      security: { accountsFile: await writeTestAccounts() },
      listCacheMs: 0,
    });
    const browser = new InboxBrowser(inbox);
    await browser.login('wang');
    const before = counting.calls.length;
    const page = await browser.get('/');
    assert.equal(page.statusCode, 200);
    assert.deepEqual(counting.calls.slice(before), ['ListWorkflowExecutions', 'ListWorkflowExecutions']);
    for (const taxNo of TAX_NOS) {
      const p = progress.get(taxNo)!;
      const row = new RegExp(
        `<tr class="pending-row[^"]*" data-workflow-id="deduction-${taxNo}-${PERIOD}">[\\s\\S]*?</tr>`,
      ).exec(page.body)?.[0];
      assert.ok(row, page.body);
      const s = p.statistic!;
      assert.ok(
        row.includes(
          `<td class="n">${s.deductibleCount}</td><td class="n">${s.deductibleAmount}</td><td class="n">${s.deductibleTax}</td>`,
        ),
        row,
      );
      assert.ok(row.includes(`<td class="n failed">${p.selection!.failed}</td>`), row);
      assert.ok(row.includes(p.plannedVersusBureau?.agrees === false ? '✗ 不一致 differs' : '✓ 一致 agrees'), row);
      assert.ok(row.includes(`href="/months/${taxNo}/${PERIOD}"`), row);
    }
    // The month's own page queries that month (and only it).
    const detailStart = counting.calls.length;
    const detail = await browser.get(`/months/${TAX_NOS[0]}/${PERIOD}`);
    assert.equal(detail.statusCode, 200);
    assert.ok(detail.body.includes(`name="statisticDigest" value="${progress.get(TAX_NOS[0]!)!.statistic!.digest}"`));
    assert.deepEqual(counting.calls.slice(detailStart), ['DescribeWorkflowExecution', 'QueryWorkflow']);
  });
});
