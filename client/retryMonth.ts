/**
 * `retry`: resumes a taxpayer-month whose latest run ended without completing (FAILED, CANCELLED,
 * TERMINATED, TIMED_OUT) by a Temporal reset of that run. The month keeps its workflow id and its
 * history up to the reset point (an approval already given included); a new run goes on from there.
 * The failed run stays in Temporal's history.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_PROFILE, profileFromEnv } from '../protocol/profile.js';
import { WorkflowNotFoundError, type Client, type WorkflowExecutionStatusName } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { decodeOptionalFailureToOptionalError } from '@temporalio/common/lib/internal-non-workflow/codec-helpers.js';
import proto from '@temporalio/proto';
import { DeductionStageSearchAttribute, Stage, deductionWorkflowId } from '../workflows/contract.js';
import { isRetryableStatus, retryCommand, type RetryableStatus } from '../workflows/launcherContract.js';
import { DeductionNotFoundError, DeductionStateError, checkPeriod, checkTaxNo } from './deductions.js';

export type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;
const EventType = proto.temporal.api.enums.v1.EventType;

export interface ResetPoint {
  /**
   * The WorkflowTaskCompleted event to reset to. The workflow task that completed there is run
   * again in the new run; the commands it and later tasks gave are dropped.
   */
  eventId: number;
  /**
   * - `last-activity`: the task that scheduled the run's last activity (that activity runs again).
   * - `before-cancel-request`: the last task completed before the cancellation was requested (the
   *   cancellation is not part of the new run).
   * - `first-workflow-task`: nothing else fits (no activity was scheduled): the run's first task.
   */
  rule: 'last-activity' | 'before-cancel-request' | 'first-workflow-task';
  /** For `last-activity`: the activity scheduled again, and its ActivityTaskScheduled event. */
  activityType?: string;
  activityScheduledEventId?: number;
}

/** An event id (a number, or a Long from the wire) as a number; 0 when absent. */
function num(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'object' && 'toNumber' in value && typeof value.toNumber === 'function') {
    return Number(value.toNumber());
  }
  return Number(value);
}

/**
 * Where to reset a run that ended with `status`, from its history (pure: events only).
 * - FAILED, TIMED_OUT, TERMINATED: the workflow task that scheduled the last activity. That task
 *   runs again, so the last activity — a bureau read, or a write that reads the bureau first — is
 *   scheduled afresh and sees the bureau as it is now.
 * - CANCELLED: the last workflow task completed before WorkflowExecutionCancelRequested.
 * - A run of any status whose cancellation was requested is never reset past that request (it
 *   would be cancelled again).
 * - Otherwise the first workflow task completed; undefined when there is none (before the
 *   cancellation request, if any): the run never got anywhere to resume from.
 */
export function chooseResetPoint(events: HistoryEvent[], status: RetryableStatus): ResetPoint | undefined {
  const cancelRequest = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED);
  const limit = cancelRequest ? num(cancelRequest.eventId) : Number.POSITIVE_INFINITY;
  const completedTasks = events
    .filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED && num(e.eventId) < limit)
    .map((e) => num(e.eventId));

  if (status !== 'CANCELLED' || !cancelRequest) {
    const scheduled = events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).at(-1);
    const taskId = num(scheduled?.activityTaskScheduledEventAttributes?.workflowTaskCompletedEventId);
    if (scheduled && taskId > 0 && taskId < limit) {
      return {
        eventId: taskId,
        rule: 'last-activity',
        activityType: scheduled.activityTaskScheduledEventAttributes?.activityType?.name ?? undefined,
        activityScheduledEventId: num(scheduled.eventId),
      };
    }
  }
  if (cancelRequest && completedTasks.length > 0) {
    return { eventId: completedTasks.at(-1)!, rule: 'before-cancel-request' };
  }
  if (completedTasks.length > 0) return { eventId: completedTasks[0]!, rule: 'first-workflow-task' };
  return undefined;
}

/**
 * A write of the run's last activity that was sent and never answered: the activity ran out of
 * time with a write intent in its last heartbeat details (activities/writeIntent.ts). A reset
 * within the settle time would start that step afresh without the intent and could send it twice.
 */
