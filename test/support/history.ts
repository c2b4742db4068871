/**
 * Every text a history holds: the strings of its fields and the UTF-8 of every payload's bytes,
 * so a test can search it for what must not be there.
 */
export function historyText(history: unknown): string {
  const out: string[] = [];
  const visit = (value: unknown): void => {
    if (value === null || value === undefined) return;
    if (typeof value === 'string') out.push(value);
    else if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'));
    else if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === 'object') Object.values(value as Record<string, unknown>).forEach(visit);
  };
  visit(history);
  return out.join('\n');
}

export interface FoundPayload {
  /** Where in the history, e.g. `events.4.workflowExecutionSignaledEventAttributes.input.payloads.0`. */
  path: string;
  metadata?: Record<string, Uint8Array>;
  data: Uint8Array;
}

/** Every payload (an object with `data` bytes and `metadata`) found in a history, with its path. */
export function historyPayloads(history: unknown): FoundPayload[] {
  const out: FoundPayload[] = [];
  const visit = (value: unknown, path: string): void => {
    if (!value || typeof value !== 'object' || value instanceof Uint8Array) return;
    const record = value as Record<string, unknown>;
    if (record.data instanceof Uint8Array && record.metadata && typeof record.metadata === 'object') {
      out.push({ path, ...(record as Omit<FoundPayload, 'path'>) });
      return;
    }
    for (const [key, child] of Object.entries(record)) visit(child, path ? `${path}.${key}` : key);
  };
  visit(history, '');
  return out;
}
