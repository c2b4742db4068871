/** Server-rendered pages of the approvers' inbox. Labels: Chinese first, English beside it. */
import type { StatisticLine } from '../workflows/contract.js';
import { plannedVersusBureauText } from '../workflows/plannedVersusBureauText.js';
import type { DecisionRow, PendingApproval, PendingMonth } from './data.js';
import { formatShanghaiTime, likelyCurrentPeriod } from '../protocol/period.js';
import { categoryName, STATISTIC_COLUMNS } from '../rules/statisticObject.js';
import { overviewNav } from './overviewNav.js';

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** "2 天 3 小时 (2d 3h)" until the deadline, or overdue. */
export function timeLeft(deadline: string | undefined, now: Date): string {
  if (!deadline) return '-';
  const ms = Date.parse(deadline) - now.getTime();
  if (ms <= 0) return '已逾期 overdue';
  const hours = Math.floor(ms / 3600_000);
  const days = Math.floor(hours / 24);
  const minutes = Math.floor((ms % 3600_000) / 60_000);
  return days > 0
    ? `${days} 天 ${hours % 24} 小时 (${days}d ${hours % 24}h)`
    : `${hours} 小时 ${minutes} 分 (${hours}h ${minutes}m)`;
}

function statisticTable(items: StatisticLine[], total?: StatisticLine): string {
  if (items.length === 0 && !total) return '<p>统计表为空 The statistic table is empty.</p>';
  const rows = [...items, ...(total ? [total] : [])]
    .map(
      (i) => `<tr><td>${escapeHtml(`${i.category} ${categoryName(i.category)}`)}</td>
<td class="n">${i.deductibleCount}</td><td class="n">${escapeHtml(i.deductibleAmount)}</td><td class="n">${escapeHtml(i.deductibleTax)}</td>
<td class="n">${i.notDeductibleCount}</td><td class="n">${escapeHtml(i.notDeductibleAmount)}</td><td class="n">${escapeHtml(i.notDeductibleTax)}</td></tr>`,
    )
    .join('\n');
  return `<table class="statistic"><thead>
<tr>${STATISTIC_COLUMNS.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr>
</thead><tbody>
${rows}
</tbody></table>`;
}

/** What a card needs to offer the decision forms: the CSRF token, and who decides. */
export interface DecideAs {
  csrfToken: string;
  /** The registry's approver entry the logged-in identity decides under. */
  approver: string;
}

const csrfField = (token: string) => `<input type="hidden" name="_csrf" value="${escapeHtml(token)}">`;

