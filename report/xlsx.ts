/**
 * The month's audit workbook (.xlsx, through exceljs): one sheet each for the summary, the bureau's
 * statistic table, planned vs bureau, the invoices with their results, the decisions and the
 * bureau writes. docs/audit-report.md describes every sheet.
 */
import { Decimal } from 'decimal.js';
import ExcelJS from 'exceljs';
import { describeStatisticStatus } from '../protocol/codes.js';
import { categoryName, STATISTIC_COLUMNS } from '../rules/statisticObject.js';
import { statisticItemsDigest } from '../rules/statisticDigest.js';
import type { StatisticLine } from '../workflows/contract.js';
import { plannedVersusBureauText } from '../workflows/plannedVersusBureauText.js';
import type { ReportFacts } from './facts.js';
import {
  DECISION_LABELS,
  differenceDecimal,
  OUTCOME_LABELS,
  SELECT_OUTCOME_LABELS,
  shanghaiTime,
  sumDecimal,
  TIME_ZONE_NOTE,
} from './format.js';

export const SHEET_NAMES = {
  summary: '概要 Summary',
  statistic: '统计表 Statistic',
  planned: '计划与税局 Planned vs bureau',
  invoices: '勾选发票 Invoices',
  decisions: '审批 Decisions',
  writes: '税局写入 Bureau writes',
} as const;

const MONEY_FORMAT = '#,##0.00';
type Cell = string | number;

/**
 * A money amount as a number cell when the number holds it exactly and a spreadsheet shows every
 * digit of it (at most 15 significant digits: up to 9,999,999,999,999.99 yuan), else as its text:
 * never a rounded figure.
 */
export function moneyCell(value: string | undefined): Cell {
  if (value === undefined || value === '') return '';
  const exact = new Decimal(value);
  const asNumber = Number(value);
  return exact.sd() <= 15 && new Decimal(asNumber).equals(exact) ? asNumber : value;
}

function addTable(sheet: ExcelJS.Worksheet, header: string[], rows: Cell[][], moneyColumns: number[] = []): void {
  const head = sheet.addRow(header);
  head.font = { bold: true };
  head.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE8EEF7' } };
  for (const cells of rows) {
    const row = sheet.addRow(cells);
    for (const c of moneyColumns) {
      const cell = row.getCell(c + 1);
      if (typeof cell.value === 'number') cell.numFmt = MONEY_FORMAT;
      cell.alignment = { horizontal: 'right' };
    }
  }
}

function heading(sheet: ExcelJS.Worksheet, text: string): void {
  const row = sheet.addRow([text]);
  row.font = { bold: true, size: 12 };
}

function widths(sheet: ExcelJS.Worksheet, columns: number[]): void {
  columns.forEach((w, i) => (sheet.getColumn(i + 1).width = w));
}

/** A sheet whose one table has these columns (header, width): the sheet and the header row. */
function tableSheet(
  book: ExcelJS.Workbook,
  name: string,
  columns: [header: string, width: number][],
): { sheet: ExcelJS.Worksheet; header: string[] } {
  const sheet = book.addWorksheet(name);
  columns.forEach(([, width], i) => (sheet.getColumn(i + 1).width = width));
  return { sheet, header: columns.map(([header]) => header) };
}

