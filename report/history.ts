/**
 * A closed month's Temporal history, decoded with the client's data converter (a payload codec
 * included): the activities it ran with their inputs and results, the decisions it received, and
 * the approval memos it upserted. The audit report reads the month from here and from its result
 * only (docs/audit-report.md).
 */
import type { Client } from '@temporalio/client';
import { tsToDate } from '@temporalio/common/lib/time.js';
import {
  decodeFromPayloadsAtIndex,
  decodeOptionalFailureToOptionalError,
  decodeOptionalSinglePayload,
} from '@temporalio/common/lib/internal-non-workflow/codec-helpers.js';
import proto from '@temporalio/proto';
import { APPROVAL_MEMO_KEY, type ApprovalMemo } from '../workflows/contract.js';

const EventType = proto.temporal.api.enums.v1.EventType;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

export interface ActivityRun {
  activityType: string;
  input: unknown;
  scheduledAt: Date;
  /** The attempt that ended it (1 when it was not retried). */
  attempts: number;
  state: 'completed' | 'failed' | 'timed-out' | 'canceled' | 'open';
  result?: unknown;
  failure?: string;
  /** When it completed, failed, timed out or was canceled. */
  closedAt?: Date;
}

export interface DecisionEvent {
  at: Date;
  kind: 'approve' | 'reject';
  via: 'signal' | 'update';
  /** The signal's or the Update's argument, as sent. */
  input: Record<string, unknown>;
  /** An Update's answer (a DecisionOutcome), or its refusal. */
  answer?: unknown;
  refusal?: string;
}

export interface MonthHistory {
  startedAt: Date;
  /** The workflow's input (MonthlyDeductionInput), as started. */
  input: Record<string, unknown>;
  activities: ActivityRun[];
  decisions: DecisionEvent[];
  /** The approval memos upserted, oldest first (the tables put before approvers). */
  approvalMemos: { at: Date; memo: ApprovalMemo }[];
}

function eventTime(event: HistoryEvent): Date {
  return event.eventTime ? tsToDate(event.eventTime) : new Date(0);
}

function eventId(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}

/** Reads and decodes the history of one run. */
export async function readMonthHistory(client: Client, workflowId: string, runId: string): Promise<MonthHistory> {
  const converter = client.options.loadedDataConverter;
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const events = history.events ?? [];
  const month: MonthHistory = { startedAt: new Date(0), input: {}, activities: [], decisions: [], approvalMemos: [] };
  const byScheduledId = new Map<number, ActivityRun>();
  const updates = new Map<string, DecisionEvent>();
  const failureText = async (failure: proto.temporal.api.failure.v1.IFailure | null | undefined) =>
    (await decodeOptionalFailureToOptionalError(converter, failure))?.message ?? 'no reason recorded';

  for (const event of events) {
    const at = eventTime(event);
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
        const attrs = event.workflowExecutionStartedEventAttributes;
        month.startedAt = at;
        month.input = asRecord(await decodeFromPayloadsAtIndex(converter, 0, attrs?.input?.payloads));
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const attrs = event.activityTaskScheduledEventAttributes;
        const run: ActivityRun = {
          activityType: attrs?.activityType?.name ?? '',
          input: await decodeFromPayloadsAtIndex(converter, 0, attrs?.input?.payloads),
          scheduledAt: at,
          attempts: 1,
          state: 'open',
        };
        byScheduledId.set(eventId(event.eventId), run);
        month.activities.push(run);
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const attrs = event.activityTaskStartedEventAttributes;
        const run = byScheduledId.get(eventId(attrs?.scheduledEventId));
        if (run) run.attempts = attrs?.attempt ?? 1;
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const attrs = event.activityTaskCompletedEventAttributes;
        const run = byScheduledId.get(eventId(attrs?.scheduledEventId));
        if (!run) break;
        run.state = 'completed';
        run.closedAt = at;
        run.result = await decodeFromPayloadsAtIndex(converter, 0, attrs?.result?.payloads);
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
      case EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: {
        const failed = event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED;
        const attrs = failed ? event.activityTaskFailedEventAttributes : event.activityTaskTimedOutEventAttributes;
        const run = byScheduledId.get(eventId(attrs?.scheduledEventId));
        if (!run) break;
        run.state = failed ? 'failed' : 'timed-out';
        run.closedAt = at;
        run.failure = await failureText(attrs?.failure);
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: {
        const run = byScheduledId.get(eventId(event.activityTaskCanceledEventAttributes?.scheduledEventId));
        if (!run) break;
        run.state = 'canceled';
        run.closedAt = at;
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: {
        const attrs = event.workflowExecutionSignaledEventAttributes;
        const name = attrs?.signalName;
        if (name !== 'approve' && name !== 'reject') break;
        const input = asRecord(await decodeFromPayloadsAtIndex(converter, 0, attrs?.input?.payloads));
        month.decisions.push({ at, kind: name, via: 'signal', input });
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: {
        const request = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
        const name = request?.input?.name;
        if (name !== 'approve' && name !== 'reject') break;
        const input = asRecord(await decodeFromPayloadsAtIndex(converter, 0, request?.input?.args?.payloads));
        const decision: DecisionEvent = { at, kind: name, via: 'update', input };
        updates.set(request?.meta?.updateId ?? '', decision);
        month.decisions.push(decision);
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED: {
        const attrs = event.workflowExecutionUpdateCompletedEventAttributes;
        const decision = updates.get(attrs?.meta?.updateId ?? '');
        if (!decision) break;
        if (attrs?.outcome?.failure) decision.refusal = await failureText(attrs.outcome.failure);
        else decision.answer = await decodeFromPayloadsAtIndex(converter, 0, attrs?.outcome?.success?.payloads);
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED: {
        const payload = event.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.[APPROVAL_MEMO_KEY];
        const memo = await decodeOptionalSinglePayload<ApprovalMemo>(converter, payload);
        if (memo) month.approvalMemos.push({ at, memo });
        break;
      }
      default:
        break;
    }
  }
  return month;
}
