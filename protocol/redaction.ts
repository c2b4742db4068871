/**
 * Redaction of recorded calls: a capture file (written by the worker, replayed by the sandbox)
 * never holds a secret.
 */
const SECRET_KEY = /pass|pwd|secret|securet|token|key|ticket/i;

/** A deep copy with every secret-looking field replaced by "***". */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? '***' : redact(v)]));
  }
  return value;
}
