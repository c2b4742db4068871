import assert from 'node:assert/strict';
import proto from '@temporalio/proto';
import { defaultPayloadConverter } from '@temporalio/common';
import {
  chooseResetPoint,
  describeResetPoint,
  resetRequestId,
  unansweredWrite,
  type HistoryEvent,
} from '../client/retryMonth.js';

const T = proto.temporal.api.enums.v1.EventType;

/**
 * A history written by hand, event ids from 1: each step an event type, or `['activity', name]`
 * for an ActivityTaskScheduled event given by the workflow task completed last before it. The
 * events are protobuf messages, as fetched: their ids are 64-bit integers (Long).
 */
type Step = number | ['activity', string];

function history(...steps: Step[]): HistoryEvent[] {
  let lastTaskCompleted = 0;
  return steps.map((step, index) => {
    const eventId = index + 1;
    if (Array.isArray(step)) {
      return proto.temporal.api.history.v1.HistoryEvent.fromObject({
        eventId,
        eventType: T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        activityTaskScheduledEventAttributes: {
          activityType: { name: step[1] },
          workflowTaskCompletedEventId: lastTaskCompleted,
        },
      });
    }
    if (step === T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) lastTaskCompleted = eventId;
    return proto.temporal.api.history.v1.HistoryEvent.fromObject({ eventId, eventType: step });
  });
}

/** A workflow task: scheduled, started, completed. */
const TASK = [
  T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
  T.EVENT_TYPE_WORKFLOW_TASK_STARTED,
  T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
];
const activityRan = (name: string, outcome = T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED): Step[] => [
  ['activity', name],
  T.EVENT_TYPE_ACTIVITY_TASK_STARTED,
  outcome,
];

