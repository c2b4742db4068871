/**
 * Telling approvers: one message per notice on the channel the workflow
 * names. The worker resolves the name to a channel of some kind (JSON webhook, WeCom robot,
 * DingTalk robot, Feishu bot, e-mail) from its environment, so URLs, keys, signing secrets and
 * SMTP passwords never reach workflow history or logs. Failures are retried by the workflow's
 * activity policy; the workflow carries on when a notice finally cannot be delivered.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import axios, { type AxiosInstance } from 'axios';
import { z } from 'zod';
import { NotificationFailureType } from '../protocol/failureTypes.js';
import { ApprovalNotice, ChannelName, DEADLINE_KINDS, NoticeRequest } from '../protocol/notice.js';
import { firstZodIssue } from '../protocol/zodErrors.js';
import { monthUrl, noticeText, reportUrl } from './approvalNotice.js';
import { type ChannelConfig, type ChannelEntry, channelOf, channelsFromEnv } from './notices/channelConfig.js';
import { dingtalkMessage, dingtalkUrl } from './notices/dingtalk.js';
import { emailTransport, sendNoticeMail } from './notices/email.js';
import { feishuMessage } from './notices/feishu.js';
import { wecomMessage } from './notices/wecom.js';

/** The channel `notifications` uses when it names none: NOTIFY_WEBHOOK_URL. */
export const DEFAULT_CHANNEL = 'default';

export interface NotificationConfig {
  /** Channel name → a JSON webhook URL, or a channel of a kind (./notices/channelConfig.ts). */
  channels: Record<string, ChannelEntry>;
  /** The approvers' inbox, linked from every notice (the month's page under it). */
  inboxUrl?: string;
}

const WebhookUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const ChannelMap = z.record(ChannelName, WebhookUrl);

/**
 * NOTIFY_WEBHOOK_URL (the `default` channel), NOTIFY_WEBHOOKS (JSON: {"finance": "https://..."}),
 * NOTIFY_CHANNELS or NOTIFY_CHANNELS_FILE (channels by kind) and INBOX_URL. A bad value throws
 * naming the variable (never its value: it may hold a token).
 */
export function notificationConfigFromEnv(env: NodeJS.ProcessEnv = process.env): NotificationConfig {
  const channels: Record<string, ChannelEntry> = {};
  const single = env.NOTIFY_WEBHOOK_URL?.trim();
  if (single) {
    if (!WebhookUrl.safeParse(single).success) throw new Error('NOTIFY_WEBHOOK_URL: must be an http(s) URL');
    channels[DEFAULT_CHANNEL] = single;
  }
  const many = env.NOTIFY_WEBHOOKS?.trim();
  if (many) {
    let json: unknown;
    try {
      json = JSON.parse(many);
    } catch {
      throw new Error('NOTIFY_WEBHOOKS: must be a JSON object of channel name to webhook URL');
    }
    const parsed = ChannelMap.safeParse(json);
    if (!parsed.success) {
      throw new Error(`NOTIFY_WEBHOOKS.${firstZodIssue(parsed.error, '(value)').message}`);
    }
    Object.assign(channels, parsed.data);
  }
  for (const [name, channel] of Object.entries(channelsFromEnv(env))) {
    if (name in channels) {
      const variable = env.NOTIFY_CHANNELS_FILE?.trim() ? 'NOTIFY_CHANNELS_FILE' : 'NOTIFY_CHANNELS';
      throw new Error(`${variable}.${name}: channel "${name}" is also set by NOTIFY_WEBHOOK_URL or NOTIFY_WEBHOOKS`);
    }
    channels[name] = channel;
  }
  const inboxUrl = env.INBOX_URL?.trim();
  if (inboxUrl && !WebhookUrl.safeParse(inboxUrl).success) throw new Error('INBOX_URL: must be an http(s) URL');
  return { channels, ...(inboxUrl ? { inboxUrl } : {}) };
}

/**
 * Platform codes that mean "try again later" (rate limits); every other non-zero code is a
 * refusal that retrying cannot fix. Sources: docs/notification-channels.md.
 */
const RATE_LIMITED: Record<'wecom' | 'dingtalk' | 'feishu', readonly number[]> = {
  wecom: [45009],
  dingtalk: [130101],
  feishu: [11232],
};

export interface NotificationOptions {
  /** The clock the robots' signatures use (tests move it). */
  now?: () => number;
}

