import { ApplicationFailure } from '@temporalio/activity';
import { FailureType } from '../protocol/failureTypes.js';

/**
 * Runs on the main task queue before a tenant's month (or accounting run) calls its invoice cloud:
 * a tenant no worker serves would leave its activities waiting on a queue nobody polls, so the run
 * fails saying so instead. Retried a few times by the workflow, so that a rolling restart adding
 * the tenant can finish (docs/tenants.md).
 */
export function createTenantActivities(tenantIds: readonly string[], tenantsFile: string | undefined) {
  return {
    async checkTenantServed(input: { tenant: string }): Promise<void> {
      if (tenantIds.includes(input.tenant)) return;
      const source = tenantsFile
        ? `the tenants file ${tenantsFile} (INVOICE_CLOUD_TENANTS_FILE) names ${tenantIds.length ? tenantIds.map((id) => `"${id}"`).join(', ') : 'no tenant'}`
        : 'the worker has no tenants file (INVOICE_CLOUD_TENANTS_FILE is not set)';
      throw ApplicationFailure.create({
        type: FailureType.UnknownTenant,
        message: `tenant "${input.tenant}" is not served by this worker: ${source}. Nothing was sent to any invoice cloud; add the tenant to every worker's tenants file (docs/tenants.md), then retry`,
      });
    },
  };
}
export type TenantActivities = ReturnType<typeof createTenantActivities>;