function summarySheet(book: ExcelJS.Workbook, f: ReportFacts): void {
  const sheet = book.addWorksheet(SHEET_NAMES.summary);
  widths(sheet, [34, 90]);
  const d = f.decision;
  const s = f.statistic;
  const sel = f.selection;
  const rows: [string, Cell][] = [
    ['纳税人 Taxpayer', f.taxpayerName ?? f.taxNo],
    ['纳税人识别号 Tax No', f.taxNo],
    ['税款所属期 Tax period', f.taxPeriod],
    ['结果 Outcome', OUTCOME_LABELS[f.outcome] ?? f.outcome],
    ['说明 Note', f.note],
    ['勾选截止 Selection deadline', f.deductionDeadline ?? ''],
    ['审批截止 Approval deadline', shanghaiTime(f.approvalDeadline)],
    ['审批人名单 Approvers named', f.approvers.join(', ')],
    ['审批方式 Decision policy', f.decisionPolicy],
    ['决定 Decision', d ? (DECISION_LABELS[d.decision] ?? d.decision) : '无 none'],
    ['审批人 Decided by', d?.approver ?? ''],
    ['审批时间 Decided at', shanghaiTime(d?.decidedAt)],
    ['统计表摘要 Table digest', d?.digest ?? ''],
    ['意见 Comment', d?.comment ?? ''],
    [
      '签名密钥 Signature key',
      d?.signature ? `${d.signature.keyId} (signed ${shanghaiTime(d.signature.signedAt)})` : '',
    ],
    ['确认时间 Confirmed at (税局 bureau)', f.confirmedAt ?? ''],
    ['变更后所属期 Period after change', f.periodAfterChange ?? ''],
    ['统计表状态 Statistic status', s ? `${s.statisticStatus} ${describeStatisticStatus(s.statisticStatus)}` : ''],
    ['可抵扣份数 Deductible invoices', s ? s.deductibleCount : ''],
    ['可抵扣金额 Deductible amount', moneyCell(s?.deductibleAmount)],
    ['可抵扣税额 Deductible tax', moneyCell(s?.deductibleTax)],
    ['候选发票 Candidates', sel ? sel.candidates : ''],
    ['已勾选 Selected', sel ? sel.selected : ''],
    ['此前已勾选 Already selected', sel ? sel.alreadySelected : ''],
    ['勾选失败 Failed', sel ? sel.failed : ''],
    ['发票来源 Source', sel?.source ?? ''],
    ['计划与税局核对 Planned vs bureau', f.plannedVersusBureau ? plannedVersusBureauText(f.plannedVersusBureau) : ''],
    ['开始 Started', shanghaiTime(f.startedAt)],
    ['结束 Closed', shanghaiTime(f.closedAt)],
    ['报告生成 Report generated', shanghaiTime(f.generatedAt)],
    ['工作流 Workflow', `${f.workflowId} (run ${f.runId})`],
    ['时间 Times', TIME_ZONE_NOTE],
  ];
  addTable(sheet, ['项目 Item', '内容 Value'], rows);
  for (const label of ['可抵扣金额 Deductible amount', '可抵扣税额 Deductible tax']) {
    const index = rows.findIndex(([l]) => l === label);
    const cell = sheet.getRow(index + 2).getCell(2);
    if (typeof cell.value === 'number') cell.numFmt = MONEY_FORMAT;
  }
}

const [CATEGORY_COLUMN, ...AMOUNT_COLUMNS] = STATISTIC_COLUMNS;
const STATISTIC_HEADER = [CATEGORY_COLUMN, '名称 Name', ...AMOUNT_COLUMNS];

function statisticRows(items: StatisticLine[], total?: StatisticLine): Cell[][] {
  return [...items, ...(total ? [total] : [])].map((i) => [
    i.category,
    categoryName(i.category),
    i.deductibleCount,
    moneyCell(i.deductibleAmount),
    moneyCell(i.deductibleTax),
    i.notDeductibleCount,
    moneyCell(i.notDeductibleAmount),
    moneyCell(i.notDeductibleTax),
  ]);
}

