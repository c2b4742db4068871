import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createDeductionActivities } from '../activities/deductionActivities.js';
import { InvoiceCloudClient } from '../activities/invoiceCloudClient.js';
import { invoiceCloudConfigFromEnv } from '../activities/invoiceCloudConfig.js';
import type { ChannelEntry } from '../activities/notices/channelConfig.js';
import { createNotificationActivities } from '../activities/notifications.js';
import { SandboxAdmin } from '../simulator/adminClient.js';
import { startSandbox } from '../simulator/server.js';
import { workflowBundle } from '../workers/createWorker.js';
import {
  deductionWorkflowId,
  type MonthlyDeductionInput,
  type MonthlyDeductionResult,
  TASK_QUEUE,
  WORKFLOW_TYPE,
} from '../workflows/contract.js';
import { TEST_APPROVERS } from './support/approvers.js';
import { TEST_WINDOW } from './support/calendar.js';
import { startTimeSkippingServer } from './support/timeSkipping.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const INBOX_URL = 'http://inbox.example.test/';

/** Notices on a chat robot, from a real month on the time-skipping test server. */
describe('notification channels by kind in a month', function () {
  this.timeout(180_000);
  let env: TestWorkflowEnvironment;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let admin: SandboxAdmin;

  beforeEach(async () => {
    env = await startTimeSkippingServer();
    sandbox = await startSandbox({ port: 0, dbFile: ':memory:' });
    admin = new SandboxAdmin(sandbox.url);
    await admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 20, seed: 3 });
    await admin.setClock(SANDBOX_NOW);
  });
  afterEach(async () => {
    await sandbox?.close();
    await env?.teardown();
  });

  /** A month left undecided until its deadline, its notices on `channel`. */
  async function runUndecided(taxNo: string, channel: ChannelEntry): Promise<MonthlyDeductionResult> {
    const invoiceCloud = invoiceCloudConfigFromEnv({ INVOICE_CLOUD_BASE_URL: sandbox.url });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowBundle: await workflowBundle(),
      activities: {
        ...createDeductionActivities({ client: new InvoiceCloudClient(invoiceCloud), config: invoiceCloud }),
        ...createNotificationActivities({ channels: { finance: channel }, inboxUrl: INBOX_URL }),
      },
    });
    const input: MonthlyDeductionInput = {
      taxNo,
      taxPeriod: PERIOD,
      approvers: TEST_APPROVERS,
      approvalDeadline: new Date(Date.now() + 5 * 86_400_000).toISOString(),
      notifications: { channel: 'finance', remindHoursBeforeDeadline: [24] },
      polling: { initialIntervalMs: 200, maximumIntervalMs: 500 },
    };
    return worker.runUntil(
      env.client.workflow.execute(WORKFLOW_TYPE, {
        taskQueue: TASK_QUEUE,
        workflowId: deductionWorkflowId(taxNo, PERIOD),
        args: [input],
      }) as Promise<MonthlyDeductionResult>,
    );
  }

  it('posts the approval request, the reminder and the missed deadline to a signing DingTalk robot', async () => {
    const taxNo = '91440300591872133B';
    await admin.setRobotSecret('dingtalk', 'finance-robot', 'SEC-right');
    const result = await runUndecided(taxNo, {
      kind: 'dingtalk',
      url: admin.robotUrl('dingtalk', 'finance-robot'),
      secret: 'SEC-right',
    });
    assert.equal(result.outcome, 'EXPIRED');
    const got = await admin.robotMessages({ platform: 'dingtalk', token: 'finance-robot' });
    const titles = got.map((m) => (m.body as { markdown: { title: string } }).markdown.title);
    assert.deepEqual(
      titles,
      ['待审批 Approval needed', '审批提醒 Reminder', '审批已逾期 Approval deadline missed'].map(
        (h) => `【${h}】${taxNo} ${PERIOD}`,
      ),
    );
    assert.ok(got.every((m) => m.signed));
    const text = (got[0]!.body as { markdown: { text: string } }).markdown.text;
    assert.ok(text.includes(`(${INBOX_URL}months/${taxNo}/${PERIOD})`), text);
  });

  it('carries the month to its end when a Feishu bot refuses every notice (wrong signing secret)', async () => {
    const taxNo = '91440300MA5G9GK78Y';
    await admin.setRobotSecret('feishu', 'finance-bot', 'the-bots-secret');
    const result = await runUndecided(taxNo, {
      kind: 'feishu',
      url: admin.robotUrl('feishu', 'finance-bot'),
      secret: 'a-stale-secret',
    });
    assert.equal(result.outcome, 'EXPIRED');
    assert.deepEqual(await admin.robotMessages({ platform: 'feishu' }), []);
    const history = await env.client.workflow.getHandle(deductionWorkflowId(taxNo, PERIOD)).fetchHistory();
    const failures = (history.events ?? [])
      .map((e) => e.activityTaskFailedEventAttributes?.failure)
      .filter((f) => f?.applicationFailureInfo?.type === 'NotificationRejected');
    assert.equal(failures.length, 3, 'approval needed, reminder and missed deadline: each refused once, not retried');
    assert.match(failures[0]!.message!, /code 19021/);
    const text = JSON.stringify(history);
    assert.ok(!text.includes('a-stale-secret') && !text.includes('finance-bot'), 'no secret, no token in history');
  });
});
