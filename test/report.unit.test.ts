import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { noticeText } from '../activities/approvalNotice.js';
import { ApprovalNotice } from '../protocol/notice.js';
import { dingtalkMessage } from '../activities/notices/dingtalk.js';
import { noticeMail } from '../activities/notices/email.js';
import { feishuMessage } from '../activities/notices/feishu.js';
import { wecomMessage } from '../activities/notices/wecom.js';
import type { ReportFacts } from '../report/facts.js';
import { shanghaiTime } from '../report/format.js';
import { buildPdf, reportFont, ReportFontError } from '../report/pdf.js';
import { buildWorkbook, moneyCell, SHEET_NAMES } from '../report/xlsx.js';
import { TEST_APPROVERS } from './support/approvers.js';
import { TEST_WINDOW } from './support/calendar.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW, deductionDeadline: DEADLINE } = TEST_WINDOW;
const TAX_NO = '91440300591872133B';
const at = (minutes: number) => new Date(Date.parse(SANDBOX_NOW) + minutes * 60_000).toISOString();

/** A COMPLETED month with `rows` statistic rows and a long comment: the page must still hold it. */
function facts(rows: number, comment: string): ReportFacts {
  const items = Array.from({ length: rows }, (_, i) => ({
    category: String(i + 1).padStart(2, '0'),
    deductibleCount: i + 1,
    deductibleAmount: `${1000 * (i + 1)}.10`,
    deductibleTax: `${130 * (i + 1)}.01`,
    notDeductibleCount: 0,
    notDeductibleAmount: '0.00',
    notDeductibleTax: '0.00',
  }));
  return {
    workflowId: `deduction-${TAX_NO}-${PERIOD}`,
    runId: 'run-1',
    taxNo: TAX_NO,
    taxPeriod: PERIOD,
    taxpayerName: '深圳示例科技有限公司'.repeat(3),
    outcome: 'COMPLETED',
    note: '说明 '.repeat(200),
    startedAt: at(0),
    closedAt: at(30),
    generatedAt: at(60),
    deductionDeadline: DEADLINE,
    decisionPolicy: 'unsigned',
    approvers: [TEST_APPROVERS[0]!],
    statistic: {
      digest: '0badcafe',
      statisticStatus: '05',
      updateTime: at(29),
      deductionDeadline: DEADLINE,
      items,
      deductibleCount: 1,
      deductibleAmount: '1000.10',
      deductibleTax: '130.01',
    },
    invoices: [],
    invoicesRecorded: true,
    decision: { decision: 'approved', approver: TEST_APPROVERS[0]!, comment, decidedAt: at(20), digest: '0badcafe' },
    received: [],
    refusals: [],
    writes: [],
  };
}

describe('audit report, unit', () => {
  it('writes money as exact number cells, and as text where a number would round it', () => {
    assert.equal(moneyCell('294440.05'), 294440.05);
    assert.equal(moneyCell('9999999999999.99'), 9999999999999.99);
    assert.equal(moneyCell('123456789012345.67'), '123456789012345.67');
    assert.equal(moneyCell(undefined), '');
  });

  it('shows instants in Shanghai time to the second', () => {
    const instant = new Date(Date.parse(`${DEADLINE}T00:00:01+08:00`));
    assert.equal(shanghaiTime(instant.toISOString()), `${DEADLINE} 00:00:01`);
    assert.equal(shanghaiTime('not a time'), 'not a time');
  });

  it('keeps the PDF to one page with many table rows and a long comment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-unit-'));
    const file = join(dir, 'long.pdf');
    writeFileSync(file, await buildPdf(facts(30, '意见'.repeat(250))));
    assert.match(execFileSync('pdfinfo', [file]).toString(), /^Pages:\s+1$/m);
    const text = execFileSync('pdftotext', [file, '-']).toString();
    assert.match(text, /14 more rows in the workbook/);
  });

  it('names the variable when the configured font is missing, and refuses a file that is no font', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-font-'));
    assert.throws(
      () => reportFont({ REPORT_FONT_PATH: join(dir, 'missing.ttf') }),
      (err: Error) =>
        err instanceof ReportFontError && /REPORT_FONT_PATH=.*missing\.ttf: no such file/.test(err.message),
    );
    const notAFont = join(dir, 'notes.ttf');
    writeFileSync(notAFont, 'not a font');
    await assert.rejects(
      buildPdf(facts(1, ''), reportFont({ REPORT_FONT_PATH: notAFont })),
      (err: Error) => err instanceof ReportFontError && /REPORT_FONT_PATH/.test(err.message),
    );
  });

  it('the workbook carries a table of any size row for row', async () => {
    const book = new ExcelJS.Workbook();
    await book.xlsx.load((await buildWorkbook(facts(30, ''))) as unknown as ArrayBuffer);
    const sheet = book.getWorksheet(SHEET_NAMES.statistic)!;
    const categories: string[] = [];
    sheet.eachRow((row) => {
      const first = String(row.getCell(1).value ?? '');
      if (/^\d{2}$/.test(first)) categories.push(first);
    });
    assert.equal(categories.length, 30);
  });

  it('a confirmed notice links both report downloads on every channel kind', () => {
    const reportUrls = {
      xlsx: `http://inbox.test/months/${TAX_NO}/${PERIOD}/report.xlsx`,
      pdf: `http://inbox.test/months/${TAX_NO}/${PERIOD}/report.pdf`,
    };
    const fields = {
      kind: 'confirmed' as const,
      taxNo: TAX_NO,
      taxPeriod: PERIOD,
      workflowId: `deduction-${TAX_NO}-${PERIOD}`,
      decidedBy: TEST_APPROVERS[0]!,
      monthUrl: `http://inbox.test/months/${TAX_NO}/${PERIOD}`,
      reportUrls,
    };
    const notice = ApprovalNotice.parse({ ...fields, text: noticeText(fields), sentAt: at(0) });
    for (const rendered of [
      notice.text,
      wecomMessage(notice).markdown.content,
      dingtalkMessage(notice).markdown.text,
      noticeMail(notice).html,
      noticeMail(notice).text,
    ]) {
      assert.ok(rendered.includes(reportUrls.xlsx) && rendered.includes(reportUrls.pdf), rendered);
    }
    const card = JSON.stringify(feishuMessage(notice, undefined, Date.parse(SANDBOX_NOW)));
    assert.ok(card.includes(reportUrls.xlsx) && card.includes(reportUrls.pdf), card);
  });
});
