import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { Decimal } from 'decimal.js';
import ExcelJS from 'exceljs';
import type { FastifyInstance } from 'fastify';
import { runCli } from '../client/cli.js';
import { EXIT_BAD_INPUT, EXIT_NOT_FOUND_OR_STATE, EXIT_OK } from '../client/cliSupport.js';
import { approve, startMonthlyDeduction } from '../client/deductions.js';
import { buildInbox } from '../inbox/server.js';
import type { TaxpayerInfo } from '../inbox/taxpayers.js';
import { reportPath } from '../inbox/view.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import { gatherReportFacts, ReportStateError, type ReportFacts } from '../report/facts.js';
import { buildPdf } from '../report/pdf.js';
import { buildWorkbook, SHEET_NAMES } from '../report/xlsx.js';
import type { ReceivedWebhook } from '../simulator/plugins/webhooks.js';
import {
  rejectSignal,
  Stage,
  type MonthlyDeductionInput,
  type MonthlyDeductionResult,
  type Progress,
} from '../workflows/contract.js';
import { TEST_APPROVERS } from './support/approvers.js';
import { TEST_WINDOW } from './support/calendar.js';
import { InboxBrowser, writeTestAccounts } from './support/inboxBrowser.js';
import { startStack, type TestStack } from './support/stack.js';
import { addTaxpayer } from './support/taxpayers.js';
import { waitForStage } from './support/workflows.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500 };
const INBOX_URL = 'http://inbox.example.test/';
/** Approved by wang (an Update), rejected by li (a signal), left waiting, left to expire. */
const APPROVED = '91440300591872133B';
const REJECTED = '91440300MA5G9GK78Y';
const WAITING = withCheckCharacter('91440300MA5REPT01');
const EXPIRING = withCheckCharacter('91440300MA5REPT02');
const [WANG, LI] = ['wang', 'li'].map((id) => {
  assert.ok(TEST_APPROVERS.includes(id));
  return id;
}) as [string, string];
const NAMES: Record<string, string> = { [APPROVED]: '深圳示例科技有限公司', [REJECTED]: '深圳示例贸易有限公司' };

/** Text and pixels of a PDF through poppler-utils (scripts/setup.sh installs it). */
function poppler(tool: string, args: string[]): Buffer {
  try {
    return execFileSync(tool, args, { maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${tool} is missing: install Debian's poppler-utils (npm run setup does)`);
    }
    throw err;
  }
}

/** The share of pixels darker than near-white in a binary PGM (P5) image. */
function inkedShare(pgm: Buffer): number {
  const header = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(pgm.subarray(0, 50).toString('latin1'));
  assert.ok(header, 'pdftoppm -gray wrote no PGM');
  const [whole, width, height] = [header[0], Number(header[1]), Number(header[2])];
  const pixels = pgm.subarray(whole.length);
  assert.equal(pixels.length, width * height);
  let inked = 0;
  for (const value of pixels) if (value < 200) inked++;
  return inked / pixels.length;
}

function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object' && 'richText' in value) return value.richText.map((r) => r.text).join('');
  return String(value);
}

/** The sheet's rows as texts, header first. */
function rowsOf(book: ExcelJS.Workbook, name: string): string[][] {
  const sheet = book.getWorksheet(name);
  assert.ok(sheet, `the workbook has no sheet ${name}`);
  const rows: string[][] = [];
  sheet.eachRow({ includeEmpty: true }, (row) => {
    const cells: string[] = [];
    for (let c = 1; c <= row.cellCount; c++) cells.push(cellText(row.getCell(c).value));
    rows.push(cells);
  });
  return rows;
}

/** A money cell read back exactly, as the month's decimal string. */
function money(value: string): string {
  return new Decimal(value).toFixed(2);
}

/** Summary sheet: item label (its Chinese part) → value. */
function summaryOf(book: ExcelJS.Workbook): Map<string, string> {
  return new Map(rowsOf(book, SHEET_NAMES.summary).map(([k, v]) => [k!.split(' ')[0]!, v ?? '']));
}

async function workbookOf(bytes: Buffer): Promise<ExcelJS.Workbook> {
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(bytes as unknown as ArrayBuffer);
  return book;
}