function pendingCard(p: PendingApproval, now: Date, decideAs: DecideAs | undefined): string {
  const pr = p.progress;
  const s = pr.selection;
  const failures = s?.failures.length
    ? `<h4>勾选失败的发票 Invoices that failed selection (${s.failed})</h4><table class="failures">
<thead><tr><th>发票代码 Code</th><th>发票号码 Number</th><th>结果码 Result code</th><th>原因 Reason</th></tr></thead><tbody>
${s.failures.map((f) => `<tr><td>${escapeHtml(f.invoiceCode)}</td><td>${escapeHtml(f.invoiceNo)}</td><td>${escapeHtml(f.resultCode)}</td><td>${escapeHtml(f.resultMsg)}</td></tr>`).join('\n')}
</tbody></table>${s.failed > s.failures.length ? `<p>… ${s.failed - s.failures.length} more 另有更多</p>` : ''}`
    : '<p>无失败发票 No invoice failed.</p>';
  const hidden = `${csrfField(decideAs?.csrfToken ?? '')}<input type="hidden" name="taxNo" value="${escapeHtml(pr.taxNo)}"><input type="hidden" name="period" value="${escapeHtml(pr.taxPeriod)}">`;
  // A decision names the table shown here: a table that changed since is not confirmed (and a
  // signed decision covers it).
  const digest = pr.statistic?.digest
    ? `<input type="hidden" name="statisticDigest" value="${escapeHtml(pr.statistic.digest)}">`
    : '';
  return `<section class="pending" data-workflow-id="${escapeHtml(p.workflowId)}">
<h3>${escapeHtml(p.name ?? pr.taxNo)} · 税款所属期 Period ${escapeHtml(pr.taxPeriod)}</h3>
<dl>
<dt>纳税人识别号 Tax No</dt><dd class="tax-no">${escapeHtml(pr.taxNo)}</dd>
<dt>审批截止 Approval deadline</dt><dd>${escapeHtml(pr.approvalDeadline ? formatShanghaiTime(pr.approvalDeadline) : '-')}</dd>
<dt>剩余时间 Time left</dt><dd class="time-left">${escapeHtml(timeLeft(pr.approvalDeadline, now))}</dd>
<dt>勾选截止 Selection deadline</dt><dd>${escapeHtml(pr.deductionDeadline ?? '-')}</dd>
<dt>勾选 Selection</dt><dd>${s ? `${s.selected} 已勾选 selected · ${s.alreadySelected} 此前已勾选 already selected · ${s.failed} 失败 failed / ${s.candidates} 候选 candidates` : '-'}</dd>
<dt>可抵扣合计 Deductible total</dt><dd>${pr.statistic ? `${pr.statistic.deductibleCount} 份 invoices · 金额 amount ${escapeHtml(pr.statistic.deductibleAmount)} · 税额 tax ${escapeHtml(pr.statistic.deductibleTax)}` : '-'}</dd>
<dt>统计表摘要 Table digest</dt><dd class="digest">${escapeHtml(pr.statistic?.digest ?? '-')}</dd>
</dl>
<h4>统计表 Statistic table</h4>
${pr.statistic ? statisticTable(pr.statistic.items, pr.statistic.total) : '<p>-</p>'}
${pr.plannedVersusBureau ? `<p class="check">核对 Planned vs bureau: ${escapeHtml(plannedVersusBureauText(pr.plannedVersusBureau))}</p>` : ''}
${failures}
${
  decideAs
    ? `<p class="decide-as">审批人 Approver: <strong>${escapeHtml(decideAs.approver)}</strong>（当前登录身份 the logged-in identity）</p>
<div class="decide">
<form method="post" action="/approve" class="approve">${hidden}${digest}
<label>审批意见 Comment <input name="comment" maxlength="500"></label>
<button type="submit" class="approve-button">同意并确认 Approve</button></form>
<form method="post" action="/reject" class="reject">${hidden}${digest}
<label>驳回原因 Reason <input name="reason" required maxlength="500"></label>
<button type="submit" class="reject-button">驳回 Reject</button></form>
</div>`
    : '<p class="read-only">您不是该纳税人的审批人（只读） You are not an approver of this taxpayer (read-only).</p>'
}
</section>`;
}

/** The detail page of one month: its statistic table, failures and (for an approver) the forms. */
export function monthPath(taxNo: string, period: string): string {
  return `/months/${encodeURIComponent(taxNo)}/${encodeURIComponent(period)}`;
}

/** "✓ 一致 agrees", "✗ 不一致 differs", or "-" when the month did not compare. */
export function agreementMark(agrees: boolean | undefined): string {
  return agrees === undefined ? '-' : agrees ? '✓ 一致 agrees' : '✗ 不一致 differs';
}

const PENDING_HEAD = `<tr><th>纳税人 Taxpayer</th><th>所属期 Period</th><th>审批截止 Approval deadline</th><th>剩余时间 Time left</th>
<th>可抵扣份数 Deductible invoices</th><th>金额 Amount</th><th>税额 Tax</th><th>计划与税局核对 Planned vs bureau</th><th>失败发票 Failed</th><th></th></tr>`;

/** One row per waiting month, from visibility alone (search attributes and memo). */
function pendingRow(m: PendingMonth, now: Date, link: string): string {
  const t = m.totals;
  const urgent = m.approvalDeadline && Date.parse(m.approvalDeadline) - now.getTime() < 2 * 86_400_000;
  const agreement = t?.plannedAgreesWithBureau;
  return `<tr class="pending-row${urgent ? ' urgent' : ''}" data-workflow-id="${escapeHtml(m.workflowId)}"><td>${escapeHtml(m.name ?? m.taxNo)}${m.name ? `<br><small class="tax-no">${escapeHtml(m.taxNo)}</small>` : ''}</td>
<td>${escapeHtml(m.taxPeriod)}</td><td>${escapeHtml(m.approvalDeadline ? formatShanghaiTime(m.approvalDeadline) : '-')}</td><td class="time-left">${escapeHtml(timeLeft(m.approvalDeadline, now))}</td>
<td class="n">${t ? t.deductibleCount : '-'}</td><td class="n">${escapeHtml(t?.deductibleAmount ?? '-')}</td><td class="n">${escapeHtml(t?.deductibleTax ?? '-')}</td>
<td class="check${agreement === false ? ' differs' : ''}">${escapeHtml(agreementMark(agreement))}</td><td class="n failed">${t ? t.failedInvoices : '-'}</td>
<td><a class="review" href="${escapeHtml(monthPath(m.taxNo, m.taxPeriod))}">${escapeHtml(link)}</a></td></tr>`;
}