export function createNotificationActivities(
  config: NotificationConfig,
  http: AxiosInstance = axios.create(),
  options: NotificationOptions = {},
) {
  const now = options.now ?? Date.now;
  const transports = new Map<string, ReturnType<typeof emailTransport>>();

  /** POSTs JSON; the error of a failed connection can name the URL, so only the channel is reported. */
  async function post(channel: string, url: string, body: unknown): Promise<{ status: number; data: unknown }> {
    const context = Context.current();
    // A worker shutting down (or a cancellation the workflow sends) stops the post.
    const requestOptions = { timeout: 15_000, validateStatus: () => true, signal: context.cancellationSignal };
    const reply = await http.post(url, body, requestOptions).catch((err) => {
      if (context.cancellationSignal.aborted) throw err;
      throw ApplicationFailure.retryable(
        `Notification channel "${channel}" unreachable: ${(err as { code?: string }).code ?? 'network error'}`,
        NotificationFailureType.Undelivered,
      );
    });
    if (reply.status < 200 || reply.status >= 300) {
      throw ApplicationFailure.retryable(
        `Notification channel "${channel}" answered HTTP ${reply.status}`,
        NotificationFailureType.Undelivered,
      );
    }
    return { status: reply.status, data: reply.data };
  }

  /** The robots answer HTTP 200 with a code: 0 is delivered; anything else is a refusal. */
  function checkPlatformReply(channel: string, kind: 'wecom' | 'dingtalk' | 'feishu', data: unknown): void {
    const reply = (data ?? {}) as { errcode?: unknown; errmsg?: unknown; code?: unknown; msg?: unknown };
    const code = kind === 'feishu' ? reply.code : reply.errcode;
    const message = String((kind === 'feishu' ? reply.msg : reply.errmsg) ?? '').slice(0, 200);
    if (code === 0) return;
    const text = `Notification channel "${channel}" (${kind}) refused the notice: code ${String(code)} ${message}`;
    if (typeof code === 'number' && RATE_LIMITED[kind].includes(code)) {
      throw ApplicationFailure.retryable(text, NotificationFailureType.Undelivered);
    }
    throw ApplicationFailure.nonRetryable(text, NotificationFailureType.Rejected);
  }

  async function deliver(name: string, channel: ChannelConfig, notice: ApprovalNotice): Promise<number> {
    switch (channel.kind) {
      case 'webhook':
        return (await post(name, channel.url, notice)).status;
      case 'wecom': {
        const reply = await post(name, channel.url, wecomMessage(notice));
        checkPlatformReply(name, 'wecom', reply.data);
        return reply.status;
      }
      case 'dingtalk': {
        const at = now();
        const reply = await post(name, dingtalkUrl(channel.url, channel.secret, at), dingtalkMessage(notice));
        checkPlatformReply(name, 'dingtalk', reply.data);
        return reply.status;
      }
      case 'feishu': {
        const reply = await post(name, channel.url, feishuMessage(notice, channel.secret, now()));
        checkPlatformReply(name, 'feishu', reply.data);
        return reply.status;
      }
      case 'email': {
        let transport = transports.get(name);
        if (!transport) transports.set(name, (transport = emailTransport(channel)));
        await sendNoticeMail(transport, channel, notice).catch((err: { code?: string; responseCode?: number }) => {
          // nodemailer's message can quote the server; the code and SMTP reply code say enough.
          const text = `Notification channel "${name}" (email) not sent: ${err.code ?? 'error'}${err.responseCode ? ` SMTP ${err.responseCode}` : ''}`;
          const permanent = err.code === 'EAUTH' || err.code === 'EENVELOPE' || (err.responseCode ?? 0) >= 500;
          throw permanent
            ? ApplicationFailure.nonRetryable(text, NotificationFailureType.Rejected)
            : ApplicationFailure.retryable(text, NotificationFailureType.Undelivered);
        });
        return 250;
      }
    }
  }

  return {
    /** Sends one notice on the request's channel. Throws (for the retry policy) unless it was taken. */
    async notifyApprovers(raw: NoticeRequest): Promise<{ channel: string; status: number }> {
      const parsed = NoticeRequest.safeParse(raw);
      if (!parsed.success) {
        throw ApplicationFailure.nonRetryable(
          `Invalid notice: ${firstZodIssue(parsed.error).message}`,
          NotificationFailureType.InvalidRequest,
        );
      }
      const { channel, ...request } = parsed.data;
      if (DEADLINE_KINDS.includes(request.kind) && !request.approvalDeadline) {
        throw ApplicationFailure.nonRetryable(
          `Invalid notice: approvalDeadline: a "${request.kind}" notice needs the approval deadline`,
          NotificationFailureType.InvalidRequest,
        );
      }
      const entry = config.channels[channel];
      if (!entry) {
        throw ApplicationFailure.nonRetryable(
          `No notification channel "${channel}" on this worker (set NOTIFY_WEBHOOK_URL, NOTIFY_WEBHOOKS or NOTIFY_CHANNELS)`,
          NotificationFailureType.UnknownChannel,
        );
      }
      const context = Context.current();
      const base = {
        ...request,
        workflowId: context.info.workflowExecution?.workflowId ?? '',
        ...(config.inboxUrl
          ? { inboxUrl: config.inboxUrl, monthUrl: monthUrl(config.inboxUrl, request.taxNo, request.taxPeriod) }
          : {}),
        ...(config.inboxUrl && request.kind === 'confirmed'
          ? {
              reportUrls: {
                xlsx: reportUrl(config.inboxUrl, request.taxNo, request.taxPeriod, 'xlsx'),
                pdf: reportUrl(config.inboxUrl, request.taxNo, request.taxPeriod, 'pdf'),
              },
            }
          : {}),
      };
      const notice: ApprovalNotice = { ...base, text: noticeText(base), sentAt: new Date().toISOString() };
      const target = channelOf(entry);
      const status = await deliver(channel, target, notice);
      context.log.info('Approvers notified', { channel, via: target.kind, kind: request.kind, status });
      return { channel, status };
    },
  };
}
export type NotificationActivities = ReturnType<typeof createNotificationActivities>;
