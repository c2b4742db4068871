import type { AccountingReport } from './accountingContract.js';

const STATUS_LABELS: Record<AccountingReport['status'], string> = {
  PLANNING: '规则匹配中 Matching the rules',
  BOOKING: '入账中 Booking',
  COMPLETED: '已完成 Completed',
  FAILED: '失败 Failed',
};

const MAX_TASKS_SHOWN = 10;

const counts = (byRule: Record<string, number>) =>
  Object.entries(byRule)
    .map(([rule, n]) => `\`${rule}\` ${n}`)
    .join(', ') || 'none';

/** The per-run report as the markdown the Temporal Web UI shows as current details. */
export function renderAccountingReport(r: AccountingReport): string {
  const lines = [
    `**自动入账 Auto-accounting: ${STATUS_LABELS[r.status]}**`,
    '',
    `- 纳税人 Taxpayer: \`${r.taxNo}\``,
    `- 入账期间 Accounting period: ${r.accountPeriod}`,
    `- 规则 Rules: ${r.rulesSource || '(loading)'}`,
    `- 未入账发票 Unbooked invoices examined: ${r.examined}`,
    `- 已入账 Booked: ${r.booked} (${counts(r.bookedByRule)})`,
    `- 按规则跳过 Skipped by rule: ${counts(r.skippedByRule)}`,
    `- 无规则覆盖 No rule covers: ${r.noRule}`,
  ];
  if (r.conflicts) lines.push(`- 规则冲突 Rules disagree: ${r.conflicts}`);
  if (r.deferred) lines.push(`- 留待下次 Deferred to the next run: ${r.deferred}`);
  if (r.confirmedFromPool)
    lines.push(`- 池中确认已入账 Seen booked in the pool after a lost reply: ${r.confirmedFromPool}`);
  lines.push(`- 入账失败 Failed: ${r.failed}`);
  for (const f of r.failures.slice(0, 10)) {
    lines.push(
      `  - \`${f.invoiceCode}${f.invoiceCode ? '/' : ''}${f.invoiceNo}\` (${f.rule}): ${f.resultCode} ${f.resultMsg}`,
    );
  }
  if (r.taskNos.length) {
    const shown = r.taskNos.slice(-MAX_TASKS_SHOWN).map((t) => `\`${t}\``);
    const more = r.taskNos.length > MAX_TASKS_SHOWN ? ` (the last ${MAX_TASKS_SHOWN})` : '';
    lines.push(`- 入账任务号 Accounting tasks: ${r.taskNos.length}${more}: ${shown.join(', ')}`);
  }
  if (r.poolReads !== undefined) lines.push(`- 票池查询 Pool pages read: ${r.poolReads}`);
  if (r.error) lines.push(`- 错误 Error: ${r.error}`);
  return lines.join('\n');
}
