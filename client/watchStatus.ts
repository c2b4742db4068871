/** `status --watch`: polls a taxpayer-month's progress until its workflow closes. */
import type { Client } from '@temporalio/client';
import { getProgress, type DeductionStatus } from './deductions.js';

/** What counts as a change worth printing again (not the updatedAt stamp alone). */
function fingerprint(status: DeductionStatus): string {
  const { updatedAt: _ignored, ...progress } = status.progress;
  return JSON.stringify([status.status, progress, status.result?.outcome, status.failure]);
}

/**
 * Calls `show` with the current status every `intervalMs` (changed = differs from the last one),
 * and returns the final status once the workflow is no longer running.
 */
export async function watchStatus(
  client: Client,
  taxNo: string,
  period: string,
  intervalMs: number,
  show: (status: DeductionStatus, changed: boolean) => void,
): Promise<DeductionStatus> {
  let last: string | undefined;
  for (;;) {
    const status = await getProgress(client, taxNo, period, { queryTimeoutMs: Math.max(intervalMs, 2000) });
    const current = fingerprint(status);
    show(status, current !== last);
    last = current;
    if (status.status !== 'RUNNING') return status;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
