import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { readInvoiceRows, storeInvoiceRows, storedRowsPath } from '../activities/invoiceFileStore.js';
import { InvoicesFileError, readInvoicesFile } from '../client/invoicesFileReader.js';
import { checkInvoiceRows, INVOICE_FILE_COLUMNS, type InvoiceFileRow } from '../protocol/invoicesFile.js';
import { describeRows } from '../rules/selectionPolicy.js';

/** The invoices file of the company's own system: reading CSV and xlsx, checking every row, storing the rows. */

const HEADER = INVOICE_FILE_COLUMNS.join(',');
const GOOD = '27,,26442000000000000001,,2026-11-10,100.00,13.00,113.00,91440300591872133B,深圳供应商有限公司';

describe('invoices file: reading and checking rows', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'invoices-file-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function csv(name: string, text: string | Buffer): string {
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  }

  async function problems(file: string): Promise<string> {
    try {
      await readInvoicesFile(file);
    } catch (error) {
      assert.ok(error instanceof InvoicesFileError, String(error));
      return error.message;
    }
    assert.fail('the file was accepted');
  }

  it('reads a UTF-8 CSV (with BOM) and normalises money to two decimals and dates to YYYY-MM-DD', async () => {
    const file = csv(
      'march.csv',
      `\uFEFF${HEADER},remark\n${GOOD},ignored\n4,044001900111,00012345,,2026/11/5,1000,130,1130,914403007451947782,"纸质, 专票",\n\n`,
    );
    const read = await readInvoicesFile(file);
    assert.equal(read.format, 'csv');
    assert.equal(read.fileName, 'march.csv');
    assert.deepEqual(read.rows, [
      {
        row: 2,
        invoiceType: '27',
        invoiceCode: '',
        invoiceNo: '26442000000000000001',
        etaxInvoiceNo: '',
        invoiceDate: '2026-11-10',
        invoiceAmount: '100.00',
        effectiveTaxAmount: '13.00',
        totalTaxAmount: '113.00',
        salerTaxNo: '91440300591872133B',
        salerName: '深圳供应商有限公司',
        agricultural: false,
      },
      {
        row: 3,
        invoiceType: '4',
        invoiceCode: '044001900111',
        invoiceNo: '00012345',
        etaxInvoiceNo: '',
        invoiceDate: '2026-11-05',
        invoiceAmount: '1000.00',
        effectiveTaxAmount: '130.00',
        totalTaxAmount: '1130.00',
        salerTaxNo: '914403007451947782',
        salerName: '纸质, 专票',
        agricultural: false,
      },
    ]);
  });

  it('reads the first sheet of an .xlsx: dates, number and text cells, rich text, formulas', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('进项发票');
    sheet.addRow([...INVOICE_FILE_COLUMNS, 'agricultural']);
    sheet.addRow([
      27,
      '',
      '26442000000000000001',
      '',
      new Date(Date.UTC(2026, 10, 10)),
      100,
      13,
      113,
      '91440300591872133B',
      { richText: [{ text: '深圳' }, { text: '供应商' }] },
      '',
    ]);
    sheet.addRow([
      3,
      '044001900111',
      '00012345',
      '',
      '2026-11-05',
      { formula: 'A1', result: 250.5 },
      22.55,
      '273.05',
      '',
      '农场',
      '是',
    ]);
    const file = join(dir, 'march.xlsx');
    await workbook.xlsx.writeFile(file);
    const read = await readInvoicesFile(file);
    assert.equal(read.format, 'xlsx');
    assert.deepEqual(
      read.rows.map((r) => [
        r.row,
        r.invoiceType,
        r.invoiceDate,
        r.invoiceAmount,
        r.effectiveTaxAmount,
        r.salerName,
        r.agricultural,
      ]),
      [
        [2, '27', '2026-11-10', '100.00', '13.00', '深圳供应商', false],
        [3, '3', '2026-11-05', '250.50', '22.55', '农场', true],
      ],
    );
  });

  it('names every bad row by row number, column and value', async () => {
    const file = csv(
      'bad.csv',
      [
        HEADER,
        GOOD,
        '27,,26442000000000000002,,2026-13-01,100.00,13.00,113.00,,',
        '27,,,,2026-11-10,100.001,13.00,113.00,,',
        '27,,26442000000000000001,,2026-11-11,100.00,13.00,113.00,,',
        'x,0440019001,26442000000000000004,,2026-11-10,"1,000.00",13.00,113.00,abc,',
      ].join('\n'),
    );
    const message = await problems(file);
    assert.match(message, /7 problems, nothing was started/);
    assert.match(message, /row 3, column invoiceDate, value "2026-13-01": must be a calendar date, YYYY-MM-DD/);
    assert.match(message, /row 4, column invoiceNo, value "": is required/);
    assert.match(
      message,
      /row 4, column invoiceAmount, value "100.001": must be an amount in yuan with at most 2 decimals/,
    );
    assert.match(
      message,
      /row 5, column invoiceNo, value "26442000000000000001": the invoice 26442000000000000001 is already on row 2/,
    );
    assert.match(message, /row 6, column invoiceType, value "x": must be one 发票云 invoice type code/);
    assert.match(message, /row 6, column invoiceAmount, value "1,000.00": .*no thousands separators/);
    assert.match(message, /row 6, column salerTaxNo, value "abc": must be empty or a taxpayer number/);
  });

  it('refuses xlsx number cells that lost digits or leading zeros', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('s');
    sheet.addRow([...INVOICE_FILE_COLUMNS]);
    // What a spreadsheet keeps of 26442000000000000001 typed into a number cell.
    sheet.addRow([27, '', Number('26442000000000000001'), '', '2026-11-10', 100, 13, 113, '', '']);
    sheet.addRow([4, 44001900111, '12345678', '', '2026-11-10', 100, 13, 113, '', '']);
    const file = join(dir, 'numbers.xlsx');
    await workbook.xlsx.writeFile(file);
    const message = await problems(file);
    assert.match(
      message,
      /row 2, column invoiceNo, value "26442000000000000000": .*loses digits: format the column as text/,
    );
    assert.match(message, /row 3, column invoiceCode, value "44001900111": .*loses leading zeros/);
  });

  it('refuses a header without the 4.05 columns, naming the missing ones', async () => {
    const message = await problems(csv('header.csv', 'invoiceType,invoiceno,invoiceDate\n27,1,2026-11-10\n'));
    assert.match(
      message,
      /row 1, column invoiceNo: the header has no column invoiceNo \(found "invoiceno": names are case-sensitive\)/,
    );
    assert.match(message, /row 1, column totalTaxAmount: the header has no column totalTaxAmount/);
  });

  it('refuses a file that is empty, not UTF-8, or neither .csv nor .xlsx', async () => {
    assert.match(await problems(csv('empty.csv', `${HEADER}\n`)), /file: the file holds no invoice rows/);
    const gbk = Buffer.concat([
      Buffer.from(`${HEADER}\n27,,1,,2026-11-10,1.00,0.13,1.13,,`),
      Buffer.from([0xc9, 0xee, 0xdb, 0xda]),
    ]);
    assert.match(await problems(csv('gbk.csv', gbk)), /is not UTF-8 text: save it as 'CSV UTF-8'/);
    assert.match(await problems(csv('old.xls', 'x')), /unknown file type ".xls".*save the .xls workbook as .xlsx/);
    assert.match(await problems(join(dir, 'nowhere.csv')), /cannot be read \(ENOENT\)/);
  });

  it('checks rows without a reader: ignores blank rows, counts all problems', () => {
    const checked = checkInvoiceRows(INVOICE_FILE_COLUMNS, [
      { row: 2, cells: ['', '', '', '', '', '', '', '', '', ''] },
      { row: 3, cells: GOOD.split(',') },
    ]);
    assert.deepEqual([checked.problems, checked.rows.map((r) => r.row)], [[], [3]]);
  });
});

