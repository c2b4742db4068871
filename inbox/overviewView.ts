/**
 * The period overview page: headline figures, a bar chart of months by stage (inline SVG: no
 * script, no inline style, so the inbox's CSP holds), the table by stage and what is overdue.
 */
import { addMonths, formatShanghaiTime } from '../protocol/period.js';
import { Stage } from '../workflows/contract.js';
import { STAGE_LABELS } from '../workflows/details.js';
import type { OverdueMonth, PeriodOverview, StageFigures } from './overview.js';
import { overviewPath, periodPicker } from './overviewNav.js';
import { escapeHtml, monthPath } from './view.js';

const NOT_STARTED_LABEL = '未开始 Not started';

/** The colour group of a stage (classes in OVERVIEW_CSS). */
function stageClass(stage: Stage | undefined): string {
  switch (stage) {
    case undefined:
    case Stage.Canceled:
      return 'other';
    case Stage.AwaitingApproval:
      return 'waiting';
    case Stage.Completed:
      return 'done';
    case Stage.Rejected:
      return 'rejected';
    case Stage.Expired:
    case Stage.Failed:
      return 'problem';
    default:
      return 'working';
  }
}

export const OVERVIEW_CSS = `nav.overview-nav{display:flex;gap:1.5rem;align-items:center;margin:.5rem 0}
form.period-picker{display:flex;gap:.5rem;align-items:center}form.period-picker input{width:6rem;padding:.2rem}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(15rem,1fr));gap:.6rem;margin:1rem 0}
.figure{border:1px solid #ccc;border-radius:6px;padding:.5rem .8rem}.figure .value{font-size:1.4rem;font-weight:bold}
.figure.overdue .value{color:#b00}.figure.deadline .value{font-size:1rem}.figure small{display:block;color:#555}
svg.stage-chart{max-width:100%;height:auto;margin:.5rem 0}svg.stage-chart text{font-size:13px;fill:#222}
svg.stage-chart rect.bar.working{fill:#4a7bd0}svg.stage-chart rect.bar.waiting{fill:#e0a020}
svg.stage-chart rect.bar.done{fill:#2f9a4a}svg.stage-chart rect.bar.rejected{fill:#8a5bb8}
svg.stage-chart rect.bar.problem{fill:#c8372d}svg.stage-chart rect.bar.other{fill:#999}
table.overdue td.late{color:#b00;font-weight:bold}
`;

/** "3 天 4 小时 (3d 4h)" since the deadline. */
export function lateBy(deadline: string, now: Date): string {
  const ms = Math.max(0, now.getTime() - Date.parse(deadline));
  const hours = Math.floor(ms / 3600_000);
  const days = Math.floor(hours / 24);
  return days > 0
    ? `${days} 天 ${hours % 24} 小时 (${days}d ${hours % 24}h)`
    : `${hours} 小时 ${Math.floor((ms % 3600_000) / 60_000)} 分 (${hours}h ${Math.floor((ms % 3600_000) / 60_000)}m)`;
}

interface Bar {
  key: string;
  label: string;
  months: number;
  cls: string;
}

/** Horizontal bars, one per stage with months (and the taxpayers not started), scaled to the largest. */
export function stageChart(overview: PeriodOverview): string {
  const bars: Bar[] = overview.stages
    .filter((s) => s.months > 0)
    .map((s) => ({ key: s.stage, label: STAGE_LABELS[s.stage], months: s.months, cls: stageClass(s.stage) }));
  if (overview.notStarted.length > 0) {
    bars.push({ key: 'NOT_STARTED', label: NOT_STARTED_LABEL, months: overview.notStarted.length, cls: 'other' });
  }
  if (bars.length === 0) return '';
  const labelWidth = 280;
  const barArea = 320;
  const rowHeight = 30;
  const width = labelWidth + barArea + 60;
  const height = bars.length * rowHeight + 10;
  const most = Math.max(...bars.map((b) => b.months));
  const summary = bars.map((b) => `${b.label}: ${b.months}`).join('; ');
  const rows = bars
    .map((b, i) => {
      const y = 5 + i * rowHeight;
      const w = Math.max(2, Math.round((b.months / most) * barArea));
      return `<g class="stage-bar" data-stage="${escapeHtml(b.key)}" data-months="${b.months}"><title>${escapeHtml(`${b.label}: ${b.months}`)}</title>
<text x="${labelWidth - 8}" y="${y + 19}" text-anchor="end">${escapeHtml(b.label)}</text>
<rect class="bar ${b.cls}" x="${labelWidth}" y="${y + 4}" width="${w}" height="${rowHeight - 8}" rx="3"></rect>
<text x="${labelWidth + w + 6}" y="${y + 19}">${b.months}</text></g>`;
    })
    .join('\n');
  return `<svg class="stage-chart" xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="stage-chart-title stage-chart-desc" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
<title id="stage-chart-title">各阶段月份数 Months by stage, ${escapeHtml(overview.period)}</title>
<desc id="stage-chart-desc">${escapeHtml(summary)}</desc>
${rows}
</svg>`;
}

function figure(cls: string, label: string, value: string | number, note?: string): string {
  return `<div class="figure ${cls}"><span class="label">${escapeHtml(label)}</span><div class="value">${escapeHtml(value)}</div>${note ? `<small>${escapeHtml(note)}</small>` : ''}</div>`;
}

function money(f: StageFigures): string {
  return `金额 amount ${f.amount} · 税额 tax ${f.tax}`;
}

