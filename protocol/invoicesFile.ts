import { z } from 'zod';
import { Money } from './money.js';
import { IsoDate } from './period.js';

/**
 * An invoices file from the company's own system: one invoice per row, columns named like the 4.05
 * invoice item (docs/protocol.md, "Candidate invoices"). This module checks the rows a reader (client/invoicesFileReader.ts:
 * CSV or xlsx) found and normalises them: money as decimal strings with two decimals, dates as
 * YYYY-MM-DD. Pure; every problem names the row, the column and the value.
 */

/** The columns every file has (cells of invoiceCode, etaxInvoiceNo, salerTaxNo and salerName may be empty). */
export const INVOICE_FILE_COLUMNS = [
  'invoiceType',
  'invoiceCode',
  'invoiceNo',
  'etaxInvoiceNo',
  'invoiceDate',
  'invoiceAmount',
  'effectiveTaxAmount',
  'totalTaxAmount',
  'salerTaxNo',
  'salerName',
] as const;
/** Optional columns: `agricultural` (农产品, true/false, 1/0, 是/否) lets ordinary invoices (1, 3, 26) be deducted. */
export const OPTIONAL_INVOICE_FILE_COLUMNS = ['agricultural'] as const;

/** The most rows one file may hold (the month reads them on the worker, never in workflow history). */
export const MAX_INVOICE_FILE_ROWS = 20_000;
/** Problems listed at most (the count says how many more). */
export const MAX_PROBLEMS_LISTED = 50;

/** One checked row; `row` is its row number in the file (the header is row 1). */
export const InvoiceFileRow = z
  .object({
    row: z.number().int().positive(),
    invoiceType: z.string().regex(/^\d{1,3}$/),
    invoiceCode: z.string().regex(/^(\d{10}|\d{12})?$/),
    invoiceNo: z.string().regex(/^\d{1,20}$/),
    etaxInvoiceNo: z.string().regex(/^\d{0,20}$/),
    invoiceDate: IsoDate,
    invoiceAmount: Money,
    effectiveTaxAmount: Money,
    totalTaxAmount: Money,
    salerTaxNo: z.string().regex(/^([0-9A-Z]{15,20})?$/),
    salerName: z.string().max(200),
    agricultural: z.boolean(),
  })
  .strict();
export type InvoiceFileRow = z.infer<typeof InvoiceFileRow>;

/** A cell as a reader hands it over (xlsx cells may be numbers, dates or booleans). */
export type Cell = string | number | boolean | Date | null | undefined;

export interface RawRecord {
  /** Row number in the file (the header is row 1). */
  row: number;
  cells: Cell[];
}

export interface RowProblem {
  /** 1 for the header; undefined for the file as a whole. */
  row?: number;
  column?: string;
  value?: string;
  message: string;
}

export function describeProblem(p: RowProblem): string {
  const where = [
    p.row !== undefined ? `row ${p.row}` : 'file',
    p.column !== undefined ? `column ${p.column}` : undefined,
    p.value !== undefined ? `value ${JSON.stringify(p.value)}` : undefined,
  ].filter(Boolean);
  return `${where.join(', ')}: ${p.message}`;
}

/** A file's problems as one message: each on its own line, at most MAX_PROBLEMS_LISTED of them. */
export function describeProblems(source: string, problems: readonly RowProblem[]): string {
  const listed = problems.slice(0, MAX_PROBLEMS_LISTED).map((p) => `  ${describeProblem(p)}`);
  const more = problems.length > listed.length ? [`  … and ${problems.length - listed.length} more problems`] : [];
  return `${source}: ${problems.length} problem${problems.length === 1 ? '' : 's'}, nothing was started:\n${[...listed, ...more].join('\n')}`;
}

type Column = (typeof INVOICE_FILE_COLUMNS)[number] | (typeof OPTIONAL_INVOICE_FILE_COLUMNS)[number];

/** The text of a cell for messages. */
function shown(cell: Cell): string {
  if (cell instanceof Date) return Number.isNaN(cell.getTime()) ? 'Invalid Date' : cell.toISOString();
  return cell === null || cell === undefined ? '' : String(cell);
}

class CellError extends Error {}

/** Digits of a code or number column; a number cell must not have lost digits. */
function digitsOf(cell: Cell, pattern: RegExp, message: string): string {
  if (typeof cell === 'number') {
    if (!Number.isSafeInteger(cell) || cell < 0) {
      throw new CellError(`${message} (a number cell loses digits: format the column as text)`);
    }
    const text = String(cell);
    if (!pattern.test(text))
      throw new CellError(`${message} (a number cell loses leading zeros: format the column as text)`);
    return text;
  }
  const text = shown(cell).trim();
  if (!pattern.test(text)) throw new CellError(message);
  return text;
}

/** Whether YYYY-MM-DD names a real calendar day (2026-02-30 does not). */
function sameDay(iso: string): boolean {
  const date = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === iso;
}

function dateOf(cell: Cell): string {
  if (cell instanceof Date) {
    // Spreadsheet dates carry no time zone: the calendar day is the UTC day of the stored instant.
    if (Number.isNaN(cell.getTime())) throw new CellError('not a date');
    return cell.toISOString().slice(0, 10);
  }
  const text = shown(cell).trim();
  const m =
    /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text) ??
    /^(\d{4})\/(\d{1,2})\/(\d{1,2})$/.exec(text) ??
    /^(\d{4})(\d{2})(\d{2})$/.exec(text);
  const iso = m ? `${m[1]}-${m[2]!.padStart(2, '0')}-${m[3]!.padStart(2, '0')}` : '';
  const valid = m !== null && sameDay(iso);
  if (!valid) throw new CellError('must be a calendar date, YYYY-MM-DD');
  return iso;
}

