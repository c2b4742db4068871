import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import proto from '@temporalio/proto';
import ExcelJS from 'exceljs';
import { INVOICE_FILES_DIR_VARIABLE, storeInvoiceRows } from '../activities/invoiceFileStore.js';
import { runCli } from '../client/cli.js';
import { approve, startMonthlyDeduction, statisticAwaitingApproval } from '../client/deductions.js';
import { checkInvoiceRows, INVOICE_FILE_COLUMNS } from '../protocol/invoicesFile.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import type { InvoiceInput } from '../simulator/admin/schemas.js';
import { deductionWorkflowId, type MonthlyDeductionResult } from '../workflows/contract.js';
import { TEST_WINDOW, yyyymm } from './support/calendar.js';
import { startStack, type TestStack } from './support/stack.js';
import { addTaxpayer } from './support/taxpayers.js';
import { waitForStage } from './support/workflows.js';
import { TEST_APPROVERS } from './support/approvers.js';

/**
 * Where candidate invoices come from (a per-taxpayer choice): an invoices file from the company's
 * own system (CSV and xlsx, through the CLI), the bureau download 进项表头归集, and bad files that
 * start nothing. Real parts: dev server, sandbox, worker. Periods and clocks from TEST_WINDOW.
 */
const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500, backoffCoefficient: 1.5 };
/** A day of the test period, and the first day after it. */
const IN_PERIOD = (day: number) => `${PERIOD.slice(0, 4)}-${PERIOD.slice(4)}-${String(day).padStart(2, '0')}`;
const NEXT = (() => {
  const next = yyyymm(Number(PERIOD.slice(0, 4)), Number(PERIOD.slice(4)) + 1);
  return `${next.slice(0, 4)}-${next.slice(4)}-01`;
})();
/**
 * The 2,000-row month's history stays under this (bytes of the encoded history; Temporal stops at
 * 50 MB): 64 KiB for the month, plus at most 64 bytes for each invoice's answer that selection task
 * results keep for the audit report (docs/audit-report.md).
 */
const HISTORY_BYTES_BOUND = 64 * 1024 + 2000 * 64;

/** A deductible 数电 special invoice of the test period (amounts in whole cents, computed exactly). */
function invoice(n: number, overrides: Partial<InvoiceInput> = {}): InvoiceInput {
  const cents = 100_000 + n * 37;
  const taxCents = Math.round((cents * 13) / 100);
  const yuan = (c: number) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;
  return {
    invoiceType: 27,
    invoiceNo: `${PERIOD.slice(2)}44${String(n).padStart(14, '0')}`,
    invoiceDate: IN_PERIOD(1 + (n % 28)),
    salerName: `深圳供应商${n % 7}有限公司`,
    salerTaxNo: '91440300591872133B',
    invoiceAmount: yuan(cents),
    taxAmount: yuan(taxCents),
    totalAmount: yuan(cents + taxCents),
    ...overrides,
  };
}

/** The invoice's row of an invoices file (the 4.05 columns; totalTaxAmount the total, the profile's default). */
function fileRow(i: InvoiceInput): (string | number)[] {
  return [
    i.invoiceType,
    i.invoiceCode ?? '',
    i.invoiceNo,
    i.etaxInvoiceNo ?? '',
    i.invoiceDate,
    i.invoiceAmount,
    i.taxAmount,
    i.totalAmount!,
    i.salerTaxNo ?? '',
    i.salerName ?? '',
  ];
}

