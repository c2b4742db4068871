/**
 * Reads an invoices file from the company's own system: a CSV (UTF-8, header row) or the first
 * sheet of an .xlsx workbook (header in row 1), then checks every row (protocol/invoicesFile.ts).
 * csv-parse and exceljs do the reading; nothing here trusts a cell before it is checked.
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import {
  checkInvoiceRows,
  describeProblems,
  type Cell,
  type CheckedFile,
  type RawRecord,
  type RowProblem,
} from '../protocol/invoicesFile.js';

/** The file cannot be used: every problem named by row, column and value (CLI exit code 2). */
export class InvoicesFileError extends Error {
  override name = 'InvoicesFileError';
  constructor(
    readonly file: string,
    readonly problems: RowProblem[],
  ) {
    super(describeProblems(file, problems));
  }
}

export type InvoicesFileFormat = 'csv' | 'xlsx';

export interface ReadInvoicesFile extends CheckedFile {
  format: InvoicesFileFormat;
  fileName: string;
}

function formatOf(file: string): InvoicesFileFormat {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.xlsx') return 'xlsx';
  throw new InvoicesFileError(file, [
    {
      message: `unknown file type ${JSON.stringify(ext || '(none)')}: give a .csv (UTF-8) or an .xlsx file${ext === '.xls' ? ' (save the .xls workbook as .xlsx)' : ''}`,
    },
  ]);
}

/** Header and records of a CSV; row numbers are the file's line numbers. */
export function csvRecords(bytes: Buffer, file = 'the file'): { header: Cell[]; records: RawRecord[] } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InvoicesFileError(file, [
      { message: "is not UTF-8 text: save it as 'CSV UTF-8' (or as .xlsx), not in the local code page (GBK)" },
    ]);
  }
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    parsed = parse(text, { bom: true, info: true, relax_column_count: true, skip_empty_lines: true }) as unknown as {
      record: string[];
      info: { lines: number };
    }[];
  } catch (error) {
    const e = error as Error & { lines?: number };
    throw new InvoicesFileError(file, [
      { ...(e.lines ? { row: e.lines } : {}), message: `not readable as CSV: ${e.message}` },
    ]);
  }
  const [first, ...rest] = parsed;
  return {
    header: first?.record ?? [],
    records: rest.map((r) => ({ row: r.info.lines, cells: r.record })),
  };
}

/** What an exceljs cell value holds, as a plain cell. */
function plainCell(value: ExcelJS.CellValue): Cell {
  if (value === null || value === undefined) return '';
  if (value instanceof Date || typeof value !== 'object') return value;
  if ('richText' in value) return value.richText.map((t) => t.text).join('');
  if ('formula' in value || 'sharedFormula' in value) {
    const result = (value as { result?: ExcelJS.CellValue }).result;
    return result === undefined ? '' : plainCell(result);
  }
  if ('hyperlink' in value) return String(value.text);
  if ('error' in value) return String(value.error);
  return String(value as unknown);
}

/** Header (row 1) and records of the workbook's first sheet; row numbers are the sheet's. */
export async function xlsxRecords(bytes: Buffer, file = 'the file'): Promise<{ header: Cell[]; records: RawRecord[] }> {
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(bytes as unknown as ArrayBuffer);
  } catch (error) {
    throw new InvoicesFileError(file, [{ message: `not readable as an .xlsx workbook: ${(error as Error).message}` }]);
  }
  const sheet = workbook.worksheets[0];
  if (!sheet) throw new InvoicesFileError(file, [{ message: 'the workbook has no sheet' }]);
  const header: Cell[] = [];
  const records: RawRecord[] = [];
  sheet.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    const values = (row.values as ExcelJS.CellValue[]).slice(1);
    const cells = Array.from({ length: values.length }, (_, i) => plainCell(values[i]));
    if (rowNumber === 1) header.push(...cells);
    else records.push({ row: rowNumber, cells });
  });
  return { header, records };
}

/** Reads and checks an invoices file; throws InvoicesFileError naming every problem. */
export async function readInvoicesFile(file: string): Promise<ReadInvoicesFile> {
  const format = formatOf(file);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new InvoicesFileError(file, [
      { message: `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` },
    ]);
  }
  const { header, records } = format === 'csv' ? csvRecords(bytes, file) : await xlsxRecords(bytes, file);
  const checked = checkInvoiceRows(header, records);
  if (checked.problems.length > 0) throw new InvoicesFileError(file, checked.problems);
  return { ...checked, format, fileName: basename(file) };
}
