/**
 * What approvers are sent (issue 5 §3): the request the workflow makes, the webhook body the
 * notification activity posts, and its bilingual text. The sandbox's webhook receiver validates
 * received bodies with the same schema.
 */
import { z } from 'zod';
import { Money } from '../protocol/money.js';
import { TaxPeriod } from '../protocol/period.js';
import { ChannelName } from '../workflows/contract.js';

export const NoticeKind = z.enum(['approval-needed', 'reminder', 'deadline-missed']);
export type NoticeKind = z.infer<typeof NoticeKind>;

export const NoticeStatistic = z
  .object({
    digest: z.string(),
    deductibleCount: z.number().int(),
    deductibleAmount: Money,
    deductibleTax: Money,
  })
  .strict();

/** The notification activity's input, built by the workflow. */
export const NoticeRequest = z
  .object({
    channel: ChannelName,
    kind: NoticeKind,
    taxNo: z.string(),
    taxPeriod: TaxPeriod,
    approvers: z.array(z.string()).optional(),
    approvalDeadline: z.iso.datetime({ offset: true }),
    deductionDeadline: z.string().optional(),
    /** For reminders: the configured offset this one comes from. */
    hoursBeforeDeadline: z.number().positive().optional(),
    statistic: NoticeStatistic.optional(),
  })
  .strict();
export type NoticeRequest = z.infer<typeof NoticeRequest>;

/** The webhook body. */
export const ApprovalNotice = NoticeRequest.omit({ channel: true })
  .extend({
    workflowId: z.string(),
    /** Chinese first, English beside (STYLE.md). */
    text: z.string().min(1),
    inboxUrl: z.url().optional(),
    sentAt: z.iso.datetime({ offset: true }),
  })
  .strict();
export type ApprovalNotice = z.infer<typeof ApprovalNotice>;

/** `2026-12-14 00:00` in Shanghai time (UTC+8, no daylight saving). */
function shanghaiMinute(iso: string): string {
  return new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');
}

export function noticeText(n: Omit<ApprovalNotice, 'text' | 'sentAt'>): string {
  const who = `纳税人 Taxpayer ${n.taxNo}，所属期 period ${n.taxPeriod}`;
  const deadline = `${shanghaiMinute(n.approvalDeadline)} (北京时间 Beijing time)`;
  const s = n.statistic;
  const totals = s
    ? `可抵扣 ${s.deductibleCount} 张，金额 ${s.deductibleAmount} 元，税额 ${s.deductibleTax} 元 ` +
      `(deductible: ${s.deductibleCount} invoices, amount ¥${s.deductibleAmount}, tax ¥${s.deductibleTax})`
    : '';
  const link = n.inboxUrl ? `\n审批入口 Inbox: ${n.inboxUrl}` : '';
  switch (n.kind) {
    case 'approval-needed':
      return `【待审批 Approval needed】${who}。${totals}\n请在 ${deadline} 前审批 Please approve or reject before ${deadline}.${link}`;
    case 'reminder':
      return `【审批提醒 Reminder】${who} 仍待审批 still awaits approval，距截止约 ${n.hoursBeforeDeadline} 小时 (about ${n.hoursBeforeDeadline} h before the deadline ${deadline})。${totals}${link}`;
    case 'deadline-missed':
      return (
        `【审批已逾期 Approval deadline missed】${who}：截止 ${deadline} 前未收到审批，统计表未确认 ` +
        `(no decision arrived before the deadline; the statistic was not confirmed)。` +
        `请在勾选截止日 ${n.deductionDeadline ?? '?'} 前手工确认 Confirm by hand before the selection deadline.${link}`
      );
  }
}
