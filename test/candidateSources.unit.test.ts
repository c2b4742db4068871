import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INVOICE_FILES_DIR_VARIABLE, storeInvoiceRows } from '../activities/invoiceFileStore.js';
import type { InvoiceCloudClient } from '../activities/invoiceCloudClient.js';
import { fromDownload, planCandidates } from '../activities/selectionCandidates.js';
import { runCli } from '../client/cli.js';
import { scheduleOptionsFor } from '../client/schedules.js';
import { RegistryEntry } from '../config/registrySchema.js';
import { InvoiceDownQueryReply, type SelectResultItem } from '../protocol/interfaces.js';
import { checkInvoiceRows, INVOICE_FILE_COLUMNS } from '../protocol/invoicesFile.js';
import { DEFAULT_PROFILE } from '../protocol/profile.js';
import { MonthlyDeductionInput } from '../workflows/contract.js';
import type { LauncherInput } from '../workflows/launcherContract.js';
import { TEST_WINDOW, yyyymm } from './support/calendar.js';

/** Candidate sources without servers: planning from a file or a download, the CLI's and the registry's options. */

const { period: PERIOD, deductionDeadline: DEADLINE } = TEST_WINDOW;
const day = (d: number) => `${PERIOD.slice(0, 4)}-${PERIOD.slice(4)}-${String(d).padStart(2, '0')}`;
const NEXT = yyyymm(Number(PERIOD.slice(0, 4)), Number(PERIOD.slice(4)) + 1);
/** A day inside the selection window. */
const TODAY = new Date(`${day(20)}T12:00:00+08:00`);
/** planCandidates never calls the cloud for an invoices file. */
const NO_CLIENT = {} as InvoiceCloudClient;

function fileRows(rows: (string | number)[][]) {
  const checked = checkInvoiceRows(
    INVOICE_FILE_COLUMNS,
    rows.map((cells, i) => ({ row: i + 2, cells })),
  );
  assert.deepEqual(checked.problems, []);
  return checked.rows;
}
const row = (no: string, date = day(10), type = 27) => [type, '', no, '', date, '100.00', '13.00', '113.00', '', ''];

describe('candidate sources: planning from an invoices file and from a download', () => {
  let dir: string;
  const previous = process.env[INVOICE_FILES_DIR_VARIABLE];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'invoice-rows-'));
    process.env[INVOICE_FILES_DIR_VARIABLE] = dir;
  });
  after(() => {
    if (previous === undefined) delete process.env[INVOICE_FILES_DIR_VARIABLE];
    else process.env[INVOICE_FILES_DIR_VARIABLE] = previous;
    rmSync(dir, { recursive: true, force: true });
  });

  const query = (round: number, source: { sha256: string; rows: number }, retryOf?: string[]) => ({
    taxNo: '91440300591872133B',
    taxPeriod: PERIOD,
    deductionDeadline: DEADLINE,
    round,
    source: { kind: 'invoices-file' as const, ...source },
    ...(retryOf ? { retryOf } : {}),
  });

  it('round 1 sends the file rows as they are and reports the skipped rows as ranges', async () => {
    const stored = storeInvoiceRows(
      dir,
      fileRows([row('1'), row('2', `${NEXT.slice(0, 4)}-${NEXT.slice(4)}-01`), row('3', day(11), 1), row('4')]),
    );
    const plan = await planCandidates(NO_CLIENT, query(1, stored), TODAY, DEFAULT_PROFILE);
    assert.deepEqual(
      plan.candidates.map((c) => [c.invoiceNo, c.effectiveTaxAmount, c.totalTaxAmount]),
      [
        ['1', '13.00', '113.00'],
        ['4', '13.00', '113.00'],
      ],
    );
    assert.deepEqual(plan.skippedRowRanges, { 'issued-after-period': '3', 'type-not-deductible': '4' });
    assert.deepEqual(plan.selectedForPeriodElsewhere, { count: 0, tax: '0.00' }, 'a file shows no selection');
  });

  it('later rounds send only the rows the previous tasks answered "send again"', async () => {
    const stored = storeInvoiceRows(dir, fileRows([row('1'), row('2'), row('3')]));
    const item = (invoiceNo: string, selectResult: string, description: string): SelectResultItem => ({
      invoiceCode: '',
      invoiceNo,
      selectResult,
      description,
    });
    const pages: string[] = [];
    const plan = await planCandidates(
      NO_CLIENT,
      query(2, stored, ['t1']),
      TODAY,
      DEFAULT_PROFILE,
      async (taskNo, p) => {
        pages.push(`${taskNo}:${p}`);
        return {
          total: 3,
          success: [item('1', '1', '勾选成功')],
          fail: [item('2', '23', '税局登录失败，请重新登录'), item('3', '11', '发票已作废')],
        };
      },
    );
    assert.deepEqual(pages, ['t1:1']);
    assert.deepEqual(
      plan.candidates.map((c) => c.invoiceNo),
      ['2'],
    );
  });

  it('reads a download tolerantly and keeps its selections for the period apart', () => {
    const reply = InvoiceDownQueryReply.parse({
      total: '2',
      invoices: [
        {
          invoiceType: 27,
          invoiceNo: 12345678,
          invoiceDate: `${day(3).replace(/-/g, '')}`,
          invoiceAmount: 100,
          totalTaxAmount: '13.00',
          authenticateFlag: 1,
          taxPeriod: PERIOD,
          extra: 'kept',
        },
        {
          invoiceType: '4',
          invoiceCode: '044001900111',
          invoiceNo: '00012345',
          invoiceDate: `${day(4)} 10:11:12`,
          invoiceAmount: '200.00',
          totalTaxAmount: '26.00',
          totalAmount: '226.00',
          invoiceStatus: '2',
        },
      ],
    });
    const [selected, voided] = reply.invoices.map((d) => fromDownload(d, 'total'));
    assert.deepEqual(
      [selected!.invoiceDate, selected!.selectStatus, selected!.selectPeriod, selected!.totalAmount],
      [day(3), '1', PERIOD, '113.00'],
    );
    assert.deepEqual(
      [
        voided!.invoiceDate,
        voided!.invoiceStatus,
        voided!.line?.totalTaxAmount,
        fromDownload(reply.invoices[1]!, 'tax').line?.totalTaxAmount,
      ],
      [day(4), 2, '226.00', '26.00'],
    );
  });
});