function moneyOf(cell: Cell): string {
  let text: string;
  if (typeof cell === 'number') {
    if (!Number.isFinite(cell) || Math.round(cell * 100) / 100 !== cell) {
      throw new CellError('must be an amount in yuan with at most 2 decimals');
    }
    text = cell.toFixed(2);
  } else text = shown(cell).trim();
  if (!Money.safeParse(text).success) {
    throw new CellError('must be an amount in yuan with at most 2 decimals, e.g. 238.00 (no thousands separators)');
  }
  const [whole, fraction = ''] = text.split('.');
  return `${whole}.${fraction.padEnd(2, '0')}`;
}

function truthOf(cell: Cell): boolean {
  if (typeof cell === 'boolean') return cell;
  const text = shown(cell).trim().toLowerCase();
  if (['', '0', 'false', 'no', 'n', '否'].includes(text)) return false;
  if (['1', 'true', 'yes', 'y', '是'].includes(text)) return true;
  throw new CellError('must be true or false (1/0, 是/否), or empty');
}

const READERS: Record<Column, (cell: Cell) => string | boolean> = {
  invoiceType: (c) => digitsOf(c, /^\d{1,3}$/, 'must be one 发票云 invoice type code, e.g. 27'),
  invoiceCode: (c) => digitsOf(c, /^(\d{10}|\d{12})?$/, 'must be empty or 10 or 12 digits'),
  invoiceNo: (c) => digitsOf(c, /^\d{1,20}$/, 'is required: up to 20 digits'),
  etaxInvoiceNo: (c) => digitsOf(c, /^\d{0,20}$/, 'must be empty or up to 20 digits'),
  invoiceDate: dateOf,
  invoiceAmount: moneyOf,
  effectiveTaxAmount: moneyOf,
  totalTaxAmount: moneyOf,
  salerTaxNo: (c) => {
    const text = shown(c).trim().toUpperCase();
    if (!/^([0-9A-Z]{15,20})?$/.test(text))
      throw new CellError('must be empty or a taxpayer number of 15-20 letters and digits');
    return text;
  },
  salerName: (c) => {
    const text = shown(c).trim();
    if (text.length > 200) throw new CellError('at most 200 characters');
    return text;
  },
  agricultural: truthOf,
};

export interface CheckedFile {
  rows: InvoiceFileRow[];
  problems: RowProblem[];
}

/**
 * Checks a file's header and rows: every column of INVOICE_FILE_COLUMNS present (other columns are
 * ignored), every cell readable, no invoice twice, at least one row, at most MAX_INVOICE_FILE_ROWS.
 * Rows whose cells are all empty are ignored.
 */
export function checkInvoiceRows(header: readonly Cell[], records: readonly RawRecord[]): CheckedFile {
  const problems: RowProblem[] = [];
  const names = header.map((h, i) => (i === 0 ? shown(h).replace(/^\uFEFF/, '') : shown(h)).trim());
  const index = new Map<string, number>();
  names.forEach((name, i) => {
    if (!name) return;
    if (index.has(name)) problems.push({ row: 1, column: name, message: 'the column appears twice' });
    else index.set(name, i);
  });
  for (const column of INVOICE_FILE_COLUMNS) {
    if (!index.has(column)) {
      const near = names.find((n) => n.toLowerCase() === column.toLowerCase());
      problems.push({
        row: 1,
        column,
        message: `the header has no column ${column}${near ? ` (found ${JSON.stringify(near)}: names are case-sensitive)` : ''}; expected the columns ${INVOICE_FILE_COLUMNS.join(', ')}`,
      });
    }
  }
  if (problems.length > 0) return { rows: [], problems };

  const rows: InvoiceFileRow[] = [];
  const seen = new Map<string, number>();
  const columns: Column[] = [...INVOICE_FILE_COLUMNS, ...OPTIONAL_INVOICE_FILE_COLUMNS.filter((c) => index.has(c))];
  for (const record of records) {
    if (record.cells.every((c) => shown(c).trim() === '')) continue;
    const values: Partial<Record<Column, string | boolean>> = {};
    let ok = true;
    for (const column of columns) {
      const cell = record.cells[index.get(column)!];
      try {
        values[column] = READERS[column](cell);
      } catch (error) {
        if (!(error instanceof CellError)) throw error;
        problems.push({ row: record.row, column, value: shown(cell), message: error.message });
        ok = false;
      }
    }
    if (!ok) continue;
    const row = InvoiceFileRow.parse({ row: record.row, agricultural: false, ...values });
    const key = `${row.invoiceCode}|${row.invoiceNo}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({
        row: record.row,
        column: 'invoiceNo',
        value: row.invoiceNo,
        message: `the invoice ${row.invoiceCode ? `${row.invoiceCode}/` : ''}${row.invoiceNo} is already on row ${first}`,
      });
      continue;
    }
    seen.set(key, record.row);
    rows.push(row);
  }
  if (rows.length === 0 && problems.length === 0) problems.push({ message: 'the file holds no invoice rows' });
  if (rows.length > MAX_INVOICE_FILE_ROWS) {
    problems.push({ message: `${rows.length} invoice rows: at most ${MAX_INVOICE_FILE_ROWS} per file` });
  }
  return { rows: problems.length > 0 ? [] : rows, problems };
}
