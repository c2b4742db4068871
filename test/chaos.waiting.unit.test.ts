import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  describeStep,
  pendingStep,
  STEP_GRACE_MS,
  stillWaiting,
  type PendingActivities,
} from '../scripts/chaos/runChaos.js';
import { testToday } from './support/calendar.js';

/**
 * When the chaos run stops waiting for the months still open (scripts/chaos/runChaos.ts): a month
 * whose next attempt its retry policy scheduled past the run's timeout is waited for, not counted
 * as stuck; a month that goes nowhere is given up on.
 */
// Whole seconds: Temporal gives attempt times in seconds.
const start = Math.floor(testToday().getTime() / 1000) * 1000;
const deadline = start + 15 * 60_000;
const lastChance = deadline + 32 * 60_000;
const seconds = (ms: number) => ({ seconds: Math.floor(ms / 1000) });

function backingOff(nextAttemptAt: number): PendingActivities {
  return [
    {
      activityType: { name: 'requestConfirmation' },
      attempt: 8,
      nextAttemptScheduleTime: seconds(nextAttemptAt),
      lastFailure: { message: 'statisticConfirm: [HTTP_503] HTTP 503' },
    },
  ];
}

describe('chaos run: waiting for months past the timeout', () => {
  it('waits for a confirmation whose next attempt is scheduled ten minutes after the timeout', () => {
    const next = deadline + 10 * 60_000;
    const step = pendingStep(backingOff(next), undefined, deadline);
    assert.equal(step.dueAt, next);
    assert.equal(step.activity, 'requestConfirmation');
    assert.ok(stillWaiting([step], deadline + 60_000, deadline, lastChance));
    assert.ok(stillWaiting([step], next + STEP_GRACE_MS - 1000, deadline, lastChance));
    assert.ok(!stillWaiting([step], next + STEP_GRACE_MS + 1000, deadline, lastChance), 'that attempt had its time');
    assert.match(describeStep(step), /attempt 8 of requestConfirmation scheduled for .*HTTP 503/);
  });

  it('always waits before the timeout, never past the last chance', () => {
    const step = pendingStep(backingOff(lastChance + 60_000), undefined, deadline);
    assert.ok(stillWaiting([], start, deadline, lastChance));
    assert.ok(!stillWaiting([step], lastChance, deadline, lastChance));
  });

  it('looks at every open month at least once when the chaos plan ends after the timeout', () => {
    assert.ok(stillWaiting([undefined], deadline + 60_000, deadline, lastChance), 'an open month not looked at yet');
    assert.ok(!stillWaiting([undefined], lastChance, deadline, lastChance));
  });

  it('gives a month with no step pending, or one attempt running, two minutes from when it was first seen', () => {
    const seen = deadline + 5000;
    const idle = pendingStep([], undefined, seen);
    assert.equal(idle.activity, undefined);
    // Seen again later in the same state: still counted from the first look.
    const again = pendingStep([], idle, seen + 60_000);
    assert.equal(again.dueAt, seen);
    assert.ok(stillWaiting([again], seen + STEP_GRACE_MS - 1000, deadline, lastChance));
    assert.ok(!stillWaiting([again], seen + STEP_GRACE_MS + 1000, deadline, lastChance), 'a month going nowhere');

    const running: PendingActivities = [{ activityType: { name: 'submitSelection' }, attempt: 3 }];
    const first = pendingStep(running, undefined, seen);
    assert.equal(pendingStep(running, first, seen + 30_000).dueAt, seen);
    // The next attempt is another step: it is due anew.
    const next: PendingActivities = [{ activityType: { name: 'submitSelection' }, attempt: 4 }];
    assert.equal(pendingStep(next, first, seen + 30_000).dueAt, seen + 30_000);
  });
});
