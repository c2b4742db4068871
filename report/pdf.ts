/**
 * The month's one-page PDF summary (pdfkit): the taxpayer, the period, the statistic table and the
 * approval, set in a Chinese font embedded as a subset. docs/audit-report.md.
 */
import { existsSync } from 'node:fs';
import PDFDocument from 'pdfkit';
import { describeStatisticStatus } from '../protocol/codes.js';
import { categoryName } from '../rules/statisticObject.js';
import type { StatisticLine } from '../workflows/contract.js';
import { plannedVersusBureauText } from '../workflows/plannedVersusBureauText.js';
import type { ReportFacts } from './facts.js';
import { DECISION_LABELS, OUTCOME_LABELS, shanghaiTime, TIME_ZONE_NOTE } from './format.js';

export const REPORT_FONT_VARIABLE = 'REPORT_FONT_PATH';
export const REPORT_FONT_NAME_VARIABLE = 'REPORT_FONT_NAME';
/** Where Debian's fonts-wqy-zenhei puts its font (scripts/setup.sh installs it when missing). */
export const DEFAULT_REPORT_FONT = '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc';
const DEFAULT_FONT_NAME = 'WenQuanYiZenHei';
export const REPORT_FONT_PACKAGE = 'fonts-wqy-zenhei';

/** The PDF's Chinese font is missing or unusable. */
export class ReportFontError extends Error {
  override name = 'ReportFontError';
}

export interface ReportFont {
  path: string;
  /** The PostScript name of the font inside a collection (.ttc). */
  name?: string;
}

/** The font the PDF embeds: REPORT_FONT_PATH (and REPORT_FONT_NAME inside a collection), else Debian's. */
export function reportFont(env: NodeJS.ProcessEnv = process.env): ReportFont {
  const configured = env[REPORT_FONT_VARIABLE]?.trim();
  const path = configured || DEFAULT_REPORT_FONT;
  if (!existsSync(path)) {
    throw new ReportFontError(
      configured
        ? `${REPORT_FONT_VARIABLE}=${configured}: no such file; name a TrueType / OpenType font with Chinese glyphs`
        : `No Chinese font for the PDF report at ${DEFAULT_REPORT_FONT}: install Debian's ${REPORT_FONT_PACKAGE} ` +
            `(npm run setup does, as root) or set ${REPORT_FONT_VARIABLE} to a TrueType / OpenType font with Chinese glyphs`,
    );
  }
  const name = env[REPORT_FONT_NAME_VARIABLE]?.trim() || (configured ? undefined : DEFAULT_FONT_NAME);
  return { path, ...(name ? { name } : {}) };
}

const PAGE = { size: 'A4' as const, margin: 40 };
const WIDTH = 595.28 - 2 * PAGE.margin;
const BOTTOM = 841.89 - PAGE.margin;
const MAX_TABLE_ROWS = 16;

/** The table the page shows: the one rejected for a rejected month (the bureau's last is revoked). */
function shownTable(
  f: ReportFacts,
): { title: string; items: StatisticLine[]; total?: StatisticLine; digest: string; status: string } | undefined {
  if (f.outcome === 'REJECTED' && f.decidedTable) {
    const t = f.decidedTable;
    return {
      title: '被驳回的统计表 The table rejected',
      items: t.items,
      ...(t.total ? { total: t.total } : {}),
      digest: t.digest,
      status: t.statisticStatus,
    };
  }
  const s = f.statistic;
  if (!s) return undefined;
  const title =
    f.outcome === 'COMPLETED' ? '统计表（税局）The statistic table (bureau)' : '未确认的统计表 The table not confirmed';
  return { title, items: s.items, ...(s.total ? { total: s.total } : {}), digest: s.digest, status: s.statisticStatus };
}

