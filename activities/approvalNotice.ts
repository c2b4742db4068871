/**
 * The bilingual text and links of what approvers are sent; the notice's shape is in
 * protocol/notice.ts.
 */
import { type ApprovalNotice, type NoticeKind } from '../protocol/notice.js';

/** `2026-12-14 00:00` in Shanghai time (UTC+8, no daylight saving). */
export function shanghaiMinute(iso: string): string {
  return new Date(Date.parse(iso) + 8 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');
}

/** The inbox page of one month under the inbox base URL (inbox/view.ts `monthPath`). */
export function monthUrl(inboxUrl: string, taxNo: string, taxPeriod: string): string {
  const base = inboxUrl.endsWith('/') ? inboxUrl : `${inboxUrl}/`;
  return new URL(`months/${encodeURIComponent(taxNo)}/${encodeURIComponent(taxPeriod)}`, base).toString();
}

/** The month's audit report download in the inbox (inbox/reports.ts). */
export function reportUrl(inboxUrl: string, taxNo: string, taxPeriod: string, format: 'xlsx' | 'pdf'): string {
  return `${monthUrl(inboxUrl, taxNo, taxPeriod)}/report.${format}`;
}

type NoticeFields = Omit<ApprovalNotice, 'text' | 'sentAt'>;

/** The heading of each kind: Chinese first, English beside. */
export const NOTICE_HEADINGS: Record<NoticeKind, { zh: string; en: string }> = {
  'approval-needed': { zh: '待审批', en: 'Approval needed' },
  reminder: { zh: '审批提醒', en: 'Reminder' },
  'deadline-missed': { zh: '审批已逾期', en: 'Approval deadline missed' },
  confirmed: { zh: '统计表已确认', en: 'Statistic confirmed' },
  failed: { zh: '需要处理', en: 'Failed, needs attention' },
};

/** `【待审批 Approval needed】` */
export function noticeHeading(kind: NoticeKind): string {
  const h = NOTICE_HEADINGS[kind];
  return `【${h.zh} ${h.en}】`;
}

/**
 * What a notice says, as bilingual sentences (no heading, no link): every channel renders these
 * in its own format, so WeCom, DingTalk, Feishu, e-mail and the JSON webhook say the same thing.
 */
export function noticeSentences(n: NoticeFields): string[] {
  const who = `纳税人 Taxpayer ${n.taxNo}，所属期 period ${n.taxPeriod}`;
  const deadline = n.approvalDeadline ? `${shanghaiMinute(n.approvalDeadline)} (北京时间 Beijing time)` : '?';
  const s = n.statistic;
  const totals = s
    ? `可抵扣 ${s.deductibleCount} 张，金额 ${s.deductibleAmount} 元，税额 ${s.deductibleTax} 元 ` +
      `(deductible: ${s.deductibleCount} invoices, amount ¥${s.deductibleAmount}, tax ¥${s.deductibleTax})`
    : '';
  const withTotals = (first: string) => (totals ? [first, totals] : [first]);
  switch (n.kind) {
    case 'approval-needed':
      return [
        `${who}。`,
        ...(totals ? [totals] : []),
        `请在 ${deadline} 前审批 Please approve or reject before ${deadline}.`,
      ];
    case 'reminder':
      return withTotals(
        `${who} 仍待审批 still awaits approval，距截止约 ${n.hoursBeforeDeadline} 小时 (about ${n.hoursBeforeDeadline} h before the deadline ${deadline})。`,
      );
    case 'deadline-missed':
      return [
        `${who}：截止 ${deadline} 前未收到审批，统计表未确认 (no decision arrived before the deadline; the statistic was not confirmed)。`,
        `请在勾选截止日 ${n.deductionDeadline ?? '?'} 前手工确认 Confirm by hand before the selection deadline.`,
      ];
    case 'confirmed':
      return withTotals(
        `${who}：统计表已在税局确认 (the statistic was confirmed at the bureau)` +
          (n.decidedBy ? `，审批人 approved by ${n.decidedBy}。` : '。'),
      );
    case 'failed':
      return [
        `${who}：本月流程未完成，需要人工处理 (the month did not complete and needs attention)。`,
        ...(n.reason ? [`原因 Reason: ${n.reason}`] : []),
        ...(n.deductionDeadline ? [`勾选截止日 Selection deadline: ${n.deductionDeadline}`] : []),
      ];
  }
}

/** The link line: the month's page when known, else the inbox. */
export function noticeLink(n: NoticeFields): { label: string; url: string } | undefined {
  const url = n.monthUrl ?? n.inboxUrl;
  return url ? { label: '审批入口 Inbox', url } : undefined;
}

/** The notice's links: the inbox link, then (for `confirmed`) the audit report's downloads. */
export function noticeLinks(n: NoticeFields): { label: string; url: string }[] {
  const first = noticeLink(n);
  return [
    ...(first ? [first] : []),
    ...(n.reportUrls
      ? [
          { label: '审计报告 Audit report (xlsx)', url: n.reportUrls.xlsx },
          { label: '审计报告 Audit report (PDF)', url: n.reportUrls.pdf },
        ]
      : []),
  ];
}

/** The plain text of a notice (the JSON webhook's `text`, the e-mail's text part). */
export function noticeText(n: NoticeFields): string {
  const sentences = noticeSentences(n);
  const links = noticeLinks(n)
    .map((link) => `\n${link.label}: ${link.url}`)
    .join('');
  // The first sentences run on after the heading, as the generic webhook has always sent them.
  const body =
    n.kind === 'approval-needed' ? `${sentences.slice(0, -1).join('')}\n${sentences.at(-1)}` : sentences.join('');
  return `${noticeHeading(n.kind)}${body}${links}`;
}
