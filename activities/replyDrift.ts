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

/** Documented fields of the statistic object (no field of its table is marked optional). */
const STATISTIC_FIELDS = [
  'taxPeriod',
  'skssq',
  'gxrqfw',
  'updateTime',
  'createTjbbStatus',
  'isAllowQxTj',
  'isAllowQrtj',
  'allowChangeSsqBySeason',
  'tjInfo',
  'tjInfoArr',
];
/** Documented fields of a per-invoice result item that are always there (etaxInvoiceNo, selectDate may not be). */
const RESULT_ITEM_FIELDS = [
  'invoiceCode',
  'invoiceNo',
  'invoiceDate',
  'effectiveTaxAmount',
  'taxPeriod',
  'selectResult',
  'description',
];
const resultItems = (list: string) => RESULT_ITEM_FIELDS.map((f) => `${list}[].${f}`);

/**
 * Fields whose absence is drift worth a warning: documented as present, yet not needed for a
 * decision. Fields documented as optional (taxLogin's needAuth, an item's etaxInvoiceNo) or whose
 * whole reply is our guess are not: `doctor` lists those too, the worker does not warn about them.
 */
const EXPECTED_FIELDS: Record<string, readonly string[]> = {
  statisticQuery: STATISTIC_FIELDS,
  statisticCreateQuery: STATISTIC_FIELDS,
  statisticConfirmResult: STATISTIC_FIELDS,
  invoiceSelectQuery: [...resultItems('success'), ...resultItems('fail')],
  invoiceSelect: [...resultItems('success'), ...resultItems('fail')],
};

/** Whether a worker should report this drift: every unexpected field or value, and expected fields missing. */
export function isReportable(drift: Drift): boolean {
  return drift.kind !== 'missing-field' || (EXPECTED_FIELDS[drift.interfaceCode] ?? []).includes(drift.field);
}