function stageTable(overview: PeriodOverview): string {
  const rows = overview.stages.filter((s) => s.months > 0);
  if (rows.length === 0) return '';
  return `<table class="stages"><thead><tr><th>阶段 Stage</th><th>月份 Months</th><th>可抵扣份数 Deductible invoices</th><th>金额 Amount</th><th>税额 Tax</th><th>无统计表 Without a table</th></tr></thead><tbody>
${rows
  .map(
    (s) =>
      `<tr data-stage="${s.stage}"><td>${escapeHtml(STAGE_LABELS[s.stage])}</td><td class="n months">${s.months}</td><td class="n">${s.deductibleCount}</td><td class="n amount">${s.amount}</td><td class="n tax">${s.tax}</td><td class="n">${s.withoutTotals}</td></tr>`,
  )
  .join('\n')}
</tbody></table>`;
}

function overdueTable(rows: OverdueMonth[], period: string, now: Date): string {
  if (rows.length === 0) return '<p class="none-overdue">没有逾期的月份 Nothing is overdue.</p>';
  const shown = rows.slice(0, 200);
  return `<table class="overdue"><thead><tr><th>纳税人 Taxpayer</th><th>阶段 Stage</th><th>审批截止 Approval deadline</th><th>已逾期 Overdue by</th><th></th></tr></thead><tbody>
${shown
  .map(
    (o) =>
      `<tr${o.workflowId ? ` data-workflow-id="${escapeHtml(o.workflowId)}"` : ''} data-tax-no="${escapeHtml(o.taxNo)}"><td>${escapeHtml(o.name ?? o.taxNo)}${o.name ? `<br><small class="tax-no">${escapeHtml(o.taxNo)}</small>` : ''}</td>
<td class="stage">${escapeHtml(o.stage ? STAGE_LABELS[o.stage] : NOT_STARTED_LABEL)}</td><td>${escapeHtml(formatShanghaiTime(o.deadline))}${o.defaultDeadline ? ' <small>(默认 default)</small>' : ''}</td>
<td class="late">${escapeHtml(lateBy(o.deadline, now))}</td><td>${o.workflowId ? `<a href="${escapeHtml(monthPath(o.taxNo, period))}">查看 View</a>` : ''}</td></tr>`,
  )
  .join('\n')}
</tbody></table>${rows.length > shown.length ? `<p>… 另有 ${rows.length - shown.length} 个 and ${rows.length - shown.length} more</p>` : ''}`;
}

export function renderOverview(opts: { overview: PeriodOverview; now: Date; user: string; csrfToken: string }): string {
  const { overview: o, now } = opts;
  const waiting = o.stages.find((s) => s.stage === Stage.AwaitingApproval)!;
  const c = o.confirmed;
  const body = `<header class="user"><span>已登录 Logged in: <strong class="user-name">${escapeHtml(opts.user)}</strong></span>
<form method="post" action="/logout" class="logout"><input type="hidden" name="_csrf" value="${escapeHtml(opts.csrfToken)}"><button type="submit">退出登录 Log out</button></form></header>
<p><a href="/" class="back">← 返回待审批列表 Back to the list</a></p>
<h1>本期概览 Period overview <small>税款所属期 Period <span class="period">${escapeHtml(o.period)}</span></small></h1>
<nav class="overview-nav"><a class="previous" href="${escapeHtml(overviewPath(addMonths(o.period, -1)))}">← ${addMonths(o.period, -1)}</a>
${periodPicker(o.period)}<a class="next" href="${escapeHtml(overviewPath(addMonths(o.period, 1)))}">${addMonths(o.period, 1)} →</a></nav>
<p class="scope">您可查看的纳税人 ${o.taxpayers} 户 · Taxpayers you may see: ${o.taxpayers} (those whose approvers name you). 截至 As of ${escapeHtml(formatShanghaiTime(o.at))}.</p>
${o.leftOut ? '<p class="error">本期月份过多，只统计了前一部分 This period has more months than the overview reads: the figures cover only part of them.</p>' : ''}
<div class="figures">
${figure('months', '月份 Months', o.months, `未开始 not started: ${o.notStarted.length}`)}
${figure('confirmed', '已确认 Confirmed', c.months, `${money(c)} · ${c.deductibleCount} 份 invoices`)}
${figure('waiting', '待审批 Awaiting approval', waiting.months, money(waiting))}
${figure('overdue', '已逾期 Overdue', o.overdue.length, `两天内到期 due within 2 days: ${o.dueSoon}`)}
${figure('deadline', '默认审批截止 Default approval deadline', formatShanghaiTime(o.defaultApprovalDeadline), '申报期截止前一天 a day before the filing deadline ends')}
</div>
<h2>各阶段 By stage</h2>
${o.months + o.notStarted.length > 0 ? stageChart(o) : '<p class="empty">本期没有您可查看的月份 No months of this period that you may see.</p>'}
${stageTable(o)}
<h2>逾期 Overdue</h2>
${overdueTable(o.overdue, o.period, now)}
${
  o.notStarted.length
    ? `<h2>未开始 Not started</h2><p class="not-started">${o.notStarted.map((t) => escapeHtml(t.name ? `${t.name} (${t.taxNo})` : t.taxNo)).join('、')}</p>`
    : ''
}`;
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`本期概览 Period overview ${o.period}`)} · 进项发票抵扣 VAT deduction</title><link rel="stylesheet" href="/inbox.css"><link rel="stylesheet" href="/overview.css"></head><body>
${body}
</body></html>`;
}
