/** How the CLI prints months, tables and statistic lines. */
import { describeStatisticStatus } from '../protocol/codes.js';
import { formatShanghaiTime } from '../protocol/period.js';
import { categoryName, STATISTIC_COLUMNS } from '../rules/statisticObject.js';
import { type Progress, type StatisticLine } from '../workflows/contract.js';
import { plannedVersusBureauText } from '../workflows/plannedVersusBureauText.js';
import { type DeductionRow, type DeductionStatus } from './deductions.js';
import { describeResetPoint, type RetryCandidate } from './retryMonth.js';
import { isRetryableStatus, retryCommand } from '../workflows/launcherContract.js';

export function line(label: string, value: string | number | undefined): string {
  return `${`${label}:`.padEnd(34)} ${value ?? '-'}\n`;
}

export function statisticLines(items: StatisticLine[], total?: StatisticLine): string {
  if (items.length === 0 && !total) return '';
  const header = [...STATISTIC_COLUMNS];
  const rows = [...items, ...(total ? [total] : [])].map((i) => [
    `${i.category} ${categoryName(i.category)}`,
    String(i.deductibleCount),
    i.deductibleAmount,
    i.deductibleTax,
    String(i.notDeductibleCount),
    i.notDeductibleAmount,
    i.notDeductibleTax,
  ]);
  return table(header, rows, '  ');
}

export function table(header: string[], rows: string[][], indent = ''): string {
  const width = (s: string) => [...s].reduce((n, ch) => n + (/[\u2E80-\uFFEF]/.test(ch) ? 2 : 1), 0);
  const widths = header.map((h, c) => Math.max(width(h), ...rows.map((r) => width(r[c] ?? ''))));
  const fmt = (cells: string[]) =>
    indent +
    cells
      .map((cell, c) => cell + ' '.repeat((widths[c] ?? 0) - width(cell)))
      .join('  ')
      .trimEnd() +
    '\n';
  return fmt(header) + rows.map(fmt).join('');
}

/** The readable status block. */
export function formatStatus(status: DeductionStatus): string {
  const p: Progress = status.progress;
  let text = '';
  text += line('Workflow 工作流', `${status.workflowId} (${status.status})`);
  text += line('Tax No 纳税人识别号', p.taxNo);
  text += line('Period 税款所属期', p.taxPeriod);
  text += line('Stage 阶段', p.stage);
  text += line('Deduction deadline 勾选截止日期', p.deductionDeadline);
  text += line('Approval deadline 审批截止时间', p.approvalDeadline && formatShanghaiTime(p.approvalDeadline));
  text += line('Started 开始时间', status.startTime.toISOString());
  if (status.closeTime) text += line('Closed 结束时间', status.closeTime.toISOString());
  text += line('Updated 更新时间', p.updatedAt);
  if (p.selection) {
    const s = p.selection;
    text += line(
      'Selection 勾选',
      `candidates ${s.candidates}, submitted ${s.submitted}, selected ${s.selected}, ` +
        `already selected ${s.alreadySelected}, failed ${s.failed}`,
    );
    // Candidate source and the invoices it skipped (with an invoices file's row numbers).
    if (s.source) text += line('Candidates from 候选来源', s.source);
    for (const [reason, count] of Object.entries(s.skipped ?? {})) {
      const rows = s.skippedRows?.[reason as keyof typeof s.skipped];
      text += `  skipped 未选: ${reason} ${count}${rows ? ` (rows ${rows})` : ''}\n`;
    }
    for (const f of s.failures) {
      text += `  failed 失败: ${f.invoiceCode}/${f.invoiceNo} code ${f.resultCode}: ${f.resultMsg}\n`;
    }
    if (s.failed > s.failures.length) text += `  ... and ${s.failed - s.failures.length} more failures\n`;
  }
  if (p.statistic) {
    const st = p.statistic;
    text += line(
      'Statistic 统计表',
      `status ${st.statisticStatus} ${describeStatisticStatus(st.statisticStatus)}`.trim() +
        `, updated ${st.updateTime}`,
    );
    text += line(
      'Deductible total 可抵扣合计',
      `count ${st.deductibleCount}, amount ${st.deductibleAmount}, tax ${st.deductibleTax}`,
    );
    text += statisticLines(st.items, st.total);
  }
  if (p.plannedVersusBureau)
    text += line('Planned vs bureau 计划/税局', plannedVersusBureauText(p.plannedVersusBureau));
  if (p.decisionPolicy === 'signed') text += line('Decision policy 审批策略', 'signed decisions only 仅接受签名审批');
  if (p.decision) {
    const d = p.decision;
    const verb = d.decision === 'approved' ? 'approved 已同意' : 'rejected 已驳回';
    const signed = d.signature ? `, signed with key ${d.signature.keyId} at ${d.signature.signedAt}` : '';
    text += line(
      'Decision 审批结果',
      `${verb} by ${d.approver} at ${d.decidedAt}${signed}${d.comment ? `: ${d.comment}` : ''}`,
    );
  }
  if (p.lastBureauError) text += line('Bureau message 税局返回', p.lastBureauError);
  if (status.result) {
    text += line('Outcome 结果', status.result.outcome);
    if (status.result.confirmedAt) text += line('Confirmed 确认时间', status.result.confirmedAt);
    if (status.result.periodAfterChange)
      text += line('Period after change 变更后所属期', status.result.periodAfterChange);
    text += line('Note 说明', status.result.note);
  }
  for (const r of status.progress.refusedSignals ?? []) {
    const what = r.via === 'update' ? `${r.signal} update` : r.signal;
    text += `  refused ${what} 未采纳的决定 (${r.at}${r.approver ? `, ${r.approver}` : ''}): ${r.reason}\n`;
  }
  if (status.failure) text += line('Failure 失败原因', status.failure);
  if (isRetryableStatus(status.status)) {
    text += `To resume this month from where it stopped: ${retryCommand(p.taxNo, p.taxPeriod)}\n`;
  }
  if (status.source === 'search-attributes' && status.status === 'RUNNING') {
    text += '(No worker answered the progress query: stage taken from the DeductionStage search attribute.)\n';
  }
  return text;
}

/** What `retry` found, printed before it acts. */
export function formatRetryCandidate(c: RetryCandidate): string {
  let text = '';
  text += line('Workflow 工作流', `${c.workflowId}, run ${c.runId}`);
  text += line('Status 状态', `${c.status}${c.closeTime ? ` at ${c.closeTime.toISOString()}` : ''}`);
  text += line('Failure 失败原因', c.failure);
  if (c.stage) text += line('Stage 阶段', `${c.stage}${c.stageBefore ? ` (in ${c.stageBefore} when it stopped)` : ''}`);
  text += line('Reset point 重置点', describeResetPoint(c.resetPoint));
  return text;
}

export function formatRows(rows: DeductionRow[]): string {
  if (rows.length === 0) return 'No deduction workflows match.\n';
  return table(
    ['WORKFLOW ID', 'TAX NO', 'PERIOD', 'STAGE', 'STATUS', 'STARTED'],
    rows.map((r) => [
      r.workflowId,
      r.taxNo ?? '-',
      r.taxPeriod ?? '-',
      r.stage ?? '-',
      r.status,
      r.startTime.toISOString(),
    ]),
  );
}
