/**
 * Feishu / Lark (飞书) custom bot: `POST …/open-apis/bot/v2/hook/<token>` with an interactive
 * card; with 签名校验 on, `timestamp` (seconds) and `sign` go in the body (./signing.ts). The reply
 * is `{code, msg}`, 0 meaning sent. Limits and sources: docs/notification-channels.md.
 */
import type { ApprovalNotice, NoticeKind } from '../../protocol/notice.js';
import { noticeHeading, noticeLinks, noticeSentences } from '../approvalNotice.js';
import { feishuSignature } from './signing.js';
import { truncateUtf8 } from './text.js';

/** The request body at most 20 KB. */
export const FEISHU_BODY_MAX_BYTES = 20 * 1024;

/** Card header colours (Feishu card templates). */
const TEMPLATE: Record<NoticeKind, string> = {
  'approval-needed': 'blue',
  reminder: 'orange',
  'deadline-missed': 'red',
  confirmed: 'green',
  failed: 'red',
};

export interface FeishuCard {
  timestamp?: string;
  sign?: string;
  msg_type: 'interactive';
  card: {
    config: { wide_screen_mode: boolean };
    header: { title: { tag: 'plain_text'; content: string }; template: string };
    elements: unknown[];
  };
}

export function feishuMessage(notice: ApprovalNotice, secret: string | undefined, nowMs: number): FeishuCard {
  const [link, ...reports] = noticeLinks(notice);
  // The sentences are at most a few kB (a failure reason is capped at 1000 characters).
  const content = truncateUtf8(noticeSentences(notice).join('\n'), FEISHU_BODY_MAX_BYTES / 2);
  const elements: unknown[] = [{ tag: 'div', text: { tag: 'lark_md', content } }];
  if (link) {
    elements.push({
      tag: 'action',
      actions: [
        {
          tag: 'button',
          text: { tag: 'plain_text', content: `打开本月 Open this month` },
          type: 'primary',
          url: link.url,
        },
        ...reports.map((report) => ({
          tag: 'button',
          text: { tag: 'plain_text', content: report.label },
          type: 'default',
          url: report.url,
        })),
      ],
    });
  }
  const card: FeishuCard['card'] = {
    config: { wide_screen_mode: true },
    header: { title: { tag: 'plain_text', content: noticeHeading(notice.kind) }, template: TEMPLATE[notice.kind] },
    elements,
  };
  if (!secret) return { msg_type: 'interactive', card };
  const timestamp = Math.floor(nowMs / 1000);
  return { timestamp: String(timestamp), sign: feishuSignature(secret, timestamp), msg_type: 'interactive', card };
}
