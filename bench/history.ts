import type { Client, WorkflowHandle } from '@temporalio/client';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];
type Payloads = NonNullable<HistoryEvent['activityTaskScheduledEventAttributes']>['input'];

export function eventTimeMs(event: HistoryEvent): number {
  const t = event.eventTime;
  if (!t) return 0;
  return Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
}

export async function historyEvents(client: Client, workflowId: string): Promise<HistoryEvent[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  return history.events ?? [];
}

/** A completed activity as the history tells it: its input, final attempt and completion time. */
export interface CompletedActivity {
  type: string;
  input: unknown;
  attempt: number;
  scheduledAtMs: number;
  completedAtMs: number;
}

function decodeFirstPayload(payloads: Payloads): unknown {
  const data = payloads?.payloads?.[0]?.data;
  if (!data) return undefined;
  try {
    return JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return undefined;
  }
}

export function completedActivities(events: HistoryEvent[]): CompletedActivity[] {
  const scheduled = new Map<string, HistoryEvent>();
  const started = new Map<string, HistoryEvent>();
  const out: CompletedActivity[] = [];
  for (const e of events) {
    const id = String(e.eventId);
    if (e.activityTaskScheduledEventAttributes) scheduled.set(id, e);
    if (e.activityTaskStartedEventAttributes) {
      started.set(String(e.activityTaskStartedEventAttributes?.scheduledEventId), e);
    }
    if (e.activityTaskCompletedEventAttributes) {
      const key = String(e.activityTaskCompletedEventAttributes?.scheduledEventId);
      const s = scheduled.get(key);
      const st = started.get(key);
      if (!s) continue;
      out.push({
        type: s.activityTaskScheduledEventAttributes?.activityType?.name ?? '',
        input: decodeFirstPayload(s.activityTaskScheduledEventAttributes?.input),
        attempt: st?.activityTaskStartedEventAttributes?.attempt ?? 1,
        scheduledAtMs: eventTimeMs(s),
        completedAtMs: eventTimeMs(e),
      });
    }
  }
  return out;
}

/** Bytes of every payload the events carry (inputs, results, signals): what grows with invoices. */
export function payloadBytes(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (value instanceof Uint8Array) return value.length;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + payloadBytes(v), 0);
  if (typeof value === 'object') {
    return Object.values(value as Record<string, unknown>).reduce((n: number, v) => n + payloadBytes(v), 0);
  }
  return 0;
}
