/**
 * WeCom (企业微信) group robot: `POST <webhook URL with ?key=…>` with a markdown message; the
 * reply is `{errcode, errmsg}`, 0 meaning sent. The key in the URL is the robot's only credential
 * (no signing). Limits and sources: docs/notification-channels.md.
 */
import type { ApprovalNotice, NoticeKind } from '../../protocol/notice.js';
import { noticeHeading, noticeLinks, noticeSentences } from '../approvalNotice.js';
import { truncateUtf8, utf8Bytes } from './text.js';

/** markdown.content at most 4096 bytes of UTF-8. */
export const WECOM_MARKDOWN_MAX_BYTES = 4096;

export interface WecomMarkdown {
  msgtype: 'markdown';
  markdown: { content: string };
}

/** WeCom markdown has three font colours: info (green), comment (grey), warning (orange-red). */
const COLOUR: Record<NoticeKind, 'info' | 'comment' | 'warning'> = {
  'approval-needed': 'warning',
  reminder: 'warning',
  'deadline-missed': 'warning',
  confirmed: 'info',
  failed: 'warning',
};

export function wecomMessage(notice: ApprovalNotice): WecomMarkdown {
  const heading = `## <font color="${COLOUR[notice.kind]}">${noticeHeading(notice.kind)}</font>`;
  const tail = noticeLinks(notice)
    .map((link) => `\n[${link.label}](${link.url})`)
    .join('');
  const body = noticeSentences(notice)
    .map((s) => `> ${s}`)
    .join('\n');
  const room = WECOM_MARKDOWN_MAX_BYTES - utf8Bytes(heading) - utf8Bytes(tail) - 1;
  return { msgtype: 'markdown', markdown: { content: `${heading}\n${truncateUtf8(body, room)}${tail}` } };
}