function csvText(rows: (string | number)[][]): string {
  return [INVOICE_FILE_COLUMNS.join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n';
}

describe('Candidate sources: an invoices file, the bureau download (real dev server, sandbox, worker)', function () {
  this.timeout(300_000);
  let stack: TestStack;
  let filesDir: string;
  let workDir: string;
  const previousDir = process.env[INVOICE_FILES_DIR_VARIABLE];

  before(async () => {
    filesDir = mkdtempSync(join(tmpdir(), 'invoice-files-'));
    workDir = mkdtempSync(join(tmpdir(), 'company-exports-'));
    // The worker (in this process) and the CLI read the same folder.
    process.env[INVOICE_FILES_DIR_VARIABLE] = filesDir;
    stack = await startStack();
    await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 0, seed: 3 });
    await stack.admin.setClock(SANDBOX_NOW);
    await stack.startWorker();
  });
  after(async () => {
    await stack?.stop();
    if (previousDir === undefined) delete process.env[INVOICE_FILES_DIR_VARIABLE];
    else process.env[INVOICE_FILES_DIR_VARIABLE] = previousDir;
    rmSync(filesDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  });

  /** The operator CLI, in process, against the stack's Temporal. */
  async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await runCli(['node', 'cli', ...args], {
      out: (t) => (out += t),
      err: (t) => (err += t),
      env: { ...process.env, [INVOICE_FILES_DIR_VARIABLE]: filesDir },
      now: () => new Date(SANDBOX_NOW),
      connect: async () =>
        new Client({
          connection: await Connection.connect({ address: stack.temporal.address }),
          namespace: stack.temporal.namespace,
        }),
    });
    return { code, out, err };
  }

  async function newTaxpayer(body: string, pool: InvoiceInput[]): Promise<string> {
    const taxNo = withCheckCharacter(body);
    await addTaxpayer(stack.admin, taxNo, { name: `来源测试${taxNo.slice(-4)}` });
    for (let i = 0; i < pool.length; i += 500) await stack.admin.addInvoices(taxNo, pool.slice(i, i + 500));
    return taxNo;
  }

  /** Invoice numbers the bureau holds selected for the test period. */
  async function selectedAtBureau(taxNo: string): Promise<string[]> {
    const invoices = await stack.admin.listInvoices(taxNo);
    return invoices
      .filter((i) => i.selectStatus === '1' && i.selectPeriod === PERIOD)
      .map((i) => i.invoiceNo)
      .sort();
  }

  /** Invoice numbers of the accepted select writes in the ledger. */
  async function sentToBureau(taxNo: string): Promise<string[]> {
    const writes = await stack.admin.ledger({ taxNo, interfaceCode: 'invoiceSelect' });
    return writes.flatMap((w) => w.invoiceNos).sort();
  }

  function handleOf(taxNo: string) {
    return stack.client.workflow.getHandle(deductionWorkflowId(taxNo, PERIOD));
  }

  async function approveAndFinish(taxNo: string): Promise<MonthlyDeductionResult> {
    await approve(stack.client, taxNo, PERIOD, {
      approver: '王会计',
      statisticDigest: (await statisticAwaitingApproval(stack.client, taxNo, PERIOD)).digest,
    });
    return (await handleOf(taxNo).result()) as MonthlyDeductionResult;
  }

  it('a month from a CSV selects exactly the file invoices and names the rows it skipped', async () => {
    const pool = [
      ...Array.from({ length: 10 }, (_, k) => invoice(k + 1)),
      invoice(11, { invoiceDate: NEXT }),
      invoice(12, { invoiceType: 1 }), // ordinary, not agricultural: not deductible
      invoice(13, { invoiceStatus: 2 }), // void: only the bureau knows
    ];
    const taxNo = await newTaxpayer('91440300MA5C70FX1', pool);
    const inFile = [1, 2, 3, 4, 5, 6, 11, 12, 13].map((n) => pool[n - 1]!);
    const file = join(workDir, 'march.csv');
    writeFileSync(file, csvText(inFile.map(fileRow)));

    const started = await cli(
      'start',
      '--tax-no',
      taxNo,
      '--period',
      PERIOD,
      '--approver',
      '王会计',
      '--invoices-file',
      file,
    );
    assert.equal(started.code, 0, started.err);
    assert.match(started.out, /Invoices file march\.csv: 9 rows checked, stored as .*[0-9a-f]{64}\.json/);
    const handle = handleOf(taxNo);
    const waiting = await waitForStage(handle, 'AWAITING_APPROVAL', 90_000);
    const expected = inFile.slice(0, 6).map((i) => i.invoiceNo);
    assert.match(waiting.selection?.source ?? '', /^invoices file march\.csv \(9 rows, sha256 [0-9a-f]{12}…\)$/);
    // Rows are the file's (header = row 1): invoice 11 on row 8, 12 on row 9.
    assert.deepEqual(waiting.selection?.skippedRows, { 'issued-after-period': '8', 'type-not-deductible': '9' });
    assert.deepEqual(
      [waiting.selection?.candidates, waiting.selection?.selected, waiting.selection?.failed],
      [7, 6, 1],
    );
    assert.equal(
      waiting.selection?.failures[0]?.invoiceNo,
      pool[12]!.invoiceNo,
      'the void invoice failed at the bureau',
    );
    assert.equal(waiting.plannedVersusBureau?.agrees, true);
    const status = await cli('status', '--tax-no', taxNo, '--period', PERIOD);
    assert.match(status.out, /Candidates from 候选来源:\s+invoices file march\.csv/);
    assert.match(status.out, /skipped 未选: issued-after-period 1 \(rows 8\)/);

    const result = await approveAndFinish(taxNo);
    assert.equal(result.outcome, 'COMPLETED');
    assert.equal(result.statistic?.deductibleCount, 6);
    assert.deepEqual(await selectedAtBureau(taxNo), [...expected].sort(), 'the bureau holds exactly the file invoices');
    assert.deepEqual(await sentToBureau(taxNo), [...expected, pool[12]!.invoiceNo].sort());
  });

  it('a month from an .xlsx sheet (date and number cells, an agricultural column) completes', async () => {
    const pool = [invoice(1), invoice(2), invoice(3, { invoiceType: 1, agricultural: true }), invoice(4), invoice(5)];
    const taxNo = await newTaxpayer('91440300MA5C70FX2', pool);
    const inFile = [pool[0]!, pool[2]!, pool[3]!];
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('进项发票');
    sheet.addRow([...INVOICE_FILE_COLUMNS, 'agricultural']);
    for (const i of inFile) {
      const [y, m, d] = i.invoiceDate.split('-').map(Number);
      const row = fileRow(i);
      row[4] = new Date(Date.UTC(y!, m! - 1, d!)) as unknown as string;
      row[5] = Number(i.invoiceAmount);
      row[6] = Number(i.taxAmount);
      sheet.addRow([...row, i.agricultural ? '是' : '否']);
    }
    const file = join(workDir, 'march.xlsx');
    await workbook.xlsx.writeFile(file);

    const started = await cli(
      'start',
      '--tax-no',
      taxNo,
      '--period',
      PERIOD,
      '--approver',
      '王会计',
      '--invoices-file',
      file,
    );
    assert.equal(started.code, 0, started.err);
    const waiting = await waitForStage(handleOf(taxNo), 'AWAITING_APPROVAL', 90_000);
    assert.equal(waiting.selection?.selected, 3);
    const result = await approveAndFinish(taxNo);
    assert.equal(result.outcome, 'COMPLETED');
    assert.deepEqual(await selectedAtBureau(taxNo), inFile.map((i) => i.invoiceNo).sort());
  });

  it('a month from the bureau download (invoiceDown, invoiceDownQuery) selects the period invoices', async () => {
    const pool = [invoice(1), invoice(2), invoice(3), invoice(4, { invoiceType: 1 })];
    const taxNo = await newTaxpayer('91440300MA5C70FX3', pool);
    // Invoices only the bureau holds until the download collects them; one is of the next month.
    const bureauOnly = [invoice(5), invoice(6), invoice(7, { invoiceDate: NEXT })];
    await stack.admin.addBureauInvoices(taxNo, bureauOnly);

    const started = await cli(
      'start',
      '--tax-no',
      taxNo,
      '--period',
      PERIOD,
      '--approver',
      '王会计',
      '--source',
      'bureau-download',
    );
    assert.equal(started.code, 0, started.err);
    const waiting = await waitForStage(handleOf(taxNo), 'AWAITING_APPROVAL', 90_000);
    assert.match(waiting.selection?.source ?? '', /^bureau download 进项表头归集 task [0-9a-f]{32} \(6 invoices\)$/);
    assert.deepEqual(waiting.selection?.skipped, { 'type-not-deductible': 1 });
    const result = await approveAndFinish(taxNo);
    assert.equal(result.outcome, 'COMPLETED');
    const expected = [1, 2, 3, 5, 6].map((n) => invoice(n).invoiceNo).sort();
    assert.deepEqual(await selectedAtBureau(taxNo), expected);
    // The month's download, and the search of the bureau's selections read before sending (docs/protocol.md).
    assert.equal(
      (await stack.admin.ledger({ taxNo, interfaceCode: 'invoiceDown' })).length,
      2,
      'one download and one selection search',
    );
  });

  it('a bad file is named by row, column and value, and nothing starts', async () => {
    const taxNo = await newTaxpayer('91440300MA5C70FX4', [invoice(1), invoice(2)]);
    const rows = [fileRow(invoice(1)), fileRow(invoice(2))];
    rows[1]![4] = `${PERIOD.slice(0, 4)}-13-01`;
    rows[0]![6] = '13.001';
    const file = join(workDir, 'bad.csv');
    writeFileSync(file, csvText(rows));
    const storedBefore = readdirSync(filesDir).length;

    const refused = await cli(
      'start',
      '--tax-no',
      taxNo,
      '--period',
      PERIOD,
      '--approver',
      '王会计',
      '--invoices-file',
      file,
    );
    assert.equal(refused.code, 2);
    assert.match(refused.err, /bad\.csv: 2 problems, nothing was started/);
    assert.match(refused.err, /row 2, column effectiveTaxAmount, value "13\.001": must be an amount/);
    assert.match(
      refused.err,
      new RegExp(`row 3, column invoiceDate, value "${PERIOD.slice(0, 4)}-13-01": must be a calendar date`),
    );
    await assert.rejects(handleOf(taxNo).describe(), WorkflowNotFoundError);
    assert.equal(readdirSync(filesDir).length, storedBefore, 'no rows stored');
    assert.deepEqual(await stack.admin.ledger({ taxNo }), [], 'no request reached the bureau');
  });

  it('a 2,000-row file: the month selects every row with a small history (size printed)', async () => {
    const pool = Array.from({ length: 2000 }, (_, k) => invoice(k + 1));
    const taxNo = await newTaxpayer('91440300MA5C70FX5', pool);
    const file = join(workDir, 'big.csv');
    writeFileSync(file, csvText(pool.map(fileRow)));

    const started = await cli(
      'start',
      '--tax-no',
      taxNo,
      '--period',
      PERIOD,
      '--approver',
      '王会计',
      '--invoices-file',
      file,
    );
    assert.equal(started.code, 0, started.err);
    const waiting = await waitForStage(handleOf(taxNo), 'AWAITING_APPROVAL', 180_000);
    assert.deepEqual([waiting.selection?.selected, waiting.selection?.taskNos.length], [2000, 4]);
    const atApproval = await historySize(taxNo);
    const result = await approveAndFinish(taxNo);
    assert.equal(result.outcome, 'COMPLETED');
    assert.equal(result.statistic?.deductibleCount, 2000);
    assert.equal((await selectedAtBureau(taxNo)).length, 2000);
    const done = await historySize(taxNo);
    console.log(
      `      2,000-row invoices file: history ${atApproval.events} events / ${atApproval.bytes} bytes at approval, ` +
        `${done.events} events / ${done.bytes} bytes completed (bound ${HISTORY_BYTES_BOUND} bytes)`,
    );
    assert.ok(done.bytes < HISTORY_BYTES_BOUND, `history ${done.bytes} bytes < ${HISTORY_BYTES_BOUND}`);
  });

  it('an altered stored file fails the month naming it; nothing is selected', async () => {
    const taxNo = await newTaxpayer('91440300MA5C70FX6', [invoice(1)]);
    const checked = checkInvoiceRows(INVOICE_FILE_COLUMNS, [{ row: 2, cells: fileRow(invoice(1)).map(String) }]);
    const stored = storeInvoiceRows(filesDir, checked.rows);
    writeFileSync(stored.path, '{"format":"vat-deduction/invoice-rows@1","rows":[]}\n');
    const { handle } = await startMonthlyDeduction(stack.client, {
      approvers: TEST_APPROVERS,
      taxNo,
      taxPeriod: PERIOD,
      polling: FAST_POLLING,
      candidateSource: { kind: 'invoices-file', sha256: stored.sha256, rows: stored.rows },
    });
    await assert.rejects(handle.result(), (error: unknown) => {
      assert.ok(error instanceof WorkflowFailedError);
      assert.match(String(error.cause?.message), new RegExp(`the invoices file .*${stored.sha256}\\.json was altered`));
      return true;
    });
    assert.deepEqual(await sentToBureau(taxNo), []);
  });

  /** Events and encoded bytes of a month's history (what Temporal limits: 51,200 events, 50 MB). */
  async function historySize(taxNo: string): Promise<{ events: number; bytes: number }> {
    const history = await handleOf(taxNo).fetchHistory();
    const encoded = proto.temporal.api.history.v1.History.encode(
      proto.temporal.api.history.v1.History.fromObject(history),
    ).finish();
    return { events: history.events?.length ?? 0, bytes: encoded.length };
  }
});
