import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createDeductionActivities } from '../activities/deductionActivities.js';
import { InvoiceCloudClient } from '../activities/invoiceCloudClient.js';
import { invoiceCloudConfigFromEnv } from '../activities/invoiceCloudConfig.js';
import { SandboxAdmin } from '../simulator/adminClient.js';
import { startSandbox } from '../simulator/server.js';
import { workflowBundle } from '../workers/createWorker.js';
import { deductionWorkflowId, type MonthlyDeductionResult, TASK_QUEUE, WORKFLOW_TYPE } from '../workflows/contract.js';
import { startTimeSkippingServer } from './support/timeSkipping.js';
import { TEST_WINDOW } from './support/calendar.js';
import { TEST_APPROVERS } from './support/approvers.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;

describe('MonthlyDeductionWorkflow on the time-skipping test server', function () {
  this.timeout(180_000);
  let env: TestWorkflowEnvironment;
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;

  before(async () => {
    env = await startTimeSkippingServer();
    sandbox = await startSandbox({ port: 0, dbFile: ':memory:' });
  });
  after(async () => {
    await sandbox?.close();
    await env?.teardown();
  });

  it('ends EXPIRED without confirming when no approval comes before the deadline', async () => {
    const admin = new SandboxAdmin(sandbox.url);
    await admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 20, seed: 3 });
    await admin.setClock(SANDBOX_NOW);
    const invoiceCloud = invoiceCloudConfigFromEnv({ INVOICE_CLOUD_BASE_URL: sandbox.url });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowBundle: await workflowBundle(),
      activities: createDeductionActivities({ client: new InvoiceCloudClient(invoiceCloud), config: invoiceCloud }),
    });
    const taxNo = '91440300591872133B';
    // The approval deadline is weeks of workflow time away; the test server skips to it.
    const result = await worker.runUntil(
      env.client.workflow.execute(WORKFLOW_TYPE, {
        taskQueue: TASK_QUEUE,
        workflowId: deductionWorkflowId(taxNo, PERIOD),
        args: [
          {
            taxNo,
            taxPeriod: PERIOD,
            approvers: TEST_APPROVERS,
            approvalDeadline: new Date(Date.now() + 20 * 86_400_000).toISOString(),
            polling: { initialIntervalMs: 200, maximumIntervalMs: 500 },
          },
        ],
      }) as Promise<MonthlyDeductionResult>,
    );
    assert.equal(result.outcome, 'EXPIRED');
    assert.equal(result.stage, 'EXPIRED');
    assert.equal(result.decision, undefined);
    const confirmations = await admin.ledger({ taxNo, interfaceCode: 'statisticConfirm' });
    assert.equal(confirmations.length, 0, 'nothing was confirmed');
    assert.equal((await admin.getTaxpayer(taxNo)).statisticStatus, '02', 'the statistic stays generated');
  });
});
