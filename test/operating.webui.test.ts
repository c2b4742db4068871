import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { BrowserContext } from 'playwright-core';
import { invoiceCloudConfigFromEnv } from '../activities/invoiceCloudConfig.js';
import { approve, startMonthlyDeduction, statisticAwaitingApproval } from '../client/deductions.js';
import { parseRegistry } from '../client/registry.js';
import { applySchedules } from '../client/schedules.js';
import { deductionScheduleId } from '../workflows/launcherContract.js';
import { startDevServer, type DevServer } from '../scripts/devServer.js';
import { temporalCliPath } from '../scripts/temporalTools.js';
import { SandboxAdmin } from '../simulator/adminClient.js';
import { startSandbox } from '../simulator/server.js';
import { createDeductionWorker } from '../workers/createWorker.js';
import type { MonthlyDeductionResult } from '../workflows/contract.js';
import { installTestLogging } from './support/stack.js';
import { waitForStage } from './support/workflows.js';
import { launchChromium } from './support/browser.js';
import { TEST_WINDOW } from './support/calendar.js';
import { TEST_APPROVERS } from './support/approvers.js';

const TAX_NO = '91440300591872133B';
const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500, backoffCoefficient: 1.5 };
const AWAITING = 'DeductionStage="AWAITING_APPROVAL"';
const run = promisify(execFile);
/** Valid, but outside the sandbox's tenant: the bureau refuses it (1130). */
const FOREIGN_TAX_NO = '914403007451947782';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Operating from the Web UI, on a real dev server WITH its Web UI: a month waiting for approval is found by the
 * operator's questions (docs/operating.md, "Operating a month", 4) in the Web UI (driven by headless Chromium)
 * and with the `temporal` CLI, and its approvers got the "approval needed" notice — and only that
 * one, as the approval arrives long before the first reminder.
 */
