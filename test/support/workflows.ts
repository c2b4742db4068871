import type { Client, WorkflowHandle } from '@temporalio/client';
import { progressQuery, type Progress, type Stage } from '../../workflows/contract.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls the `progress` query until the workflow reaches `stage` (or fails the test). */
export async function waitForStage(handle: WorkflowHandle, stage: Stage, timeoutMs = 60_000): Promise<Progress> {
  const deadline = Date.now() + timeoutMs;
  let last: Progress | undefined;
  while (Date.now() < deadline) {
    try {
      last = await handle.query(progressQuery);
      if (last.stage === stage) return last;
    } catch {
      // Not started yet, or no worker polling at this moment.
    }
    await sleep(200);
  }
  throw new Error(`workflow ${handle.workflowId} did not reach ${stage} in ${timeoutMs} ms (last: ${last?.stage})`);
}

export async function historyLength(client: Client, workflowId: string): Promise<number> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return history.events?.length ?? 0;
}

/** Keyword search attribute values as the server stores them. */
export async function searchAttributes(handle: WorkflowHandle): Promise<Record<string, unknown>> {
  const description = await handle.describe();
  return Object.fromEntries(description.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value]));
}
