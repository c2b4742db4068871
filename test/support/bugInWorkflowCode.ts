import type { WorkflowInterceptors } from '@temporalio/workflow';

/**
 * A workflow interceptor module that stands for a bug in our own workflow code: scheduling the
 * confirmation throws a TypeError, as a programming mistake would. Bundled only into the "broken"
 * worker of test/workflow.branches.test.ts; the fixed worker is bundled without it.
 */
export const interceptors = (): WorkflowInterceptors => ({
  outbound: [
    {
      scheduleActivity(input, next) {
        if (input.activityType === 'requestConfirmation') {
          throw new TypeError("Cannot read properties of undefined (reading 'taskNo')");
        }
        return next(input);
      },
    },
  ],
});
