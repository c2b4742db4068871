import type { ActivityOptions } from '@temporalio/workflow';

/**
 * How bureau activities are timed out and retried, shared by every workflow. Failures of these
 * types are the bureau's (or our configuration's) final word: retrying can't change them.
 */
export const FINAL_FAILURE_TYPES = [
  'BureauRefused',
  'InvoiceCloudProtocolError',
  'InvoiceCloudAuthFailed',
  'WorkerConfigError',
];

/** Short bureau calls: retried with backoff through outages, never on a refusal. */
export function bureauCallOptions(extraFinalTypes: string[] = []): ActivityOptions {
  return {
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: '6 hours',
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      nonRetryableErrorTypes: [...FINAL_FAILURE_TYPES, ...extraFinalTypes],
    },
  };
}

/** Long activities (reading a large pool, submitting its batches): heartbeats so a dead worker is noticed soon. */
export function heartbeatingOptions(extraFinalTypes: string[] = []): ActivityOptions {
  return {
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '1 minute',
    scheduleToCloseTimeout: '6 hours',
    retry: {
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      nonRetryableErrorTypes: [...FINAL_FAILURE_TYPES, ...extraFinalTypes],
    },
  };
}

export interface PollingSchedule {
  initialIntervalMs: number;
  maximumIntervalMs: number;
  backoffCoefficient: number;
  giveUpAfterMs: number;
}

/**
 * Awaiting a bureau task: the activity throws BureauTaskPending until the task is done and
 * Temporal retries it on this schedule. Only the final attempt is recorded in history.
 */
export function pollingOptions(polling: PollingSchedule, extraFinalTypes: string[] = []): ActivityOptions {
  return {
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: polling.giveUpAfterMs,
    retry: {
      initialInterval: polling.initialIntervalMs,
      backoffCoefficient: polling.backoffCoefficient,
      maximumInterval: polling.maximumIntervalMs,
      nonRetryableErrorTypes: [...FINAL_FAILURE_TYPES, ...extraFinalTypes],
    },
  };
}