describe('candidate sources: the CLI, the workflow input and the registry', () => {
  async function cli(...args: string[]) {
    let stderr = '';
    let connects = 0;
    const code = await runCli(['node', 'cli', ...args], {
      env: {},
      out: () => undefined,
      err: (t) => (stderr += t),
      connect: () => {
        connects++;
        throw new Error('must not connect');
      },
    });
    return { code, stderr, connects };
  }

  it('refuses an unknown --source and an --invoices-file that does not go with it, before connecting', async () => {
    const base = ['start', '--tax-no', '91440300591872133B', '--period', PERIOD, '--approver', 'wang'];
    const unknown = await cli(...base, '--source', 'pool');
    assert.deepEqual([unknown.code, unknown.connects], [2, 0]);
    assert.match(
      unknown.stderr,
      /--source <kind>' argument 'pool' is invalid\. Allowed choices are sandbox-pool, bureau-download, invoices-file/,
    );
    const both = await cli(...base, '--source', 'bureau-download', '--invoices-file', 'x.csv');
    assert.deepEqual([both.code, both.connects], [2, 0]);
    assert.match(both.stderr, /--invoices-file goes with --source invoices-file, not --source bureau-download/);
    const missing = await cli(...base, '--source', 'invoices-file');
    assert.match(missing.stderr, /--source invoices-file needs --invoices-file/);
    const unreadable = await cli(...base, '--invoices-file', '/nowhere/x.csv');
    assert.deepEqual([unreadable.code, unreadable.connects], [2, 0]);
    assert.match(
      unreadable.stderr,
      /--invoices-file \/nowhere\/x\.csv: 1 problem, nothing was started:\n {2}file: cannot be read \(ENOENT\)/,
    );
  });

  it('refuses a pool filter with a source other than the sandbox pool', () => {
    const parsed = MonthlyDeductionInput.safeParse({
      taxNo: '91440300591872133B',
      taxPeriod: PERIOD,
      poolFilter: { include: { accountStatus: ['Booked'] } },
      candidateSource: { kind: 'bureau-download' },
    });
    assert.equal(parsed.success, false);
    assert.match(parsed.error!.issues[0]!.message, /needs candidateSource sandbox-pool/);
  });

  it('carries the registry choice into the schedule; an invoices-file taxpayer is kept paused', () => {
    const entry = (candidateSource: string) =>
      RegistryEntry.parse({
        taxNo: '91440300591872133B',
        name: '深圳示例科技有限公司',
        approvers: ['王会计'],
        schedule: { dayOfMonth: 3, hour: 9 },
        options: { candidateSource },
      });
    const download = scheduleOptionsFor(entry('bureau-download'));
    const args = (download.action as unknown as { args: [LauncherInput] }).args[0];
    assert.deepEqual(args.candidateSource, { kind: 'bureau-download' });
    assert.equal(download.state?.paused, false);
    const file = scheduleOptionsFor(entry('invoices-file'));
    assert.deepEqual(
      [file.state?.paused, file.state?.note],
      [true, 'candidates from an invoices file: start each month with `start --invoices-file`'],
    );
    assert.equal(
      RegistryEntry.safeParse({ ...entry('sandbox-pool'), options: { candidateSource: 'ftp' } }).success,
      false,
    );
  });
});
