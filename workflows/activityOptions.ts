import type { ActivityOptions } from '@temporalio/workflow';
import { FINAL_FAILURE_TYPES, type FailureTypeName } from '../protocol/failureTypes.js';

export { FINAL_FAILURE_TYPES };

/** How bureau activities are timed out and retried, shared by every workflow. */

/**
 * How long a step may keep retrying through a bureau outage: until the period's deduction
 * deadline by default (a month fails only when success has become impossible), or less when the
 * caller set a limit. At least a minute, so that a step scheduled at the last moment is tried.
 */
export function retryBudgetMs(until: Date, nowMs: number, limitMs?: number): number {
  const toDeadline = Math.max(until.getTime() - nowMs, 60_000);
  return limitMs === undefined ? toDeadline : Math.min(toDeadline, limitMs);
}

/** Short bureau calls: retried with backoff through outages for `budgetMs`, never on a refusal. */
export function bureauCallOptions(budgetMs: number, extraFinalTypes: FailureTypeName[] = []): ActivityOptions {
  return {
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: budgetMs,
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      nonRetryableErrorTypes: [...FINAL_FAILURE_TYPES, ...extraFinalTypes],
    },
  };
}

/**
 * Long activities (reading a large pool, submitting its batches): they heartbeat so a dead worker
 * is noticed soon, and so a cancellation reaches them (it comes in a heartbeat's answer; a
 * selection heartbeats every second, activities/selectionProgress.ts).
 */
export function heartbeatingOptions(budgetMs: number, extraFinalTypes: FailureTypeName[] = []): ActivityOptions {
  return {
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '1 minute',
    scheduleToCloseTimeout: budgetMs,
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
  /** Absent: the caller's retry budget (the deadline). */
  giveUpAfterMs?: number | undefined;
}

/**
 * Awaiting a bureau task: the activity throws BureauTaskPending until the task is done and
 * Temporal retries it on this schedule. Only the final attempt is recorded in history, and the
 * failures are benign (activities/failures.ts stillProcessing): no failed-execution metric, no
 * warning. The retry matches on the type, which is unchanged.
 */
export function pollingOptions(
  polling: PollingSchedule,
  budgetMs: number,
  extraFinalTypes: FailureTypeName[] = [],
): ActivityOptions {
  return {
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: polling.giveUpAfterMs ?? budgetMs,
    retry: {
      initialInterval: polling.initialIntervalMs,
      backoffCoefficient: polling.backoffCoefficient,
      maximumInterval: polling.maximumIntervalMs,
      nonRetryableErrorTypes: [...FINAL_FAILURE_TYPES, ...extraFinalTypes],
    },
  };
}
