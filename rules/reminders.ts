const HOUR_MS = 3_600_000;

export interface PlannedReminder {
  /** The configured offset this reminder comes from. */
  hoursBeforeDeadline: number;
  /** When to remind. */
  at: Date;
}

/**
 * The reminders still worth sending: one per distinct offset, at `deadline - hours`, keeping only
 * instants strictly after `now` (a month that starts late skips the reminders already due) and
 * before the deadline. Earliest first.
 */
export function plannedReminders(
  approvalDeadline: Date,
  hoursBeforeDeadline: readonly number[],
  now: Date,
): PlannedReminder[] {
  const offsets = [...new Set(hoursBeforeDeadline.filter((h) => Number.isFinite(h) && h > 0))];
  return offsets
    .map((hours) => ({ hoursBeforeDeadline: hours, at: new Date(approvalDeadline.getTime() - hours * HOUR_MS) }))
    .filter((r) => r.at.getTime() > now.getTime())
    .sort((a, b) => a.at.getTime() - b.at.getTime());
}
