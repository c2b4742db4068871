import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { workflowInfo } from '@temporalio/workflow';

/** Set by the Temporal server on every scheduled run: the nominal time, also for backfills and catch-ups. */
export const ScheduledStartTime = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

/** The schedule's nominal time of this run; undefined for a run no schedule started. */
export function scheduledStartTime(): Date | undefined {
  return workflowInfo().typedSearchAttributes.get(ScheduledStartTime);
}