describe('the audit report of a closed month (dev server, sandbox, real months)', function () {
  this.timeout(240_000);
  let stack: TestStack;
  let inbox: FastifyInstance;
  const results = new Map<string, MonthlyDeductionResult>();
  /** The progress each month showed its approvers. */
  const shown = new Map<string, Progress>();
  const directory = new Map<string, TaxpayerInfo>([
    [APPROVED, { name: NAMES[APPROVED]!, approvers: [WANG] }],
    [REJECTED, { name: NAMES[REJECTED]!, approvers: [LI] }],
    [WAITING, { approvers: [WANG] }],
  ]);
  const saved = { NOTIFY_WEBHOOK_URL: process.env.NOTIFY_WEBHOOK_URL, INBOX_URL: process.env.INBOX_URL };
  const folder = mkdtempSync(join(tmpdir(), 'audit-report-'));

  before(async () => {
    stack = await startStack();
    await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 12, seed: 7 });
    await addTaxpayer(stack.admin, WAITING, { invoices: 6, seed: 11 });
    await addTaxpayer(stack.admin, EXPIRING, { invoices: 4, seed: 12 });
    await stack.admin.setClock(SANDBOX_NOW);
    // The worker's notices (read when it is created): the confirmed one links the report.
    process.env.NOTIFY_WEBHOOK_URL = stack.admin.webhookUrl('report-notices');
    process.env.INBOX_URL = INBOX_URL;
    await stack.startWorker();

    const start = async (taxNo: string, approvers: string[], extra: Partial<MonthlyDeductionInput> = {}) =>
      (
        await startMonthlyDeduction(stack.client, {
          taxNo,
          taxPeriod: PERIOD,
          approvers,
          polling: FAST_POLLING,
          ...extra,
        })
      ).handle;
    const handles: Record<string, WorkflowHandle> = {
      [APPROVED]: await start(APPROVED, [WANG], { notifications: { channel: 'default' } }),
      [REJECTED]: await start(REJECTED, [LI]),
      [WAITING]: await start(WAITING, [WANG]),
      // Its approval closes soon after it is asked for: it ends EXPIRED.
      [EXPIRING]: await start(EXPIRING, [WANG], { approvalDeadline: new Date(Date.now() + 40_000).toISOString() }),
    };
    for (const taxNo of [APPROVED, REJECTED, WAITING]) {
      shown.set(taxNo, await waitForStage(handles[taxNo]!, Stage.AwaitingApproval, 90_000));
    }
    await approve(stack.client, APPROVED, PERIOD, {
      approver: WANG,
      comment: '已核对发票清单 checked against the ledger',
      statisticDigest: shown.get(APPROVED)!.statistic!.digest,
    });
    await handles[REJECTED]!.signal(rejectSignal, {
      approver: LI,
      reason: '金额与账簿不符 amounts differ from the books',
    });
    for (const taxNo of [APPROVED, REJECTED, EXPIRING]) {
      results.set(taxNo, (await handles[taxNo]!.result()) as MonthlyDeductionResult);
    }

    const accountsFile = await writeTestAccounts();
    inbox = await buildInbox({
      client: stack.client,
      taxpayers: () => directory,
      security: { accountsFile },
      listCacheMs: 0,
    });
  });

  after(async () => {
    await inbox?.close();
    await stack?.stop();
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('the months ended as the test drove them', () => {
    assert.equal(results.get(APPROVED)?.outcome, 'COMPLETED');
    assert.equal(results.get(REJECTED)?.outcome, 'REJECTED');
    assert.equal(results.get(EXPIRING)?.outcome, 'EXPIRED');
  });

  describe('the workbook of a COMPLETED month', () => {
    let facts: ReportFacts;
    let book: ExcelJS.Workbook;
    let result: MonthlyDeductionResult;
    before(async () => {
      result = results.get(APPROVED)!;
      facts = await gatherReportFacts(stack.client, APPROVED, PERIOD, { taxpayerName: NAMES[APPROVED]! });
      book = await workbookOf(await buildWorkbook(facts));
    });

    it('has the six sheets', () => {
      assert.deepEqual(
        book.worksheets.map((s) => s.name),
        Object.values(SHEET_NAMES),
      );
    });

    it("summarises the month's result: taxpayer, period, outcome, approver, digest, totals", () => {
      const summary = summaryOf(book);
      const statistic = result.statistic!;
      assert.equal(summary.get('纳税人'), NAMES[APPROVED]);
      assert.equal(summary.get('纳税人识别号'), APPROVED);
      assert.equal(summary.get('税款所属期'), PERIOD);
      assert.equal(summary.get('结果'), '已完成 Completed');
      assert.equal(summary.get('审批人'), WANG);
      assert.equal(summary.get('统计表摘要'), shown.get(APPROVED)!.statistic!.digest);
      assert.equal(summary.get('意见'), '已核对发票清单 checked against the ledger');
      assert.equal(Number(summary.get('可抵扣份数')), statistic.deductibleCount);
      assert.equal(money(summary.get('可抵扣金额')!), statistic.deductibleAmount);
      assert.equal(money(summary.get('可抵扣税额')!), statistic.deductibleTax);
      assert.equal(Number(summary.get('已勾选')), result.selection!.selected);
      assert.equal(Number(summary.get('勾选失败')), result.selection!.failed);
      assert.equal(summary.get('确认时间'), result.confirmedAt);
    });

    it("holds the bureau's statistic table row for row", () => {
      const rows = rowsOf(book, SHEET_NAMES.statistic);
      const header = rows.findIndex((r) => r[0] === '统计类别 Category');
      assert.ok(header > 0, 'no table header');
      const table = rows.slice(header + 1).filter((r) => /^\d+$/.test(r[0] ?? ''));
      const expected = [...result.statistic!.items, ...(result.statistic!.total ? [result.statistic!.total] : [])];
      assert.ok(expected.length > 0);
      assert.deepEqual(
        table.map((r) => [r[0], Number(r[2]), money(r[3]!), money(r[4]!), Number(r[5]), money(r[6]!), money(r[7]!)]),
        expected.map((i) => [
          i.category,
          i.deductibleCount,
          i.deductibleAmount,
          i.deductibleTax,
          i.notDeductibleCount,
          i.notDeductibleAmount,
          i.notDeductibleTax,
        ]),
      );
    });

    it('compares planned with the bureau as the month did', () => {
      const p = result.plannedVersusBureau!;
      const total = rowsOf(book, SHEET_NAMES.planned).find((r) => r[0] === '合计 Total')!;
      assert.deepEqual(
        [Number(total[1]), total[2] ? money(total[2]) : undefined, Number(total[3]), money(total[4]!)],
        [p.planned.count, p.planned.tax, p.bureau.count, p.bureau.tax],
      );
    });

    it('lists every invoice the bureau answered, with the selected tax the month counted', () => {
      const rows = rowsOf(book, SHEET_NAMES.invoices);
      const invoices = rows.slice(1).filter((r) => result.selection!.taskNos.includes(r[0] ?? ''));
      const s = result.selection!;
      assert.equal(invoices.length, s.selected + s.alreadySelected + s.failed);
      const selected = invoices.filter((r) => r[5] === '已勾选 selected' || r[5] === '此前已勾选 already selected');
      assert.equal(selected.length, s.selected + s.alreadySelected);
      const tax = selected.reduce((sum, r) => sum.plus(r[6]!), new Decimal(0)).toFixed(2);
      assert.equal(tax, s.selectedTax);
      for (const failure of s.failures) {
        assert.ok(
          invoices.some((r) => r[2] === failure.invoiceNo && r[3] === failure.resultCode && r[5] === '失败 failed'),
          `failed invoice ${failure.invoiceNo} is not listed`,
        );
      }
    });

    it('records the decision: who, when, the table digest and the comment', () => {
      const rows = rowsOf(book, SHEET_NAMES.decisions);
      const taken = rows.find((r) => r[0] === '采纳 acted on')!;
      const d = result.decision!;
      assert.deepEqual(taken.slice(2, 7), [
        '同意 approved',
        WANG,
        'update',
        shown.get(APPROVED)!.statistic!.digest,
        '已核对发票清单 checked against the ledger',
      ]);
      // Shanghai time, to the second, of the workflow's decidedAt.
      const shanghai = new Date(Date.parse(d.decidedAt) + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
      assert.equal(taken[1], shanghai);
      const received = rows.filter((r) => r[0] === '收到 received');
      assert.equal(received.length, 1);
      assert.equal(received[0]![8], '已采纳 accepted');
    });

    it('lists every bureau write: the selection with its tasks, the generation and the confirmation', () => {
      const rows = rowsOf(book, SHEET_NAMES.writes).slice(1);
      const select = rows.filter((r) => r[2]!.startsWith('4.05 invoiceSelect'));
      assert.deepEqual(
        select.flatMap((r) => r[3]!.split(', ').filter(Boolean)),
        result.selection!.taskNos,
      );
      assert.ok(rows.some((r) => r[2]!.includes('statisticCreate 生成统计表') && r[5] === '已受理 accepted'));
      const confirm = rows.find((r) => r[2]!.startsWith('4.10 statisticConfirm'));
      assert.ok(confirm, 'no confirmation write');
      assert.match(confirm[6]!, /已确认 confirmed \(05\)/);
      for (const r of rows) assert.match(r[0]!, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    });
  });

  describe('the PDF of a COMPLETED month', () => {
    let file: string;
    before(async () => {
      const facts = await gatherReportFacts(stack.client, APPROVED, PERIOD, { taxpayerName: NAMES[APPROVED]! });
      file = join(folder, 'completed.pdf');
      writeFileSync(file, await buildPdf(facts));
    });

    it('is one page with a Chinese font embedded as a subset', () => {
      assert.match(poppler('pdfinfo', [file]).toString(), /^Pages:\s+1$/m);
      const fonts = poppler('pdffonts', [file]).toString().split('\n').slice(2).filter(Boolean);
      assert.ok(fonts.length > 0, 'no font in the PDF');
      // name, type, encoding, emb, sub, uni: every font embedded, as a subset (ABCDEF+Name)
      for (const line of fonts) assert.match(line, /^[A-Z]{6}\+\S+.*\byes\s+yes\s+yes\b/, line);
    });

    it('renders to a PNG page that is not blank', () => {
      poppler('pdftoppm', ['-png', '-r', '60', '-singlefile', file, join(folder, 'completed')]);
      const png = readFileSync(join(folder, 'completed.png'));
      assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
      assert.ok(png.readUInt32BE(16) > 400 && png.readUInt32BE(20) > 600, 'an A4 page at 60 dpi');
      const share = inkedShare(poppler('pdftoppm', ['-gray', '-r', '60', '-singlefile', file]));
      assert.ok(share > 0.01 && share < 0.5, `inked share ${share}`);
    });

    it('names the taxpayer, the period, the approver and the deductible tax', () => {
      const text = poppler('pdftotext', ['-layout', file, '-']).toString();
      const result = results.get(APPROVED)!;
      for (const expected of [
        NAMES[APPROVED]!,
        APPROVED,
        PERIOD,
        WANG,
        '已完成 Completed',
        shown.get(APPROVED)!.statistic!.digest,
        result.statistic!.deductibleTax,
      ]) {
        assert.ok(text.includes(expected), `the PDF text lacks ${expected}:\n${text}`);
      }
    });
  });

  describe('a REJECTED month', () => {
    let facts: ReportFacts;
    before(async () => {
      facts = await gatherReportFacts(stack.client, REJECTED, PERIOD, { taxpayerName: NAMES[REJECTED]! });
    });

    it("its workbook names the rejection, and shows the table rejected beside the bureau's revoked one", async () => {
      const book = await workbookOf(await buildWorkbook(facts));
      const summary = summaryOf(book);
      assert.equal(summary.get('结果'), '已驳回 Rejected');
      assert.equal(summary.get('决定'), '驳回 rejected');
      assert.equal(summary.get('审批人'), LI);
      assert.equal(summary.get('统计表摘要'), shown.get(REJECTED)!.statistic!.digest);
      const taken = rowsOf(book, SHEET_NAMES.decisions).find((r) => r[0] === '采纳 acted on')!;
      assert.deepEqual(taken.slice(2, 7), [
        '驳回 rejected',
        LI,
        'signal',
        shown.get(REJECTED)!.statistic!.digest,
        '金额与账簿不符 amounts differ from the books',
      ]);
      const rows = rowsOf(book, SHEET_NAMES.statistic);
      const decided = rows.findIndex((r) => r[0] === '审批时的统计表 The table as it was decided');
      assert.ok(decided > 0, 'the table rejected is not shown');
      const shownItems = shown.get(REJECTED)!.statistic!.items;
      const table = rows.slice(decided + 3, decided + 3 + shownItems.length);
      assert.deepEqual(
        table.map((r) => [r[0], Number(r[2]), money(r[4]!)]),
        shownItems.map((i) => [i.category, i.deductibleCount, i.deductibleTax]),
      );
      const writes = rowsOf(book, SHEET_NAMES.writes);
      assert.ok(writes.some((r) => r[2]!.includes('撤销统计表 revoke')));
      assert.ok(!writes.some((r) => r[2]!.startsWith('4.10')), 'a rejected month confirms nothing');
    });

    it('its PDF names the taxpayer, the period and who rejected it', async () => {
      const file = join(folder, 'rejected.pdf');
      writeFileSync(file, await buildPdf(facts));
      const text = poppler('pdftotext', ['-layout', file, '-']).toString();
      for (const expected of [NAMES[REJECTED]!, REJECTED, PERIOD, LI, '被驳回的统计表', '驳回 rejected']) {
        assert.ok(text.includes(expected), `the PDF text lacks ${expected}:\n${text}`);
      }
    });
  });

  it('an EXPIRED month has a report without a decision', async () => {
    const facts = await gatherReportFacts(stack.client, EXPIRING, PERIOD);
    const book = await workbookOf(await buildWorkbook(facts));
    const summary = summaryOf(book);
    assert.equal(summary.get('结果'), '已过期 Expired');
    assert.equal(summary.get('决定'), '无 none');
    assert.equal(Number(summary.get('可抵扣份数')), results.get(EXPIRING)!.statistic!.deductibleCount);
  });

  it('a month still awaiting approval has no report: the error names its state', async () => {
    await assert.rejects(gatherReportFacts(stack.client, WAITING, PERIOD), (err: Error) => {
      assert.ok(err instanceof ReportStateError);
      assert.match(err.message, /still running \(stage AWAITING_APPROVAL\)/);
      assert.match(err.message, /COMPLETED, REJECTED, EXPIRED/);
      return true;
    });
  });

  describe('the inbox', () => {
    async function loggedIn(account: string): Promise<InboxBrowser> {
      const browser = new InboxBrowser(inbox);
      const response = await browser.login(account);
      assert.equal(response.statusCode, 303, response.body);
      return browser;
    }

    it("links an approver's decided months to their reports, and no one else's", async () => {
      const page = (await (await loggedIn(WANG)).get('/')).body;
      assert.ok(page.includes(`href="${reportPath(APPROVED, PERIOD, 'xlsx')}"`), 'no xlsx link for wang');
      assert.ok(page.includes(`href="${reportPath(APPROVED, PERIOD, 'pdf')}"`), 'no PDF link for wang');
      assert.ok(!page.includes(reportPath(REJECTED, PERIOD, 'xlsx')), "li's month is linked for wang");
    });

    it('downloads the workbook and the PDF for an approver of the taxpayer', async () => {
      const browser = await loggedIn(WANG);
      const xlsx = await browser.get(reportPath(APPROVED, PERIOD, 'xlsx'));
      assert.equal(xlsx.statusCode, 200);
      assert.match(String(xlsx.headers['content-type']), /spreadsheetml/);
      assert.equal(
        xlsx.headers['content-disposition'],
        `attachment; filename="audit-report-${APPROVED}-${PERIOD}.xlsx"`,
      );
      const summary = summaryOf(await workbookOf(xlsx.rawPayload));
      assert.equal(summary.get('纳税人'), NAMES[APPROVED]);
      assert.equal(money(summary.get('可抵扣税额')!), results.get(APPROVED)!.statistic!.deductibleTax);
      const pdf = await browser.get(reportPath(APPROVED, PERIOD, 'pdf'));
      assert.equal(pdf.statusCode, 200);
      assert.equal(pdf.headers['content-type'], 'application/pdf');
      assert.equal(pdf.rawPayload.subarray(0, 5).toString('latin1'), '%PDF-');
    });

    it('refuses an unauthenticated request and an approver of another taxpayer', async () => {
      const anonymous = await inbox.inject({ method: 'GET', url: reportPath(APPROVED, PERIOD, 'xlsx') });
      assert.equal(anonymous.statusCode, 303);
      assert.equal(anonymous.headers.location, '/login');
      const li = await loggedIn(LI);
      for (const format of ['xlsx', 'pdf'] as const) {
        const refused = await li.get(reportPath(APPROVED, PERIOD, format));
        assert.equal(refused.statusCode, 403);
        assert.match(refused.body, /not an approver of 91440300591872133B/);
      }
      // li's own month downloads.
      assert.equal((await li.get(reportPath(REJECTED, PERIOD, 'xlsx'))).statusCode, 200);
    });

    it('answers 409 naming the state for a month still running', async () => {
      const response = await (await loggedIn(WANG)).get(reportPath(WAITING, PERIOD, 'pdf'));
      assert.equal(response.statusCode, 409);
      assert.match(response.body, /still running \(stage AWAITING_APPROVAL\)/);
    });
  });

  it('the "confirmed" notice links the report downloads in the inbox', async () => {
    const notices: ReceivedWebhook[] = await stack.admin.webhooks('report-notices');
    const confirmed = notices.find((n) => (n.body as { kind?: string }).kind === 'confirmed');
    assert.ok(confirmed, `no confirmed notice among ${notices.length}`);
    const body = confirmed.body as { reportUrls?: { xlsx: string; pdf: string }; text: string };
    const expected = {
      xlsx: `http://inbox.example.test${reportPath(APPROVED, PERIOD, 'xlsx')}`,
      pdf: `http://inbox.example.test${reportPath(APPROVED, PERIOD, 'pdf')}`,
    };
    assert.deepEqual(body.reportUrls, expected);
    assert.ok(body.text.includes(`审计报告 Audit report (xlsx): ${expected.xlsx}`), body.text);
  });

  describe('npm run cli -- report', () => {
    /** The CLI on its own connection (it closes the one it opens). */
    async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(['node', 'cli', 'report', ...args], {
        out: (t) => out.push(t),
        err: (t) => err.push(t),
        env: { ...process.env, ...env },
        connect: async () =>
          new Client({
            connection: await Connection.connect({ address: stack.temporal.address }),
            namespace: stack.temporal.namespace,
          }),
      });
      return { code, out: out.join(''), err: err.join('') };
    }

    it('writes both files for a closed month', async () => {
      const out = join(folder, 'cli');
      const run = await cli(['--tax-no', APPROVED, '--period', PERIOD, '--out', out]);
      assert.equal(run.code, EXIT_OK, run.err);
      assert.deepEqual(readdirSync(out).sort(), [
        `audit-report-${APPROVED}-${PERIOD}.pdf`,
        `audit-report-${APPROVED}-${PERIOD}.xlsx`,
      ]);
      const summary = summaryOf(await workbookOf(readFileSync(join(out, `audit-report-${APPROVED}-${PERIOD}.xlsx`))));
      assert.equal(summary.get('审批人'), WANG);
    });

    it('exits 4 naming the state for a month that is not closed, and writes nothing', async () => {
      const out = join(folder, 'cli-waiting');
      const run = await cli(['--tax-no', WAITING, '--period', PERIOD, '--out', out, '--format', 'xlsx']);
      assert.equal(run.code, EXIT_NOT_FOUND_OR_STATE);
      assert.match(run.err, /still running \(stage AWAITING_APPROVAL\)/);
      assert.deepEqual(existsSync(out) ? readdirSync(out) : [], []);
    });

    it('exits 2 for a bad format, and for a missing font naming the variable and the package', async () => {
      const format = await cli(['--tax-no', APPROVED, '--period', PERIOD, '--format', 'docx']);
      assert.equal(format.code, EXIT_BAD_INPUT);
      assert.match(format.err, /--format docx: must be xlsx, pdf or both/);
      const font = await cli(['--tax-no', APPROVED, '--period', PERIOD, '--format', 'pdf'], {
        REPORT_FONT_PATH: join(folder, 'no-such-font.ttf'),
      });
      assert.equal(font.code, EXIT_BAD_INPUT);
      assert.match(font.err, /REPORT_FONT_PATH=.*no-such-font\.ttf: no such file/);
    });
  });
});
