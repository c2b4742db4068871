import { ActivityFailure } from '@temporalio/workflow';

/** The most specific message of a failure: the bureau's own text where there is one. */
export function failureMessage(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) return error.cause.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
