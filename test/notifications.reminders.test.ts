import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createDeductionActivities } from '../activities/deductionActivities.js';
import { InvoiceCloudClient } from '../activities/invoiceCloudClient.js';
import { invoiceCloudConfigFromEnv } from '../activities/invoiceCloudConfig.js';
import { createNotificationActivities, notificationConfigFromEnv } from '../activities/notifications.js';
import { SandboxAdmin } from '../simulator/adminClient.js';
import { startSandbox } from '../simulator/server.js';
import { workflowBundle } from '../workers/createWorker.js';
import {
  approveSignal,
  deductionWorkflowId,
  type MonthlyDeductionInput,
  type MonthlyDeductionResult,
  TASK_QUEUE,
  WORKFLOW_TYPE,
} from '../workflows/contract.js';
import { startTimeSkippingServer } from './support/timeSkipping.js';
import { recordHistory } from './support/recordHistory.js';
import { TEST_WINDOW } from './support/calendar.js';
import { TEST_APPROVERS } from './support/approvers.js';
import { addTaxpayer } from './support/taxpayers.js';
import { waitForStage } from './support/workflows.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { withCheckCharacter } from '../protocol/taxNo.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;

const HOUR_MS = 3_600_000;
const INBOX_URL = 'http://inbox.example.test/';

describe('approver notifications: configuration from the environment', () => {
  it('reads the default channel, named channels and the inbox link', () => {
    const config = notificationConfigFromEnv({
      NOTIFY_WEBHOOK_URL: 'https://hooks.example.test/a?token=x',
      NOTIFY_WEBHOOKS: '{"finance": "https://hooks.example.test/b"}',
      INBOX_URL: 'https://inbox.example.test/',
    });
    assert.deepEqual(config, {
      channels: { default: 'https://hooks.example.test/a?token=x', finance: 'https://hooks.example.test/b' },
      inboxUrl: 'https://inbox.example.test/',
    });
    assert.deepEqual(notificationConfigFromEnv({}), { channels: {} });
  });

  it('refuses bad values naming the variable, never echoing the value', () => {
    assert.throws(
      () => notificationConfigFromEnv({ NOTIFY_WEBHOOK_URL: 'secret-token' }),
      (err: Error) => {
        assert.match(err.message, /^NOTIFY_WEBHOOK_URL: must be an http\(s\) URL$/);
        return true;
      },
    );
    assert.throws(
      () => notificationConfigFromEnv({ NOTIFY_WEBHOOKS: '{"finance": "ftp://x"}' }),
      /NOTIFY_WEBHOOKS\.finance/,
    );
    assert.throws(() => notificationConfigFromEnv({ NOTIFY_WEBHOOKS: 'not json' }), /NOTIFY_WEBHOOKS: must be a JSON/);
    assert.throws(() => notificationConfigFromEnv({ INBOX_URL: 'inbox' }), /INBOX_URL/);
  });
});