describe('operating a month: Web UI and temporal CLI on a dev server with the UI', function () {
  this.timeout(240_000);
  let temporal: DevServer;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let admin: SandboxAdmin;
  let connection: Connection;
  let client: Client;
  let native: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  let browser: BrowserContext;
  const folder = mkdtempSync(join(tmpdir(), 'webui-'));

  before(async () => {
    installTestLogging();
    temporal = await startDevServer({ headless: false });
    sandbox = await startSandbox({ port: 0, dbFile: ':memory:' });
    admin = new SandboxAdmin(sandbox.url);
    await admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 30, seed: 5 });
    await admin.setClock(SANDBOX_NOW);
    connection = await Connection.connect({ address: temporal.address });
    client = new Client({ connection, namespace: temporal.namespace, dataConverter: {} });
    native = await NativeConnection.connect({ address: temporal.address });
    worker = await createDeductionWorker({
      connection: native,
      namespace: temporal.namespace,
      invoiceCloud: invoiceCloudConfigFromEnv({ INVOICE_CLOUD_BASE_URL: sandbox.url }),
      dataConverter: {},
      notifications: { channels: { approvals: admin.webhookUrl('approvals') } },
    });
    running = worker.run();
    browser = await launchChromium(join(folder, 'profile'), { width: 1400, height: 1000 });
  });
  after(async () => {
    await browser?.close();
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running;
    await native?.close();
    await connection?.close();
    await sandbox?.close();
    await temporal?.stop();
  });

  let workflowId: string;
  let runId: string;

  it('a month waiting for approval has notified its approvers once', async () => {
    const started = await startMonthlyDeduction(client, {
      approvers: ['finance-lead'],
      taxNo: TAX_NO,
      taxPeriod: PERIOD,
      polling: FAST_POLLING,
      notifications: { channel: 'approvals', remindHoursBeforeDeadline: [24, 2] },
    });
    workflowId = started.workflowId;
    runId = started.runId!;
    await waitForStage(started.handle, 'AWAITING_APPROVAL');
    let notices = await admin.webhooks('approvals');
    for (let i = 0; i < 50 && notices.length === 0; i++) {
      await sleep(200);
      notices = await admin.webhooks('approvals');
    }
    assert.deepEqual(
      notices.map((n) => [n.body.kind, n.body.workflowId]),
      [['approval-needed', workflowId]],
    );
  });

  /** `temporal <args>` against the test's dev server. */
  async function temporalCli(...args: string[]): Promise<string> {
    const { stdout } = await run(temporalCliPath(), [
      ...args,
      '--address',
      temporal.address,
      '--namespace',
      temporal.namespace,
    ]);
    return stdout;
  }
  /** Workflow ids `temporal workflow list --query` answers, once visibility has caught up with `expected`. */
  async function listIds(query: string, expected: string[]): Promise<string[]> {
    let ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const out = await temporalCli('workflow', 'list', '--query', query, '--output', 'json');
      ids = (JSON.parse(out || '[]') as { execution: { workflowId: string } }[]).map((w) => w.execution.workflowId);
      if (expected.every((id) => ids.includes(id))) break;
      await sleep(200);
    }
    return ids.sort();
  }

  it('`temporal workflow list --query DeductionStage="AWAITING_APPROVAL"` lists it, by period and taxpayer too', async () => {
    assert.deepEqual(await listIds(AWAITING, [workflowId]), [workflowId]);
    assert.deepEqual(await listIds(`${AWAITING} AND TaxPeriod="${PERIOD}"`, [workflowId]), [workflowId]);
    assert.deepEqual(await listIds(`${AWAITING} AND TaxPeriod="202610"`, []), []);
    assert.deepEqual(await listIds(`TaxNo="${TAX_NO}"`, [workflowId]), [workflowId]);
  });

  it('the Web UI lists it under the DeductionStage filter and shows its current details', async () => {
    const page = await browser.newPage();
    const base = `${temporal.uiUrl}/namespaces/${temporal.namespace}/workflows`;
    // Workflows view, filtered as the first operator question in docs/operating.md says.
    await page.goto(`${base}?query=${encodeURIComponent(`${AWAITING} AND TaxPeriod="${PERIOD}"`)}`);
    await page.getByRole('link', { name: workflowId }).first().waitFor({ timeout: 30_000 });
    await page.getByText('DeductionStage = "AWAITING_APPROVAL"').first().waitFor();
    await page
      .getByText(/^1 Workflow$/)
      .first()
      .waitFor();
    await page.screenshot({ path: join(folder, 'workflows-awaiting-approval.png'), fullPage: true });
    // "Did this month start?": the TaxNo filter.
    await page.goto(`${base}?query=${encodeURIComponent(`TaxNo="${TAX_NO}"`)}`);
    await page.getByRole('link', { name: workflowId }).first().waitFor({ timeout: 30_000 });

    // The workflow's User Metadata tab renders the current details (workflows/details.ts) in a frame.
    const progress = await waitForStage(client.workflow.getHandle(workflowId), 'AWAITING_APPROVAL');
    await page.goto(`${base}/${workflowId}/${runId}/user-metadata`);
    const details = page.frameLocator('iframe[src*="Awaiting%20approval"]').locator('body');
    await details.getByText('待审批 Awaiting approval').waitFor({ timeout: 30_000 });
    const text = await details.innerText();
    const st = progress.statistic!;
    const sel = progress.selection!;
    assert.match(text, new RegExp(`纳税人 Taxpayer: ${TAX_NO}`));
    assert.match(text, new RegExp(`税款所属期 Tax period: ${PERIOD}`));
    assert.match(
      text,
      new RegExp(
        `${sel.selected} selected, ${sel.alreadySelected} already selected, ${sel.failed} failed of ${sel.candidates} candidates`,
      ),
    );
    assert.ok(sel.selected > 0 && text.includes(sel.taskNos[0]!), 'the select task number is shown');
    assert.ok(
      text.includes(`${st.deductibleCount} deductible, amount ${st.deductibleAmount}, tax ${st.deductibleTax}`),
      text,
    );
    await page.screenshot({ path: join(folder, 'workflow-current-details.png'), fullPage: true });

    // Its Search Attributes tab shows the stage the filter matched.
    await page.goto(`${base}/${workflowId}/${runId}/search-attributes`);
    await page.getByText('AWAITING_APPROVAL').first().waitFor({ timeout: 30_000 });
    const attributes = await page.locator('body').innerText();
    assert.ok(attributes.includes(TAX_NO) && attributes.includes(PERIOD), 'TaxNo and TaxPeriod are shown');
    await page.close();
  });

  it('what failed and why: ExecutionStatus="Failed" lists it; describe and its current details give the bureau error', async () => {
    const failed = await startMonthlyDeduction(client, {
      approvers: TEST_APPROVERS,
      taxNo: FOREIGN_TAX_NO,
      taxPeriod: PERIOD,
      polling: FAST_POLLING,
    });
    await assert.rejects(failed.handle.result());
    const query = 'WorkflowType="MonthlyDeductionWorkflow" AND ExecutionStatus="Failed"';
    assert.deepEqual(await listIds(query, [failed.workflowId]), [failed.workflowId]);
    const described = await temporalCli('workflow', 'describe', '-w', failed.workflowId);
    assert.match(described, /不在租户/, described);

    const page = await browser.newPage();
    const base = `${temporal.uiUrl}/namespaces/${temporal.namespace}/workflows`;
    await page.goto(`${base}?query=${encodeURIComponent('ExecutionStatus="Failed"')}`);
    await page.getByRole('link', { name: failed.workflowId }).first().waitFor({ timeout: 30_000 });
    await page.goto(`${base}/${failed.workflowId}/${failed.runId}/user-metadata`);
    const details = page.frameLocator('iframe[src*="Failed"]').locator('body');
    await details.getByText('失败 Failed').waitFor({ timeout: 30_000 });
    assert.match(await details.innerText(), /最近错误 Last bureau error: .*不在租户/);
    await page.screenshot({ path: join(folder, 'workflow-failed-details.png'), fullPage: true });
    await page.close();
  });

  it('schedules are visible: the Schedules view and `temporal schedule describe`', async () => {
    const registry = parseRegistry({
      taxpayers: [
        {
          taxNo: TAX_NO,
          name: '深圳示例科技有限公司',
          approvers: ['finance-lead'],
          schedule: { dayOfMonth: 5, hour: 9 },
          paused: true,
          options: { reminderHoursBeforeDeadline: [24, 2] },
        },
      ],
    });
    await applySchedules(client, registry);
    const scheduleId = deductionScheduleId(TAX_NO);
    // The registry's reminder hours reach the month through the launcher's input.
    const description = await client.schedule.getHandle(scheduleId).describe();
    assert.equal(description.action.type, 'startWorkflow');
    const launcherArgs = description.action.type === 'startWorkflow' ? (description.action.args ?? []) : [];
    assert.deepEqual((launcherArgs[0] as { notifications?: unknown }).notifications, {
      channel: 'default',
      remindHoursBeforeDeadline: [24, 2],
    });
    assert.match(await temporalCli('schedule', 'describe', '-s', scheduleId), new RegExp(scheduleId));

    const page = await browser.newPage();
    await page.goto(`${temporal.uiUrl}/namespaces/${temporal.namespace}/schedules`);
    await page.getByText(scheduleId).first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(folder, 'schedules.png'), fullPage: true });
    await page.close();
  });

  it('approved before the first reminder, the month completes, no reminder was sent, the confirmation was announced', async () => {
    await approve(client, TAX_NO, PERIOD, {
      approver: 'finance-lead',
      comment: 'ok',
      statisticDigest: (await statisticAwaitingApproval(client, TAX_NO, PERIOD)).digest,
    });
    const result = (await client.workflow.getHandle(workflowId).result()) as MonthlyDeductionResult;
    assert.equal(result.outcome, 'COMPLETED');
    const notices = await admin.webhooks('approvals');
    assert.deepEqual(
      notices.map((n) => n.body.kind),
      ['approval-needed', 'confirmed'],
    );
  });
});