/** The PDF's bytes: one A4 page. */
export async function buildPdf(facts: ReportFacts, font: ReportFont = reportFont()): Promise<Buffer> {
  const doc = new PDFDocument({
    size: PAGE.size,
    margin: PAGE.margin,
    bufferPages: true,
    info: {
      Title: `${facts.taxNo} ${facts.taxPeriod} 审计报告 audit report`,
      Author: 'vat-deduction-temporal',
      CreationDate: new Date(facts.generatedAt),
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  try {
    doc.registerFont('cjk', font.path, font.name);
    doc.font('cjk');
  } catch (error) {
    throw new ReportFontError(
      `${font.path}${font.name ? ` (${font.name})` : ''} cannot be used for the PDF report: ${(error as Error).message}. ` +
        `Set ${REPORT_FONT_VARIABLE} to a TrueType / OpenType font with Chinese glyphs, and ${REPORT_FONT_NAME_VARIABLE} ` +
        `to its PostScript name when the file is a collection (.ttc)`,
    );
  }
  renderPage(doc, facts);
  const pages = doc.bufferedPageRange().count;
  doc.end();
  await ended;
  if (pages !== 1) throw new Error(`the PDF report of ${facts.workflowId} took ${pages} pages, not one`);
  return Buffer.concat(chunks);
}

function renderPage(doc: PDFKit.PDFDocument, f: ReportFacts): void {
  const x = PAGE.margin;
  doc.fontSize(16).text('进项发票抵扣勾选 审计报告', x, PAGE.margin, { width: WIDTH });
  doc.fontSize(10).fillColor('#444').text('VAT input-invoice deduction: audit report', { width: WIDTH });
  doc.fillColor('black').moveDown(0.6);

  const pairs: [string, string][] = [
    ['纳税人 Taxpayer', f.taxpayerName ? `${f.taxpayerName}（${f.taxNo}）` : f.taxNo],
    ['纳税人识别号 Tax No', f.taxNo],
    ['税款所属期 Tax period', f.taxPeriod],
    ['结果 Outcome', OUTCOME_LABELS[f.outcome] ?? f.outcome],
    ['勾选截止 Selection deadline', f.deductionDeadline ?? '-'],
  ];
  keyValues(doc, pairs);

  const table = shownTable(f);
  doc
    .moveDown(0.6)
    .fontSize(11)
    .text(table?.title ?? '统计表 Statistic table', x, doc.y, { width: WIDTH });
  if (table) {
    doc
      .fontSize(8)
      .fillColor('#444')
      .text(`状态 Status ${table.status} ${describeStatisticStatus(table.status)} · 摘要 Digest ${table.digest}`, {
        width: WIDTH,
      });
    doc.fillColor('black');
    statisticTable(doc, table.items, table.total);
  } else {
    doc.fontSize(9).text('本月未读到统计表 The month read no statistic table.', { width: WIDTH });
  }
  const s = f.statistic;
  if (s && f.outcome !== 'REJECTED') {
    doc
      .fontSize(9)
      .text(
        `可抵扣合计 Deductible total: ${s.deductibleCount} 份 invoices · 金额 amount ${s.deductibleAmount} · 税额 tax ${s.deductibleTax}`,
        x,
        doc.y + 4,
        { width: WIDTH },
      );
  }
  if (f.plannedVersusBureau) {
    doc.fontSize(9).text(`核对 Planned vs bureau: ${plannedVersusBureauText(f.plannedVersusBureau)}`, { width: WIDTH });
  }

  doc.moveDown(0.8).fontSize(11).text('审批 Approval', x, doc.y, { width: WIDTH });
  const d = f.decision;
  if (d) {
    keyValues(doc, [
      ['决定 Decision', DECISION_LABELS[d.decision] ?? d.decision],
      ['审批人 Approver', d.approver],
      ['审批时间 Decided at', `${shanghaiTime(d.decidedAt)} 北京时间`],
      ['统计表摘要 Table digest', d.digest ?? '-'],
      ['意见 Comment', (d.comment ?? '').slice(0, 300) || '-'],
      ...(d.signature ? [['签名密钥 Signature key', d.signature.keyId] as [string, string]] : []),
      ...(f.confirmedAt ? [['税局确认时间 Confirmed at the bureau', f.confirmedAt] as [string, string]] : []),
    ]);
  } else {
    doc
      .fontSize(9)
      .text(
        `无审批决定 No decision was made${f.approvalDeadline ? `（审批截止 approval deadline ${shanghaiTime(f.approvalDeadline)} 北京时间）` : ''}.`,
        { width: WIDTH },
      );
  }
  doc
    .moveDown(0.6)
    .fontSize(9)
    .text(`说明 Note: ${f.note.slice(0, 400)}`, x, doc.y, { width: WIDTH });

  const footer = [
    `工作流 Workflow ${f.workflowId} · 报告生成 Generated ${shanghaiTime(f.generatedAt)} · ${TIME_ZONE_NOTE}`,
    '完整记录（发票、全部审批与税局写入）见同名 .xlsx The full record (invoices, every decision and bureau write) is in the .xlsx workbook.',
  ];
  doc
    .fontSize(7)
    .fillColor('#555')
    .text(footer.join('\n'), x, BOTTOM - 30, { width: WIDTH, height: 30 });
  doc.fillColor('black');
}

function keyValues(doc: PDFKit.PDFDocument, pairs: [string, string][]): void {
  const x = PAGE.margin;
  doc.fontSize(9);
  for (const [key, value] of pairs) {
    const y = doc.y;
    doc.text(key, x, y, { width: 170, lineBreak: false });
    doc.text(value, x + 175, y, { width: WIDTH - 175 });
    doc.y = Math.max(doc.y, y + 13);
  }
}

const COLUMNS = [
  { label: ['统计类别', 'Category'], width: 155 },
  { label: ['可抵扣份数', 'Deductible count'], width: 60 },
  { label: ['可抵扣金额', 'Deductible amount'], width: 60 },
  { label: ['可抵扣税额', 'Deductible tax'], width: 60 },
  { label: ['不抵扣份数', 'Non-ded. count'], width: 60 },
  { label: ['不抵扣金额', 'Non-ded. amount'], width: 60 },
  { label: ['不抵扣税额', 'Non-ded. tax'], width: 60 },
];

function statisticTable(doc: PDFKit.PDFDocument, items: StatisticLine[], total?: StatisticLine): void {
  const x0 = PAGE.margin;
  const rowHeight = 14;
  let y = doc.y + 4;
  const cells = (texts: string[], top: number, size: number, bold = false) => {
    let x = x0;
    texts.forEach((text, i) => {
      const column = COLUMNS[i]!;
      doc
        .fontSize(size)
        .fillColor(bold ? 'black' : '#111')
        .text(text, x + 3, top + 3, {
          width: column.width - 6,
          height: size + 2,
          ellipsis: true,
          align: i === 0 ? 'left' : 'right',
        });
      x += column.width;
    });
  };
  doc
    .rect(x0, y, WIDTH, rowHeight * 2)
    .fill('#e8eef7')
    .fillColor('black');
  cells(
    COLUMNS.map((c) => c.label[0]!),
    y,
    8,
  );
  cells(
    COLUMNS.map((c) => c.label[1]!),
    y + rowHeight - 3,
    6,
  );
  y += rowHeight * 2;
  const rows = [...items, ...(total ? [total] : [])];
  const shown = rows.slice(0, MAX_TABLE_ROWS);
  for (const r of shown) {
    cells(
      [
        `${r.category} ${categoryName(r.category)}`,
        String(r.deductibleCount),
        r.deductibleAmount,
        r.deductibleTax,
        String(r.notDeductibleCount),
        r.notDeductibleAmount,
        r.notDeductibleTax,
      ],
      y,
      8,
    );
    doc
      .moveTo(x0, y + rowHeight)
      .lineTo(x0 + WIDTH, y + rowHeight)
      .lineWidth(0.3)
      .strokeColor('#bbb')
      .stroke();
    y += rowHeight;
  }
  if (rows.length === 0) {
    doc.fontSize(8).text('统计表为空 The table is empty.', x0 + 3, y + 3, { width: WIDTH });
    y += rowHeight;
  }
  if (rows.length > shown.length) {
    doc
      .fontSize(8)
      .text(`… ${rows.length - shown.length} more rows in the workbook 其余见工作簿`, x0 + 3, y + 3, { width: WIDTH });
    y += rowHeight;
  }
  doc.x = x0;
  doc.y = y + 4;
}
