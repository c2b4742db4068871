import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInboundCallsInterceptor, ActivityExecuteInput, Next } from '@temporalio/worker';
import type { Context } from '@temporalio/activity';

/**
 * Simulates a worker that dies after an activity's bureau write was accepted but before the
 * activity's completion reached Temporal: the activity runs for real, then its first attempt
 * "crashes" (fails retryably), so Temporal runs it again. Records what crashed.
 */
export function crashAfterFirstAttempt(activityTypes: readonly string[], crashed: string[]) {
  return (ctx: Context): { inbound: ActivityInboundCallsInterceptor } => ({
    inbound: {
      async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>) {
        const result = await next(input);
        const { activityType, attempt } = ctx.info;
        if (attempt === 1 && activityTypes.includes(activityType)) {
          crashed.push(activityType);
          throw ApplicationFailure.retryable(
            `simulated crash after ${activityType} reached the bureau`,
            'SimulatedCrash',
          );
        }
        return result;
      },
    },
  });
}