describe('retry: the reset point chosen from a history', () => {
  it('failed after an activity failure: the task that scheduled that activity, which runs again', () => {
    const events = history(
      T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, // 1
      ...TASK, // 2-4
      ...activityRan('logInToBureau'), // 5-7
      T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, // 8: the approval
      ...TASK, // 9-11
      ...activityRan('requestConfirmation', T.EVENT_TYPE_ACTIVITY_TASK_FAILED), // 12-14
      ...TASK, // 15-17
      T.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, // 18: stage FAILED
      T.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, // 19
    );
    const point = chooseResetPoint(events, 'FAILED');
    assert.deepEqual(point, {
      eventId: 11,
      rule: 'last-activity',
      activityType: 'requestConfirmation',
      activityScheduledEventId: 12,
    });
    // The approval (event 8) comes before the point: it is part of the new run, not asked again.
    assert.ok(8 < point!.eventId);
    assert.match(describeResetPoint(point!), /event 11, the workflow task that scheduled requestConfirmation/);
  });

  it('failed by workflow logic after a completed activity: that activity is scheduled again', () => {
    const events = history(
      T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, // 1
      ...TASK, // 2-4
      ...activityRan('logInToBureau'), // 5-7
      ...TASK, // 8-10
      ...activityRan('queryStatistic'), // 11-13: read fine; the workflow then gives up on what it read
      ...TASK, // 14-16
      T.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, // 17
      T.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, // 18
    );
    assert.deepEqual(chooseResetPoint(events, 'FAILED'), {
      eventId: 10,
      rule: 'last-activity',
      activityType: 'queryStatistic',
      activityScheduledEventId: 11,
    });
  });

  it('terminated or timed out while an activity ran: the task that scheduled it', () => {
    const events = history(
      T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, // 1
      ...TASK, // 2-4
      ...activityRan('logInToBureau'), // 5-7
      ...TASK, // 8-10
      ['activity', 'submitSelection'], // 11
      T.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, // 12
    );
    for (const status of ['TERMINATED', 'TIMED_OUT'] as const) {
      assert.equal(chooseResetPoint(events, status)?.eventId, 10, status);
    }
  });

  it('cancelled while waiting for approval (timers, signals after the request): the last task before the request', () => {
    const events = history(
      T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, // 1
      ...TASK, // 2-4
      ...activityRan('queryStatistic'), // 5-7
      ...TASK, // 8-10: enters AWAITING_APPROVAL
      T.EVENT_TYPE_TIMER_STARTED, // 11: the approval deadline
      T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, // 12: an approve refused as invalid
      ...TASK, // 13-15
      T.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED, // 16
      T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, // 17: a signal after the request
      ...TASK, // 18-20
      T.EVENT_TYPE_TIMER_CANCELED, // 21
      ['activity', 'queryStatistic'], // 22: what the cancellation left at the bureau, read after it
      T.EVENT_TYPE_ACTIVITY_TASK_STARTED, // 23
      T.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, // 24
      ...TASK, // 25-27
      T.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, // 28
    );
    const point = chooseResetPoint(events, 'CANCELLED');
    assert.deepEqual(point, { eventId: 15, rule: 'before-cancel-request' });
    assert.match(describeResetPoint(point!), /before the cancellation was requested/);
    // A run that failed after its cancellation was requested is not reset past the request either.
    assert.deepEqual(chooseResetPoint(events, 'FAILED'), { eventId: 15, rule: 'before-cancel-request' });
  });

  it('a run that failed with nothing scheduled: its first workflow task', () => {
    const events = history(
      T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, // 1
      ...TASK, // 2-4: invalid input
      T.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, // 5
    );
    assert.deepEqual(chooseResetPoint(events, 'FAILED'), { eventId: 4, rule: 'first-workflow-task' });
  });

  it('nothing to resume from: no workflow task completed (before the cancellation request)', () => {
    const terminated = history(
      T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
      T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
      T.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    );
    assert.equal(chooseResetPoint(terminated, 'TERMINATED'), undefined);
    const cancelledAtOnce = history(
      T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, // 1
      T.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, // 2
      T.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED, // 3
      T.EVENT_TYPE_WORKFLOW_TASK_STARTED, // 4
      T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, // 5
      T.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, // 6
    );
    assert.equal(chooseResetPoint(cancelledAtOnce, 'CANCELLED'), undefined);
  });

  it('reads event ids as numbers, whether 64-bit integers (Long) or plain numbers', () => {
    const [event] = history(T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
    assert.equal(typeof event!.eventId, 'object', 'the fetched shape: a Long');
    const plain: HistoryEvent[] = [
      { eventId: 4 as unknown as Long, eventType: T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED },
      {
        eventId: 5 as unknown as Long,
        eventType: T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
        activityTaskScheduledEventAttributes: {
          workflowTaskCompletedEventId: 4 as unknown as Long,
          activityType: { name: 'queryStatistic' },
        },
      },
    ];
    assert.equal(chooseResetPoint(plain, 'FAILED')?.eventId, 4);
  });

  it('resets one run with one request id (a repeated retry is the same reset), another run with another', () => {
    const a = resetRequestId('deduction-91440300591872133B-202610', 'run-1');
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(resetRequestId('deduction-91440300591872133B-202610', 'run-1'), a);
    assert.notEqual(resetRequestId('deduction-91440300591872133B-202610', 'run-2'), a);
  });
});

describe('retry: a write of the last step that got no answer', () => {
  const timedOutWith = (details: unknown, scheduledEventId = 2): HistoryEvent =>
    proto.temporal.api.history.v1.HistoryEvent.fromObject({
      eventId: 4,
      eventType: T.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
      activityTaskTimedOutEventAttributes: {
        scheduledEventId,
        failure: {
          message: 'activity ScheduleToClose timeout',
          timeoutFailureInfo: {
            lastHeartbeatDetails: { payloads: [defaultPayloadConverter.toPayload(details)] },
          },
        },
      },
    });
  const scheduled = proto.temporal.api.history.v1.HistoryEvent.fromObject({
    eventId: 2,
    eventType: T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
    activityTaskScheduledEventAttributes: { activityType: { name: 'requestConfirmation' } },
  });

  it('is found in the timed-out activity’s last heartbeat details', () => {
    const events = [scheduled, timedOutWith({ write: 'statistic-confirm', sentAt: 1_796_000_000_000 })];
    assert.deepEqual(unansweredWrite(events), { write: 'statistic-confirm', sentAt: 1_796_000_000_000 });
  });

  it('is nothing when the bureau answered, when other details were kept, or for an earlier activity', () => {
    assert.equal(unansweredWrite([scheduled, timedOutWith({ write: 'statistic-confirm', answered: true })]), undefined);
    assert.equal(unansweredWrite([scheduled, timedOutWith({ round: 1, sent: [] })]), undefined);
    assert.equal(unansweredWrite([scheduled, timedOutWith({ write: 'x', sentAt: 1 }, 99)]), undefined);
    assert.equal(unansweredWrite([scheduled]), undefined);
  });
});
