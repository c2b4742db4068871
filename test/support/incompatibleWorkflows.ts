import { sleep } from '@temporalio/workflow';
import { MonthlyDeductionWorkflow as released } from '../../workflows/monthlyDeduction.js';

export { AutoAccountingWorkflow, ScheduledDeductionLauncher } from '../../workflows/index.js';

/**
 * The month as a careless change would make it: a timer before its first step, without
 * `patched()`. Every month already started has no such timer in its history, so none of them
 * replays on this code (test/replay.fromServer.e2e.test.ts bundles it as the code to deploy).
 */
export async function MonthlyDeductionWorkflow(...args: Parameters<typeof released>): ReturnType<typeof released> {
  await sleep('1 second');
  return released(...args);
}