function statisticSheet(book: ExcelJS.Workbook, f: ReportFacts): void {
  const sheet = book.addWorksheet(SHEET_NAMES.statistic);
  widths(sheet, [18, 36, 16, 20, 20, 16, 20, 20]);
  const s = f.statistic;
  heading(sheet, "税局最终统计表（按发票类型统计类别）The bureau's last table, by invoice type (statistic category)");
  if (!s) {
    sheet.addRow(['本月未读到统计表 The month read no statistic table.']);
  } else {
    sheet.addRow([
      `状态 Status ${s.statisticStatus} ${describeStatisticStatus(s.statisticStatus)} · 更新 Updated ${s.updateTime} · 摘要 Digest ${s.digest}`,
    ]);
    addTable(sheet, STATISTIC_HEADER, statisticRows(s.items, s.total), [3, 4, 6, 7]);
  }
  const t = f.decidedTable;
  // A rejected table is revoked at the bureau: the one rejected is shown too, as is any table
  // whose figures differ from the bureau's last.
  const differs = !s || statisticItemsDigest(t?.items ?? []) !== statisticItemsDigest(s.items);
  if (t && (f.outcome === 'REJECTED' || differs)) {
    sheet.addRow([]);
    heading(sheet, '审批时的统计表 The table as it was decided');
    sheet.addRow([
      `状态 Status ${t.statisticStatus} ${describeStatisticStatus(t.statisticStatus)} · 更新 Updated ${t.updateTime} · 摘要 Digest ${t.digest} · 读取 Read ${shanghaiTime(t.readAt)}`,
    ]);
    addTable(sheet, STATISTIC_HEADER, statisticRows(t.items, t.total), [3, 4, 6, 7]);
  }
}

function plannedSheet(book: ExcelJS.Workbook, f: ReportFacts): void {
  const { sheet, header } = tableSheet(book, SHEET_NAMES.planned, [
    ['范围 Scope', 24],
    ['计划份数 Planned count', 16],
    ['计划税额 Planned tax', 20],
    ['税局份数 Bureau count', 16],
    ['税局税额 Bureau tax', 20],
    ['份数差 Count difference', 16],
    ['税额差 Tax difference', 20],
  ]);
  const p = f.plannedVersusBureau;
  if (!p) {
    sheet.addRow(["本月未核对计划与税局统计表 The month did not compare its plan with the bureau's table."]);
    return;
  }
  const row = (
    scope: string,
    planned: { count: number; tax?: string },
    bureau: { count: number; tax: string },
  ): Cell[] => [
    scope,
    planned.count,
    moneyCell(planned.tax),
    bureau.count,
    moneyCell(bureau.tax),
    planned.count - bureau.count,
    planned.tax !== undefined ? moneyCell(differenceDecimal(planned.tax, bureau.tax)) : '',
  ];
  const rows = [
    row('合计 Total', p.planned, p.bureau),
    ...(p.categories ?? []).map((c) => row(`${c.category} ${categoryName(c.category)}`, c.planned, c.bureau)),
  ];
  addTable(sheet, header, rows, [2, 4, 6]);
  sheet.addRow([]);
  sheet.addRow(['结论 Verdict', p.agrees ? '一致 agrees' : '不一致 DISAGREES']);
}

function invoicesSheet(book: ExcelJS.Workbook, f: ReportFacts): void {
  const { sheet, header } = tableSheet(book, SHEET_NAMES.invoices, [
    ['任务号 Task', 30],
    ['发票代码 Invoice code', 16],
    ['发票号码 Invoice number', 24],
    ['结果码 Result code', 12],
    ["税局说明 Bureau's description", 40],
    ['结果 Outcome', 22],
    ['有效税额 Effective tax', 18],
  ]);
  if (!f.invoicesRecorded) {
    sheet.addRow([
      "本月的勾选结果未逐张记录（早于该功能运行），仅列出失败发票 This month ran before each invoice's result was kept: only its failed invoices are listed.",
    ]);
    const failures = f.selection?.failures ?? [];
    addTable(
      sheet,
      header,
      failures.map((x) => [
        '',
        x.invoiceCode,
        x.invoiceNo,
        x.resultCode,
        x.resultMsg,
        SELECT_OUTCOME_LABELS.failed!,
        '',
      ]),
    );
    return;
  }
  addTable(
    sheet,
    header,
    f.invoices.map((i) => [
      i.taskNo,
      i.invoiceCode,
      i.invoiceNo,
      i.resultCode,
      i.resultMsg,
      SELECT_OUTCOME_LABELS[i.outcome] ?? i.outcome,
      moneyCell(i.effectiveTaxAmount),
    ]),
    [6],
  );
  const selected = f.invoices.filter((i) => i.outcome === 'selected' || i.outcome === 'already-selected');
  const taxes = selected.map((i) => i.effectiveTaxAmount);
  sheet.addRow([]);
  const total = sheet.addRow([
    '合计 Total',
    '',
    '',
    '',
    `勾选成功 ${selected.length} 张 selected (incl. already selected), 失败 ${f.invoices.filter((i) => i.outcome === 'failed').length} 张 failed`,
    '',
    taxes.every((t): t is string => t !== undefined) ? moneyCell(sumDecimal(taxes)) : '',
  ]);
  total.font = { bold: true };
  if (typeof total.getCell(7).value === 'number') total.getCell(7).numFmt = MONEY_FORMAT;
}

