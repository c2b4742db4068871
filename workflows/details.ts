import { formatShanghaiTime } from '../protocol/period.js';
import type { Progress, Stage } from './contract.js';
import { plannedVersusBureauText } from './plannedVersusBureauText.js';

/** Each stage as people read it, Chinese first (the Web UI's details, the inbox's overview). */
export const STAGE_LABELS: Record<Stage, string> = {
  LOGGING_IN: '登录税局 Logging in to the bureau',
  QUERYING_PERIOD: '查询所属期 Querying the tax period',
  SELECTING: '勾选发票 Selecting invoices',
  GENERATING_STATISTIC: '生成统计表 Generating the statistic',
  AWAITING_APPROVAL: '待审批 Awaiting approval',
  CONFIRMING: '确认统计表 Confirming the statistic',
  CHANGING_PERIOD: '变更所属期 Changing the tax period',
  COMPLETED: '已完成 Completed',
  REJECTED: '已驳回 Rejected',
  EXPIRED: '已过期 Expired',
  FAILED: '失败 Failed',
  CANCELED: '已取消 Canceled',
};

/** The markdown the Temporal Web UI shows as the workflow's current details. */
export function renderCurrentDetails(p: Progress): string {
  const lines = [
    `**${(STAGE_LABELS as Record<string, string>)[p.stage] ?? p.stage}**`,
    '',
    `- 纳税人 Taxpayer: \`${p.taxNo}\``,
    `- 税款所属期 Tax period: ${p.taxPeriod}`,
  ];
  if (p.deductionDeadline) lines.push(`- 勾选截止 Selection deadline: ${p.deductionDeadline}`);
  if (p.approvalDeadline) lines.push(`- 审批截止 Approval deadline: ${formatShanghaiTime(p.approvalDeadline)}`);
  if (p.selection) {
    const s = p.selection;
    lines.push(
      `- 勾选 Selection: ${s.selected} selected, ${s.alreadySelected} already selected, ${s.failed} failed of ${s.candidates} candidates`,
    );
    if (s.taskNos.length) lines.push(`- 勾选任务号 Select tasks: ${s.taskNos.map((t) => `\`${t}\``).join(', ')}`);
  }
  if (p.statistic) {
    const st = p.statistic;
    lines.push(
      `- 统计表 Statistic: status ${st.statisticStatus}, ${st.deductibleCount} deductible, amount ${st.deductibleAmount}, tax ${st.deductibleTax} (updated ${st.updateTime})`,
    );
  }
  if (p.plannedVersusBureau) lines.push(`- 核对 Planned vs bureau: ${plannedVersusBureauText(p.plannedVersusBureau)}`);
  if (p.decision) {
    lines.push(`- 审批 Decision: ${p.decision.decision} by ${p.decision.approver} at ${p.decision.decidedAt}`);
  }
  if (p.lastBureauError) lines.push(`- 最近错误 Last bureau error: ${p.lastBureauError}`);
  if (p.leftAtBureau) lines.push(`- 税局遗留 Left at the bureau: ${p.leftAtBureau}`);
  return lines.join('\n');
}