export function unansweredWrite(events: HistoryEvent[]): { write: string; sentAt: number } | undefined {
  const timedOut = events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT).at(-1);
  const lastScheduled = events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).at(-1);
  if (!timedOut || !lastScheduled) return undefined;
  const attributes = timedOut.activityTaskTimedOutEventAttributes;
  if (num(attributes?.scheduledEventId) !== num(lastScheduled.eventId)) return undefined;
  const payload = attributes?.failure?.timeoutFailureInfo?.lastHeartbeatDetails?.payloads?.[0];
  if (!payload) return undefined;
  try {
    const details = defaultPayloadConverter.fromPayload(payload as Payload) as { write?: unknown; sentAt?: unknown };
    if (typeof details?.write === 'string' && typeof details.sentAt === 'number') {
      return { write: details.write, sentAt: details.sentAt };
    }
  } catch {
    // Encrypted or unreadable details: nothing known.
  }
  return undefined;
}

/** What the reset point means, for the operator. */
export function describeResetPoint(point: ResetPoint): string {
  switch (point.rule) {
    case 'last-activity':
      return (
        `event ${point.eventId}, the workflow task that scheduled ${point.activityType ?? 'the last activity'} ` +
        `(event ${point.activityScheduledEventId}): it is scheduled again and reads the bureau as it is now`
      );
    case 'before-cancel-request':
      return `event ${point.eventId}, the last workflow task before the cancellation was requested (not re-applied)`;
    case 'first-workflow-task':
      return `event ${point.eventId}, the first workflow task (no activity had been scheduled)`;
  }
}

export interface RetryCandidate {
  workflowId: string;
  /** The run that ended and is reset. */
  runId: string;
  status: RetryableStatus;
  closeTime?: Date;
  /** Why it ended: the close event's failure message, termination reason, ... */
  failure: string;
  /** The DeductionStage search attribute, when present. */
  stage?: string;
  /** When `stage` is FAILED: the stage the month was in before it failed (from the history). */
  stageBefore?: string;
  resetPoint: ResetPoint;
}

function stageUpserts(events: HistoryEvent[]): string[] {
  const stages: string[] = [];
  for (const e of events) {
    const payload = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.DeductionStage;
    if (!payload?.data) continue;
    try {
      const value: unknown = defaultPayloadConverter.fromPayload(payload as Payload);
      const stage = Array.isArray(value) ? value[0] : value;
      if (typeof stage === 'string') stages.push(stage);
    } catch {
      // Not a stage we can read: skip it.
    }
  }
  return stages;
}

/** The message of a failure and its causes, each once. */
function messages(error: Error | undefined): string | undefined {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.message && !parts.some((p) => p.includes(e.message))) parts.push(e.message);
  }
  return parts.length > 0 ? parts.join(': ') : undefined;
}

/** Why the run ended, from its close event (and the cancellation request), with no worker needed. */
async function closeReason(client: Client, events: HistoryEvent[], status: RetryableStatus): Promise<string> {
  const close = events.at(-1);
  if (status === 'FAILED') {
    const failure = close?.workflowExecutionFailedEventAttributes?.failure;
    let error: Error | undefined;
    try {
      error = await decodeOptionalFailureToOptionalError(client.options.loadedDataConverter, failure);
    } catch {
      error = undefined;
    }
    return messages(error) ?? failure?.message ?? 'failed (no failure message recorded)';
  }
  if (status === 'TERMINATED') {
    const attrs = close?.workflowExecutionTerminatedEventAttributes;
    return `terminated${attrs?.identity ? ` by ${attrs.identity}` : ''}: ${attrs?.reason || 'no reason given'}`;
  }
  if (status === 'CANCELLED') {
    const request = events.find(
      (e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
    )?.workflowExecutionCancelRequestedEventAttributes;
    return `canceled${request?.identity ? ` by ${request.identity}` : ''}${request?.cause ? `: ${request.cause}` : ''}`;
  }
  return 'timed out (workflow run or execution timeout)';
}

/**
 * The latest run of a taxpayer-month, checked to be retryable, with why it ended and where it would
 * be reset. Throws DeductionNotFoundError (no such month) or DeductionStateError (running,
 * completed, or nothing to resume from).
 */
export async function describeRetry(client: Client, taxNo: string, period: string): Promise<RetryCandidate> {
  checkTaxNo(taxNo);
  checkPeriod(period);
  const workflowId = deductionWorkflowId(taxNo, period);
  let description;
  try {
    description = await client.workflow.getHandle(workflowId).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      throw new DeductionNotFoundError(
        `No deduction workflow for taxNo ${taxNo} period ${period} (workflow id ${workflowId}): nothing to retry. ` +
          `Start it with: npm run cli -- start --tax-no ${taxNo} --period ${period} --approver <account id>`,
      );
    }
    throw err;
  }
  const status: WorkflowExecutionStatusName = description.status.name;
  const { runId } = description;
  if (!isRetryableStatus(status)) {
    const why =
      status === 'RUNNING'
        ? `only a month that ended FAILED, CANCELLED, TERMINATED or TIMED_OUT is retried. ` +
          `Follow it with: npm run cli -- status --tax-no ${taxNo} --period ${period}`
        : status === 'COMPLETED'
          ? 'a completed month is not run again'
          : 'only a month that ended FAILED, CANCELLED, TERMINATED or TIMED_OUT is retried';
    throw new DeductionStateError(`Cannot retry ${workflowId}: its latest run ${runId} is ${status}; ${why}`);
  }
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const events = history.events ?? [];
  const resetPoint = chooseResetPoint(events, status);
  if (!resetPoint) {
    throw new DeductionStateError(
      `Cannot retry ${workflowId}: its latest run ${runId} (${status}) never completed a workflow task` +
        `${status === 'CANCELLED' ? ' before its cancellation was requested' : ''}, so there is nothing to resume from`,
    );
  }
  const unanswered = unansweredWrite(events);
  const settleMs = settleTime();
  if (unanswered && Date.now() - unanswered.sentAt < settleMs) {
    const after = new Date(unanswered.sentAt + settleMs).toISOString();
    throw new DeductionStateError(
      `Cannot retry ${workflowId} yet: its last step sent ${unanswered.write} at ${new Date(unanswered.sentAt).toISOString()} ` +
        `and got no answer; it may still land at the bureau. Retry after ${after} (the profile's writeSettleMs), ` +
        'when the bureau shows whether it did.',
    );
  }
  const stage = description.typedSearchAttributes.get(DeductionStageSearchAttribute);
  const stageBefore =
    stage === Stage.Failed
      ? stageUpserts(events)
          .filter((s) => s !== Stage.Failed)
          .at(-1)
      : undefined;
  return {
    workflowId,
    runId,
    status,
    ...(description.closeTime ? { closeTime: description.closeTime } : {}),
    failure: await closeReason(client, events, status),
    ...(stage ? { stage } : {}),
    ...(stageBefore ? { stageBefore } : {}),
    resetPoint,
  };
}