function pendingTable(rows: PendingMonth[], now: Date, cls: string, link: string): string {
  return `<table class="${cls}"><thead>${PENDING_HEAD}</thead><tbody>
${rows.map((m) => pendingRow(m, now, link)).join('\n')}
</tbody></table>`;
}

/** Months waiting for someone else: listed so the team sees them, without the decision forms. */
function othersTable(rows: PendingMonth[], now: Date): string {
  if (rows.length === 0) return '';
  return `<h2>其他待审批（只读）Awaiting other approvers (read-only)</h2>
<p>您不是这些纳税人的审批人 You are not an approver of these taxpayers.</p>
${pendingTable(rows, now, 'others', '查看 View')}`;
}

/** The outcomes a month has an audit report for (report/facts.ts REPORTABLE_OUTCOMES). */
const REPORTED_OUTCOMES = ['COMPLETED', 'REJECTED', 'EXPIRED'];

/** Where a month's audit report downloads (inbox/reports.ts serves it). */
export function reportPath(taxNo: string, period: string, format: 'xlsx' | 'pdf'): string {
  return `${monthPath(taxNo, period)}/report.${format}`;
}

function reportLinks(r: DecisionRow): string {
  return `<a class="report-xlsx" href="${escapeHtml(reportPath(r.taxNo, r.taxPeriod, 'xlsx'))}">审计报告 Report (xlsx)</a> · <a class="report-pdf" href="${escapeHtml(reportPath(r.taxNo, r.taxPeriod, 'pdf'))}">PDF</a>`;
}

function historyTable(
  rows: DecisionRow[],
  approverLabel: (approver: string) => string,
  mayReadReports: (taxNo: string) => boolean,
): string {
  if (rows.length === 0) return '<p>暂无记录 No decisions yet.</p>';
  return `<table class="history"><thead><tr><th>纳税人 Tax No</th><th>所属期 Period</th><th>结果 Outcome</th><th>审批人 Approver</th><th>意见 Comment</th><th>时间 Decided at</th><th>审计报告 Audit report</th></tr></thead><tbody>
${rows
  .map(
    (r) =>
      `<tr data-workflow-id="${escapeHtml(r.workflowId)}"><td>${escapeHtml(r.taxNo)}</td><td>${escapeHtml(r.taxPeriod)}</td><td class="outcome">${escapeHtml(r.outcome)}</td><td>${escapeHtml(r.approver ? approverLabel(r.approver) : '-')}</td><td>${escapeHtml(r.comment ?? '')}</td><td>${escapeHtml(r.decidedAt ?? r.closedAt ?? '')}</td><td class="report">${REPORTED_OUTCOMES.includes(r.outcome) && mayReadReports(r.taxNo) ? reportLinks(r) : ''}</td></tr>`,
  )
  .join('\n')}
</tbody></table>`;
}

export const INBOX_CSS = `body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:2rem;max-width:70rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem}td.n{text-align:right}
section.pending{border:1px solid #888;border-radius:6px;padding:1rem;margin:1rem 0}
dl{display:grid;grid-template-columns:14rem 1fr;gap:.2rem}.decide{display:flex;gap:2rem}
.message{background:#e6ffe6;padding:.5rem}.error{background:#ffe6e6;padding:.5rem}
header.user{display:flex;justify-content:flex-end;gap:1rem;align-items:center}
form.login{display:grid;gap:.6rem;max-width:22rem}form.login input{padding:.3rem}
.sso{margin-top:1.5rem}
table.mine tr.urgent td.time-left{color:#b00;font-weight:bold}td.check.differs{color:#b00}
small.tax-no{color:#555}
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><link rel="stylesheet" href="/inbox.css"></head><body>
${body}
</body></html>`;
}

function notices(message?: string, error?: string): string {
  return `${message ? `<p class="message">${escapeHtml(message)}</p>` : ''}${error ? `<p class="error">${escapeHtml(error)}</p>` : ''}`;
}

