import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createDeductionActivities } from '../../activities/deductionActivities.js';
import { InvoiceCloudClient } from '../../activities/invoiceCloudClient.js';
import { invoiceCloudConfigFromEnv } from '../../activities/invoiceCloudConfig.js';
import { workflowBundle } from '../../workers/createWorker.js';
import { TASK_QUEUE } from '../../workflows/contract.js';

/**
 * A worker on the time-skipping server whose activities read that server's clock: before each
 * activity, `refresh` reads it (the sandbox started with `followClock` follows it too), and the
 * activities' own clock is `now`.
 */
export async function serverTimeWorker(
  env: TestWorkflowEnvironment,
  sandboxUrl: string,
  refresh: () => Promise<number>,
  now: () => Date,
): Promise<Worker> {
  const invoiceCloud = invoiceCloudConfigFromEnv({ INVOICE_CLOUD_BASE_URL: sandboxUrl });
  const activities = createDeductionActivities({
    client: new InvoiceCloudClient(invoiceCloud),
    config: invoiceCloud,
    now,
  });
  const onServerTime = Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      async (...args: unknown[]) => {
        await refresh();
        return (fn as (...a: unknown[]) => unknown)(...args);
      },
    ]),
  );
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    workflowBundle: await workflowBundle(),
    activities: onServerTime,
  });
}