/**
 * A request id for resetting one run: the same for the same run, so a retry sent twice (two
 * operators, a repeated command) is one reset to the server, not a second one ending the first's run.
 */
export function resetRequestId(workflowId: string, runId: string): string {
  const hex = createHash('sha256').update(`retry ${workflowId} ${runId}`).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface RetryResult extends RetryCandidate {
  /** The new run that goes on from the reset point. */
  newRunId: string;
}

/**
 * Resets the candidate's run to its reset point. Decisions sent after the point (signals and
 * Updates: an approval, a rejection) are applied again to the new run; the cancellation request is not.
 */
export async function resetRun(client: Client, candidate: RetryCandidate, reason: string): Promise<RetryResult> {
  // fromObject turns the event id into the int64 (Long) the message holds.
  const request = proto.temporal.api.workflowservice.v1.ResetWorkflowExecutionRequest.fromObject({
    namespace: client.options.namespace,
    workflowExecution: { workflowId: candidate.workflowId, runId: candidate.runId },
    reason,
    workflowTaskFinishEventId: candidate.resetPoint.eventId,
    requestId: resetRequestId(candidate.workflowId, candidate.runId),
    // Decisions sent after the reset point (signals and Updates) are applied again; nothing is excluded.
    resetReapplyType: proto.temporal.api.enums.v1.ResetReapplyType.RESET_REAPPLY_TYPE_ALL_ELIGIBLE,
    resetReapplyExcludeTypes: [],
    identity: client.options.identity,
  });
  const response = await client.workflowService.resetWorkflowExecution(request);
  if (!response.runId) throw new Error(`Temporal reset ${candidate.workflowId} but named no new run`);
  return { ...candidate, newRunId: response.runId };
}

/**
 * Resumes a taxpayer-month that ended without completing: checks it, calls `beforeReset` with what
 * failed and where it will be reset (the CLI prints it), then resets it.
 */
export async function retryMonth(
  client: Client,
  taxNo: string,
  period: string,
  opts: { reason?: string; beforeReset?: (candidate: RetryCandidate) => void } = {},
): Promise<RetryResult> {
  const candidate = await describeRetry(client, taxNo, period);
  opts.beforeReset?.(candidate);
  const reason = `retry (${retryCommand(taxNo, period)})${opts.reason ? `: ${opts.reason}` : ''}`;
  return resetRun(client, candidate, reason);
}

/** The settle time of the profile this process is configured with (INVOICE_CLOUD_PROFILE), else the default. */
function settleTime(): number {
  try {
    return profileFromEnv().writeSettleMs;
  } catch {
    return DEFAULT_PROFILE.writeSettleMs;
  }
}
