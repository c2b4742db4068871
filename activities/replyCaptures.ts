import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redact } from '../protocol/redaction.js';

/**
 * Capture files: one JSON file per invoice-cloud call, request and reply decoded and redacted, so
 * a tenant's real behaviour can be read, kept and replayed by the sandbox (docs/protocol.md).
 * Secrets (passwords, secrets, tokens, keys) never reach a file.
 */
export interface CaptureRecord {
  capturedAt: string;
  /** The step, as protocol/interfaces.ts names it. */
  interface: string;
  /** The interfaceCode sent on the wire (the profile may rename a step). */
  interfaceCode: string;
  requestId: string;
  request: unknown;
  reply: { errorCode: string; message: string; success: boolean; data?: unknown };
  drift?: unknown[];
  problem?: string;
}

/**
 * Where captures go when none was configured but one must be written (drift, unreadable reply):
 * a folder of this user's, readable by nobody else (captures hold tax numbers and invoices).
 */
export const DEFAULT_CAPTURE_DIR = join(tmpdir(), `vat-invoice-cloud-captures-${process.getuid?.() ?? 'user'}`);

let sequence = 0;

/** Writes one capture (redacted) and returns its path. */
export function writeCapture(dir: string, record: CaptureRecord): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  sequence = (sequence + 1) % 1_000_000;
  const stamp = record.capturedAt.replace(/[-:.]/g, '').replace('T', '-').slice(0, 18);
  const file = join(dir, `${stamp}-${String(sequence).padStart(6, '0')}-${record.interface}.json`);
  const safe: CaptureRecord = {
    ...record,
    request: redact(record.request),
    reply: { ...record.reply, data: redact(record.reply.data) },
  };
  writeFileSync(file, `${JSON.stringify(safe, null, 2)}\n`, { mode: 0o600 });
  return file;
}