describe('invoices file: the stored rows', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'invoice-rows-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const rows: InvoiceFileRow[] = checkInvoiceRows(INVOICE_FILE_COLUMNS, [{ row: 2, cells: GOOD.split(',') }]).rows;

  it('stores rows once under their sha256 and reads them back', () => {
    const stored = storeInvoiceRows(dir, rows);
    assert.match(stored.sha256, /^[0-9a-f]{64}$/);
    assert.equal(stored.path, storedRowsPath(dir, stored.sha256));
    assert.deepEqual(storeInvoiceRows(dir, rows), stored, 'the same rows, the same file');
    assert.deepEqual(readdirSync(dir), [`${stored.sha256}.json`]);
    assert.deepEqual(readInvoiceRows(dir, stored), rows);
  });

  it('fails naming the file when it is missing, altered, or holds another row count', () => {
    const stored = storeInvoiceRows(dir, rows);
    assert.throws(() => readInvoiceRows(dir, { ...stored, rows: 2 }), /holds 1 rows, the month was started with 2/);
    writeFileSync(stored.path, '{"format":"vat-deduction/invoice-rows@1","rows":[]}\n');
    assert.throws(
      () => readInvoiceRows(dir, stored),
      new RegExp(
        `the invoices file ${stored.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} was altered: its sha256 is [0-9a-f]{64}, the month was started with ${stored.sha256}`,
      ),
    );
    rmSync(stored.path);
    assert.throws(() => readInvoiceRows(dir, stored), /is missing on this worker \(ENOENT\).*INVOICE_FILES_DIR/);
  });

  it('writes skipped rows as ranges, cut short with a count', () => {
    assert.equal(describeRows([7, 2, 3, 4, 9, 10]), '2-4, 7, 9-10');
    assert.equal(describeRows([]), '');
    const alternate = Array.from({ length: 1000 }, (_, i) => 2 + i * 2);
    const text = describeRows(alternate, 50);
    assert.match(text, /^2, 4, 6, .* … and \d+ more rows$/);
    assert.ok(text.length < 80);
  });
});
