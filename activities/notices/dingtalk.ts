/**
 * DingTalk (钉钉) custom robot: `POST <robot URL with ?access_token=…>` with a markdown message;
 * with 加签 on, `&timestamp=<ms>&sign=<…>` are added to the URL (./signing.ts). The reply is
 * `{errcode, errmsg}`, 0 meaning sent. Limits and sources: docs/notification-channels.md.
 */
import type { ApprovalNotice } from '../../protocol/notice.js';
import { noticeHeading, noticeLinks, noticeSentences } from '../approvalNotice.js';
import { dingtalkSignedUrl } from './signing.js';
import { truncateUtf8, utf8Bytes } from './text.js';

/** The request body at most 20,000 bytes. */
export const DINGTALK_BODY_MAX_BYTES = 20_000;

export interface DingtalkMarkdown {
  msgtype: 'markdown';
  markdown: { title: string; text: string };
}

export function dingtalkMessage(notice: ApprovalNotice): DingtalkMarkdown {
  // The title is what the conversation list and the phone's notification show.
  const title = `${noticeHeading(notice.kind)}${notice.taxNo} ${notice.taxPeriod}`;
  const tail = noticeLinks(notice)
    .map((link) => `\n\n[${link.label}](${link.url})`)
    .join('');
  // DingTalk's markdown needs a blank line (or two spaces) for a line break.
  const body = noticeSentences(notice).join('\n\n');
  const heading = `#### ${noticeHeading(notice.kind)}\n\n`;
  const room = DINGTALK_BODY_MAX_BYTES - 200 - utf8Bytes(title) - utf8Bytes(heading) - utf8Bytes(tail);
  return { msgtype: 'markdown', markdown: { title, text: `${heading}${truncateUtf8(body, room)}${tail}` } };
}

/** The URL to post to: signed when the channel has a secret. */
export function dingtalkUrl(url: string, secret: string | undefined, nowMs: number): string {
  return secret ? dingtalkSignedUrl(url, secret, nowMs) : url;
}