function decisionsSheet(book: ExcelJS.Workbook, f: ReportFacts): void {
  const { sheet, header } = tableSheet(book, SHEET_NAMES.decisions, [
    ['记录 Record', 22],
    ['时间 Time', 22],
    ['决定 Decision', 16],
    ['审批人 Approver', 20],
    ['方式 Via', 18],
    ['统计表摘要 Table digest', 14],
    ['意见或原因 Comment or reason', 40],
    ['签名密钥 Signature key', 18],
    ['结果 Result', 50],
  ]);
  const rows: Cell[][] = [];
  const d = f.decision;
  if (d) {
    rows.push([
      '采纳 acted on',
      shanghaiTime(d.decidedAt),
      DECISION_LABELS[d.decision] ?? d.decision,
      d.approver,
      d.via ?? 'signal',
      d.digest ?? '',
      d.comment ?? '',
      d.signature?.keyId ?? '',
      f.outcome === 'COMPLETED' ? '统计表已确认 the table was confirmed' : '统计表已撤销 the table was revoked',
    ]);
  }
  for (const r of f.received) {
    rows.push([
      '收到 received',
      shanghaiTime(r.at),
      DECISION_LABELS[r.kind] ?? r.kind,
      r.approver,
      r.via,
      r.digest ?? '',
      r.text ?? '',
      r.signatureKey ?? '',
      r.answer,
    ]);
  }
  for (const r of f.refusals) {
    rows.push([
      '拒绝或作废 refused or voided',
      shanghaiTime(r.at),
      DECISION_LABELS[r.signal] ?? r.signal,
      r.approver ?? '',
      r.via ?? 'signal',
      '',
      '',
      '',
      r.reason,
    ]);
  }
  if (rows.length === 0) rows.push(['无 none', '', '', '', '', '', '', '', `${f.outcome}: ${f.note}`]);
  addTable(sheet, header, rows);
}

function writesSheet(book: ExcelJS.Workbook, f: ReportFacts): void {
  const { sheet, header } = tableSheet(book, SHEET_NAMES.writes, [
    ['发送时间 Sent', 20],
    ['答复时间 Answered', 20],
    ['接口 Interface', 48],
    ['任务号 Task numbers', 34],
    ['尝试 Attempts', 10],
    ['答复 Outcome', 50],
    ['任务结果 Task result', 70],
  ]);
  addTable(
    sheet,
    header,
    f.writes.map((w) => [
      shanghaiTime(w.sentAt),
      shanghaiTime(w.answeredAt),
      w.interface,
      w.taskNos.join(', '),
      w.attempts,
      w.outcome,
      w.taskResult,
    ]),
  );
}

/** The workbook's bytes. */
export async function buildWorkbook(facts: ReportFacts): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  book.creator = 'vat-deduction-temporal';
  book.created = new Date(facts.generatedAt);
  book.title = `${facts.taxNo} ${facts.taxPeriod} 审计报告 audit report`;
  summarySheet(book, facts);
  statisticSheet(book, facts);
  plannedSheet(book, facts);
  invoicesSheet(book, facts);
  decisionsSheet(book, facts);
  writesSheet(book, facts);
  for (const sheet of book.worksheets) sheet.views = [{ state: 'frozen', ySplit: 1 }];
  return Buffer.from(await book.xlsx.writeBuffer());
}
