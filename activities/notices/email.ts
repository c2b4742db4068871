/**
 * E-mail over SMTP through nodemailer: one message per notice to the channel's recipients, subject
 * the notice's heading with the taxpayer and period, a text part and an HTML part, both linking
 * the month's inbox page. The SMTP password stays in the channel's configuration on the worker.
 */
import nodemailer from 'nodemailer';
import type { ApprovalNotice } from '../../protocol/notice.js';
import { noticeHeading, noticeLinks, noticeSentences, noticeText } from '../approvalNotice.js';
import type { EmailChannel } from './channelConfig.js';
import type { z } from 'zod';
import { escapeHtml } from './text.js';

export interface NoticeMail {
  subject: string;
  text: string;
  html: string;
}

export function noticeMail(notice: ApprovalNotice): NoticeMail {
  const subject = `${noticeHeading(notice.kind)}纳税人 Taxpayer ${notice.taxNo} 所属期 period ${notice.taxPeriod}`;
  const html = [
    `<h2>${escapeHtml(noticeHeading(notice.kind))}</h2>`,
    ...noticeSentences(notice).map((s) => `<p>${escapeHtml(s)}</p>`),
    ...noticeLinks(notice).map((link) => `<p><a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a></p>`),
  ].join('\n');
  return { subject, text: noticeText(notice), html };
}

type Email = z.infer<typeof EmailChannel>;

/** A transport per channel, reused across notices (nodemailer keeps no connection open by default). */
export function emailTransport(channel: Email) {
  return nodemailer.createTransport({
    host: channel.host,
    port: channel.port,
    secure: channel.secure,
    requireTLS: channel.requireTls,
    ...(channel.user ? { auth: { user: channel.user, pass: channel.password ?? '' } } : {}),
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 15_000,
    // No logger: nodemailer's would write the SMTP dialogue (the AUTH line included) to stdout.
    logger: false,
  });
}

export async function sendNoticeMail(
  transport: ReturnType<typeof emailTransport>,
  channel: Email,
  notice: ApprovalNotice,
): Promise<{ messageId: string }> {
  const mail = noticeMail(notice);
  const info = await transport.sendMail({ from: channel.from, to: channel.to, ...mail });
  return { messageId: info.messageId };
}