export function renderInbox(opts: {
  /** Months the logged-in identity may decide (from visibility). */
  mine: PendingMonth[];
  /** Months waiting for other approvers. */
  others: PendingMonth[];
  history: DecisionRow[];
  now: Date;
  user: string;
  csrfToken: string;
  /** How the history names an approver, e.g. "王会计 (wang)" for an account id. */
  approverLabel?: (approver: string) => string;
  /** Whether the logged-in identity may download a taxpayer's audit reports (links shown then). */
  mayReadReports?: (taxNo: string) => boolean;
  message?: string;
  error?: string;
}): string {
  const { mine, others, history, now, csrfToken } = opts;
  return page(
    '待审批 Approvals · 进项发票抵扣 VAT deduction',
    `${userHeader(opts.user, csrfToken)}
<h1>待审批 Awaiting approval <small>进项发票抵扣勾选 VAT input-invoice deduction</small></h1>
${overviewNav(likelyCurrentPeriod(now))}
${notices(opts.message, opts.error)}
${
  mine.length
    ? `<p class="count">${mine.length} 个月待您审批 month(s) await your approval</p>
${pendingTable(mine, now, 'mine', '查看并审批 Review')}`
    : '<p class="empty">没有待您审批的统计表 Nothing awaits your approval.</p>'
}
${othersTable(others, now)}
<h2>审批记录 Decision history</h2>
${historyTable(history, opts.approverLabel ?? ((a) => a), opts.mayReadReports ?? (() => false))}`,
  );
}

/** The detail page of one waiting month (from the workflow's progress query). */
export function renderMonth(opts: {
  pending: PendingApproval;
  /** Set when the logged-in identity may decide this month. */
  decideAs?: DecideAs;
  now: Date;
  user: string;
  csrfToken: string;
}): string {
  const { pending, now, csrfToken } = opts;
  const waiting = pending.progress.stage === 'AWAITING_APPROVAL';
  return page(
    `${pending.name ?? pending.progress.taxNo} ${pending.progress.taxPeriod} · 待审批 Approval`,
    `${userHeader(opts.user, csrfToken)}
<p><a href="/" class="back">← 返回待审批列表 Back to the list</a></p>
${
  waiting
    ? pendingCard(pending, now, opts.decideAs)
    : `<p class="error">该月份不在待审批阶段（当前 ${escapeHtml(pending.progress.stage)}） This month does not await approval (stage ${escapeHtml(pending.progress.stage)}).</p>`
}`,
  );
}

function userHeader(user: string, csrfToken: string): string {
  return `<header class="user"><span>已登录 Logged in: <strong class="user-name">${escapeHtml(user)}</strong></span>
<form method="post" action="/logout" class="logout">${csrfField(csrfToken)}<button type="submit">退出登录 Log out</button></form></header>`;
}

export function renderLogin(opts: {
  csrfToken: string;
  /** Offer "log in with SSO" (OpenID Connect is configured). */
  sso: boolean;
  accountId?: string;
  message?: string;
  error?: string;
}): string {
  return page(
    '登录 Log in · 进项发票抵扣 VAT deduction',
    `<h1>审批登录 Approver login <small>进项发票抵扣勾选 VAT input-invoice deduction</small></h1>
${notices(opts.message, opts.error)}
<form method="post" action="/login" class="login">${csrfField(opts.csrfToken)}
<label>账号 Account <input name="account" required maxlength="32" autocomplete="username" value="${escapeHtml(opts.accountId ?? '')}"></label>
<label>密码 Password <input name="password" type="password" required maxlength="256" autocomplete="current-password"></label>
<button type="submit" class="login-button">登录 Log in</button></form>
${opts.sso ? '<p class="sso"><a href="/auth/oidc/login" class="sso-link">使用单点登录 Log in with SSO</a></p>' : ''}`,
  );
}

/** A refusal or failure page (403 forged or expired form, 429 too many attempts, 5xx). */
export function renderProblem(status: number, text: string): string {
  return page(
    `${status} · 进项发票抵扣 VAT deduction`,
    `<h1>${status === 429 ? '请求过多 Too many requests' : status >= 500 ? '出错了 Something went wrong' : '请求被拒绝 Request refused'}</h1>
<p class="error">${escapeHtml(text)}</p>
<p><a href="/">返回 Back to the inbox</a></p>`,
  );
}
