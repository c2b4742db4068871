/**
 * Where checked invoice rows live between the CLI and the workers: one content-addressed JSON file
 * per invoices file, `<INVOICE_FILES_DIR>/<sha256>.json`, in a folder both can read. The workflow
 * input carries only the sha256 and the row count; the activity reads the file and checks both, so
 * a missing or altered file fails the month naming it (docs/protocol.md, candidate invoices).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { InvoiceFileRow } from '../protocol/invoicesFile.js';

export const INVOICE_FILES_DIR_VARIABLE = 'INVOICE_FILES_DIR';
/** The default folder: the project's `.data/invoice-files`. */
export const DEFAULT_INVOICE_FILES_DIR = fileURLToPath(new URL('../.data/invoice-files', import.meta.url));
const FORMAT = 'vat-deduction/invoice-rows@1';

const StoredRows = z.object({ format: z.literal(FORMAT), rows: z.array(InvoiceFileRow) }).strict();

/** The folder of stored invoice rows: INVOICE_FILES_DIR (relative to the working directory), or the default. */
export function invoiceFilesDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env[INVOICE_FILES_DIR_VARIABLE];
  if (!dir) return DEFAULT_INVOICE_FILES_DIR;
  return isAbsolute(dir) ? dir : resolve(dir);
}

export interface StoredInvoiceRows {
  sha256: string;
  rows: number;
  path: string;
}

export function storedRowsPath(dir: string, sha256: string): string {
  return join(dir, `${sha256}.json`);
}

/** Writes checked rows (once: the same rows give the same file) and names the file by its sha256. */
export function storeInvoiceRows(dir: string, rows: readonly InvoiceFileRow[]): StoredInvoiceRows {
  const bytes = Buffer.from(`${JSON.stringify({ format: FORMAT, rows })}\n`, 'utf8');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const path = storedRowsPath(dir, sha256);
  mkdirSync(dir, { recursive: true });
  if (!existsSync(path)) {
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, bytes, { mode: 0o640 });
    renameSync(temporary, path);
  }
  return { sha256, rows: rows.length, path };
}

/** The stored rows are missing, altered or unreadable: retrying can't help (the month fails naming the file). */
export class InvoiceRowsUnusable extends Error {
  override name = 'InvoiceRowsUnusable';
}

/** Reads stored rows and checks that they are the ones the month was started with. */
export function readInvoiceRows(dir: string, ref: { sha256: string; rows: number }): InvoiceFileRow[] {
  // The name is a digest, never a path: nothing outside the folder can be named.
  if (!/^[0-9a-f]{64}$/.test(ref.sha256)) {
    throw new InvoiceRowsUnusable(`the invoices file reference ${JSON.stringify(ref.sha256)} is not a sha256`);
  }
  const path = storedRowsPath(dir, ref.sha256);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new InvoiceRowsUnusable(
      `the invoices file ${path} is missing on this worker (${code}): the month was started with rows sha256 ${ref.sha256}; ` +
        `${INVOICE_FILES_DIR_VARIABLE} must name the folder the CLI wrote them to`,
    );
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== ref.sha256) {
    throw new InvoiceRowsUnusable(
      `the invoices file ${path} was altered: its sha256 is ${actual}, the month was started with ${ref.sha256}`,
    );
  }
  let parsed: z.infer<typeof StoredRows>;
  try {
    parsed = StoredRows.parse(JSON.parse(bytes.toString('utf8')));
  } catch (error) {
    throw new InvoiceRowsUnusable(`the invoices file ${path} is not readable: ${(error as Error).message}`);
  }
  if (parsed.rows.length !== ref.rows) {
    throw new InvoiceRowsUnusable(
      `the invoices file ${path} holds ${parsed.rows.length} rows, the month was started with ${ref.rows}`,
    );
  }
  return parsed.rows;
}
