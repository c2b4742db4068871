import assert from 'node:assert/strict';
import { plannedReminders } from '../rules/reminders.js';

const DEADLINE = new Date('2026-12-14T00:00:00+08:00');

describe('approval reminders: which instants lie ahead', () => {
  it('plans one reminder per offset before the deadline, earliest first', () => {
    const now = new Date('2026-12-05T10:00:00+08:00');
    const planned = plannedReminders(DEADLINE, [2, 48, 24], now);
    assert.deepEqual(
      planned.map((r) => [r.hoursBeforeDeadline, r.at.toISOString()]),
      [
        [48, '2026-12-11T16:00:00.000Z'],
        [24, '2026-12-12T16:00:00.000Z'],
        [2, '2026-12-13T14:00:00.000Z'],
      ],
    );
  });

  it('skips reminders whose instant has passed or is now', () => {
    const now = new Date('2026-12-13T00:00:00+08:00'); // exactly 24 h before the deadline
    const planned = plannedReminders(DEADLINE, [48, 24, 2], now);
    assert.deepEqual(
      planned.map((r) => r.hoursBeforeDeadline),
      [2],
    );
  });

  it('plans nothing once the deadline has passed, and nothing for no offsets', () => {
    assert.deepEqual(plannedReminders(DEADLINE, [48, 2], new Date('2026-12-14T00:00:01+08:00')), []);
    assert.deepEqual(plannedReminders(DEADLINE, [], new Date('2026-12-01T00:00:00+08:00')), []);
  });

  it('drops duplicate and non-positive offsets, and keeps fractional hours', () => {
    const now = new Date('2026-12-01T00:00:00+08:00');
    const planned = plannedReminders(DEADLINE, [24, 24, 0, -3, 0.5], now);
    assert.deepEqual(
      planned.map((r) => [r.hoursBeforeDeadline, r.at.toISOString()]),
      [
        [24, '2026-12-12T16:00:00.000Z'],
        [0.5, '2026-12-13T15:30:00.000Z'],
      ],
    );
  });
});