describe('approver notifications on the time-skipping test server', function () {
  this.timeout(180_000);
  let env: TestWorkflowEnvironment;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  let admin: SandboxAdmin;

  // A server per test: each one moves the server's clock on by days or weeks.
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

  /** A fresh worker (a Worker runs once) whose `approvals` channel is the sandbox's receiver. */
  async function createWorker(): Promise<Worker> {
    const invoiceCloud = invoiceCloudConfigFromEnv({ INVOICE_CLOUD_BASE_URL: sandbox.url });
    return Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowBundle: await workflowBundle(),
      activities: {
        ...createDeductionActivities({ client: new InvoiceCloudClient(invoiceCloud), config: invoiceCloud }),
        ...createNotificationActivities({
          channels: { approvals: admin.webhookUrl('approvals') },
          inboxUrl: INBOX_URL,
        }),
      },
    });
  }

  function monthInput(
    taxNo: string,
    notifications: MonthlyDeductionInput['notifications'],
    approvalDeadline: Date,
  ): MonthlyDeductionInput {
    return {
      taxNo,
      taxPeriod: PERIOD,
      approvers: TEST_APPROVERS,
      approvalDeadline: approvalDeadline.toISOString(),
      notifications,
      polling: { initialIntervalMs: 200, maximumIntervalMs: 500 },
    };
  }

  /** A month on a fresh worker, run to its end. */
  async function run(taxNo: string, notifications: MonthlyDeductionInput['notifications'], approvalDeadline: Date) {
    const worker = await createWorker();
    return worker.runUntil(
      env.client.workflow.execute(WORKFLOW_TYPE, {
        taskQueue: TASK_QUEUE,
        workflowId: deductionWorkflowId(taxNo, PERIOD),
        args: [monthInput(taxNo, notifications, approvalDeadline)],
      }) as Promise<MonthlyDeductionResult>,
    );
  }

  it('stops a reminder that is still being retried when the decision arrives: nobody is asked after deciding', async () => {
    const taxNo = withCheckCharacter('91440300MA5REMND1');
    await addTaxpayer(admin, taxNo, { invoices: 6, seed: 11 });
    const deadline = new Date((await env.currentTimeMs()) + 10 * 86_400_000);
    const worker = await createWorker();
    const handle = await env.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: TASK_QUEUE,
      workflowId: deductionWorkflowId(taxNo, PERIOD),
      args: [
        {
          ...monthInput(taxNo, { channel: 'approvals', remindHoursBeforeDeadline: [48, 2] }, deadline),
          polling: { initialIntervalMs: 200, maximumIntervalMs: 5_000 },
        },
      ],
    });
    const noticesOf = async () =>
      (await admin.webhooks('approvals')).filter((w) => w.body.taxNo === taxNo).map((w) => w.body.kind);
    try {
      const result = await worker.runUntil(async () => {
        const waiting = await waitForStage(handle, 'AWAITING_APPROVAL');
        for (let i = 0; i < 100 && (await noticesOf()).length === 0; i++) await sleep(100);
        assert.deepEqual(await noticesOf(), ['approval-needed']);

        // The chat platform goes down; the 48 h reminder comes due and is retried (every few minutes).
        await admin.setWebhookFailing('approvals', true);
        const untilReminder = deadline.getTime() - 48 * HOUR_MS - (await env.currentTimeMs());
        await env.sleep(untilReminder + 60_000);
        const history = await handle.fetchHistory();
        const reminderScheduled = (history.events ?? []).filter(
          (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'notifyApprovers',
        );
        assert.equal(reminderScheduled.length, 2, 'the reminder is being sent');

        // The approver decides while the reminder is still being retried. The bureau takes an hour
        // over the confirmation, so the month runs on; meanwhile the platform is back.
        await admin.setTaskLatency({ kind: 'confirm', distribution: { type: 'fixed', ms: HOUR_MS } });
        await handle.signal(approveSignal, { approver: '王会计', statisticDigest: waiting.statistic!.digest });
        await waitForStage(handle, 'CONFIRMING');
        await admin.setWebhookFailing('approvals', false);
        await env.sleep(10 * 60_000); // longer than the notice's retry interval (at most 5 minutes)
        await admin.setClock(new Date(Date.parse(SANDBOX_NOW) + 2 * HOUR_MS).toISOString()); // the task is done
        return (await handle.result()) as MonthlyDeductionResult;
      });
      assert.equal(result.outcome, 'COMPLETED');
      assert.deepEqual(
        await noticesOf(),
        ['approval-needed', 'confirmed'],
        'no reminder reached anyone after the decision; the confirmation was announced',
      );
      const [confirmed] = (await admin.webhooks('approvals')).filter(
        (w) => w.body.taxNo === taxNo && w.body.kind === 'confirmed',
      );
      assert.equal(confirmed?.body.decidedBy, '王会计');
      const history = await handle.fetchHistory();
      const cancelled = (history.events ?? []).filter((e) => e.activityTaskCancelRequestedEventAttributes);
      assert.equal(cancelled.length, 1, 'the reminder still being retried was cancelled');
      const notices = (history.events ?? []).filter(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'notifyApprovers',
      );
      assert.equal(
        notices.length,
        3,
        'no reminder is scheduled after the decision (the 2 h one never comes), then "confirmed"',
      );
    } finally {
      await admin.setWebhookFailing('approvals', false);
      await admin.setTaskLatency({ kind: 'confirm', distribution: { type: 'fixed', ms: 0 } });
      await admin.setClock(SANDBOX_NOW);
    }
  });

  it('notifies when approval is needed, reminds at 48 h and 2 h before the deadline, and reports the miss', async () => {
    const taxNo = '91440300591872133B';
    const deadline = new Date(Date.now() + 20 * 86_400_000);
    const result = await run(taxNo, { channel: 'approvals', remindHoursBeforeDeadline: [2, 48] }, deadline);
    assert.equal(result.outcome, 'EXPIRED');

    const received = (await admin.webhooks('approvals')).filter((w) => w.body.taxNo === taxNo).map((w) => w.body);
    assert.deepEqual(
      received.map((n) => [n.kind, n.hoursBeforeDeadline]),
      [
        ['approval-needed', undefined],
        ['reminder', 48],
        ['reminder', 2],
        ['deadline-missed', undefined],
      ],
    );
    for (const notice of received) {
      assert.equal(notice.workflowId, deductionWorkflowId(taxNo, PERIOD));
      assert.equal(notice.taxPeriod, PERIOD);
      assert.equal(new Date(notice.approvalDeadline!).getTime(), deadline.getTime());
      assert.equal(notice.inboxUrl, INBOX_URL);
      assert.equal(notice.statistic?.deductibleCount, result.statistic?.deductibleCount);
      assert.equal(notice.statistic?.deductibleTax, result.statistic?.deductibleTax);
      assert.ok(notice.text.includes(INBOX_URL), 'the text links the inbox');
    }
    assert.match(received[0]!.text, /^【待审批 Approval needed】纳税人 Taxpayer 91440300591872133B/);
    assert.match(received[0]!.text, new RegExp(`税额 ${result.statistic!.deductibleTax} 元`));
    assert.match(received[1]!.text, /^【审批提醒 Reminder】.*about 48 h before the deadline/);
    assert.match(received[3]!.text, /^【审批已逾期 Approval deadline missed】/);

    // Each notice went out at its instant of workflow time (the test server skipped to it).
    const history = await env.client.workflow.getHandle(deductionWorkflowId(taxNo, PERIOD)).fetchHistory();
    const scheduledAt = (history.events ?? [])
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'notifyApprovers')
      .map((e) => Number(e.eventTime!.seconds) * 1000);
    assert.equal(scheduledAt.length, 4);
    const near = (actual: number, expected: number, what: string) =>
      assert.ok(Math.abs(actual - expected) < 60_000, `${what}: ${new Date(actual).toISOString()}`);
    near(scheduledAt[1]!, deadline.getTime() - 48 * HOUR_MS, 'the 48 h reminder');
    near(scheduledAt[2]!, deadline.getTime() - 2 * HOUR_MS, 'the 2 h reminder');
    near(scheduledAt[3]!, deadline.getTime(), 'the missed-deadline report');
    const markers = (history.events ?? []).filter((e) => e.markerRecordedEventAttributes);
    assert.equal(markers.length, 3, 'three patch markers (plan-vs-bureau, approval-memo, approval-reminders)');
    await recordHistory(env.client.workflow.getHandle(deductionWorkflowId(taxNo, PERIOD)), 'expired-with-reminders');
  });

  it('carries on to EXPIRED when notices cannot be delivered (a channel this worker lacks)', async () => {
    const taxNo = '91440300MA5G9GK78Y';
    const deadline = new Date(Date.now() + 5 * 86_400_000);
    const result = await run(taxNo, { channel: 'nowhere', remindHoursBeforeDeadline: [24] }, deadline);
    assert.equal(result.outcome, 'EXPIRED');
    const received = (await admin.webhooks()).filter((w) => w.body.taxNo === taxNo);
    assert.deepEqual(received, []);
  });

  it('tells the approvers when a month fails, with the reason', async () => {
    const taxNo = withCheckCharacter('91440300MA5FA1LD0'); // not one of the tenant's taxpayers
    const deadline = new Date((await env.currentTimeMs()) + 10 * 86_400_000);
    await assert.rejects(run(taxNo, { channel: 'approvals', remindHoursBeforeDeadline: [24] }, deadline));
    const received = (await admin.webhooks('approvals')).filter((w) => w.body.taxNo === taxNo).map((w) => w.body);
    assert.deepEqual(
      received.map((n) => n.kind),
      ['failed'],
    );
    assert.ok(received[0]!.reason, 'the notice says why');
    assert.equal(received[0]!.workflowId, deductionWorkflowId(taxNo, PERIOD));
  });
});
