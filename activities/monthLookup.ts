import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { DeductionStageSearchAttribute } from '../protocol/searchAttributes.js';

/** A taxpayer-month's latest run as Temporal describes it, or that there is none. */
export type ExistingMonth =
  | {
      found: true;
      runId: string;
      /** Temporal's status name: RUNNING, COMPLETED, FAILED, CANCELLED, TERMINATED, TIMED_OUT, ... */
      status: string;
      /** The DeductionStage search attribute, when set. */
      stage?: string;
    }
  | { found: false };

/**
 * Read-only lookups in Temporal for workflows (the scheduled launcher asks why a month it could
 * not start already exists). `client` is a Temporal client on the worker's own connection.
 */
export function createMonthLookupActivities(client: Client) {
  return {
    async describeExistingMonth(workflowId: string): Promise<ExistingMonth> {
      try {
        const description = await client.workflow.getHandle(workflowId).describe();
        const stage = description.typedSearchAttributes.get(DeductionStageSearchAttribute);
        return { found: true, runId: description.runId, status: description.status.name, ...(stage ? { stage } : {}) };
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return { found: false };
        throw error;
      }
    },
  };
}

export type MonthLookupActivities = ReturnType<typeof createMonthLookupActivities>;
