import { z } from 'zod';
import { STATISTIC_STATUSES } from '../protocol/codes.js';

/**
 * Drift: a reply that differs from the documented shape without breaking a decision — a field
 * nobody documented, a documented field that is missing, or a code we do not know. Drift is
 * reported (log once per interface and field, metric, capture file), never a failure by itself
 * (docs/protocol.md).
 */
export interface Drift {
  interfaceCode: string;
  /** Dotted path; array items are written `[]` so one field is one report. */
  field: string;
  kind: 'unexpected-field' | 'missing-field' | 'unknown-value';
  /** The value seen, for unknown values. */
  value?: string;
}

/** Fields whose values we know all of: a new one is reported. */
const KNOWN_VALUES: Record<string, readonly string[]> = {
  createTjbbStatus: STATISTIC_STATUSES,
};

function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  for (let i = 0; i < 10; i++) {
    const def = (current as unknown as { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } }).def;
    if (def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else return current;
  }
  return current;
}

/** The documented shape of a reply schema: its object fields, recursively (arrays included). */
function walk(schema: z.ZodType, value: unknown, path: string, interfaceCode: string, out: Drift[]): void {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodArray && Array.isArray(value)) {
    for (const item of value) walk(inner.element as z.ZodType, item, `${path}[]`, interfaceCode, out);
    return;
  }
  if (!(inner instanceof z.ZodObject) || value === null || typeof value !== 'object' || Array.isArray(value)) return;
  const shape = inner.shape as Record<string, z.ZodType>;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const field = path ? `${path}.${key}` : key;
    if (!(key in shape)) out.push({ interfaceCode, field, kind: 'unexpected-field' });
    else walk(shape[key]!, record[key], field, interfaceCode, out);
    const known = KNOWN_VALUES[key];
    if (known && record[key] !== undefined) {
      const seen = String(record[key]).padStart(2, '0');
      if (!known.includes(seen)) out.push({ interfaceCode, field, kind: 'unknown-value', value: String(record[key]) });
    }
  }
  for (const key of Object.keys(shape)) {
    if (!(key in record)) out.push({ interfaceCode, field: path ? `${path}.${key}` : key, kind: 'missing-field' });
  }
}

/** Every drift of a decoded reply against its documented schema, one entry per field. */
export function findDrift(interfaceCode: string, schema: z.ZodType, reply: unknown): Drift[] {
  const out: Drift[] = [];
  walk(schema, reply, '', interfaceCode, out);
  const seen = new Set<string>();
  return out.filter((d) => {
    const key = `${d.kind}|${d.field}|${d.value ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
