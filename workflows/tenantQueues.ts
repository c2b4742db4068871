import { type ActivityOptions, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { TenantActivities } from '../activities/tenantActivities.js';
import { tenantTaskQueue } from './contract.js';

/**
 * Whether the workers serve the run's tenant (on the main queue): five tries over about 30 s,
 * so that a rolling restart adding the tenant can finish, then the run fails saying so.
 */
export const tenantCheck = proxyActivities<TenantActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumAttempts: 5 },
});

/**
 * A tenant's bureau activities run on its own task queue (tenantTaskQueue); the default tenant's
 * keep the workflow's queue, so the options of months without a tenant are as they were.
 */
export function onTenantQueue(tenant: string | undefined): (options: ActivityOptions) => ActivityOptions {
  const taskQueue = tenantTaskQueue(tenant, workflowInfo().taskQueue);
  return (options) => (taskQueue ? { ...options, taskQueue } : options);
}
