/**
 * Telling approvers (issue 5 §3): one webhook POST per notice. The workflow names a channel; the
 * worker resolves it here from its environment, so webhook URLs (which carry tokens) never reach
 * workflow history or logs. Failures are retried by the workflow's activity policy; the workflow
 * carries on when a notice finally cannot be delivered.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import axios, { type AxiosInstance } from 'axios';
import { z } from 'zod';
import { ChannelName } from '../workflows/contract.js';
import { ApprovalNotice, NoticeRequest, noticeText } from './approvalNotice.js';

export const NotificationFailureType = {
  /** The workflow named a channel this worker has no URL for: retrying will not help. */
  UnknownChannel: 'NotificationChannelUnknown',
  InvalidRequest: 'NotificationInvalid',
  /** The webhook did not answer 2xx: retried. */
  Undelivered: 'NotificationUndelivered',
} as const;

/** The channel `notifications` uses when it names none: NOTIFY_WEBHOOK_URL. */
export const DEFAULT_CHANNEL = 'default';

export interface NotificationConfig {
  /** Channel name → webhook URL. */
  channels: Record<string, string>;
  /** The approvers' inbox, linked from every notice. */
  inboxUrl?: string;
}

const WebhookUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const ChannelMap = z.record(ChannelName, WebhookUrl);

/**
 * NOTIFY_WEBHOOK_URL (the `default` channel), NOTIFY_WEBHOOKS (JSON: {"finance": "https://..."})
 * and INBOX_URL. A bad value throws naming the variable (never its value: it may hold a token).
 */
export function notificationConfigFromEnv(env: NodeJS.ProcessEnv = process.env): NotificationConfig {
  const channels: Record<string, string> = {};
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
      const issue = parsed.error.issues[0]!;
      throw new Error(`NOTIFY_WEBHOOKS.${issue.path.join('.') || '(value)'}: ${issue.message}`);
    }
    Object.assign(channels, parsed.data);
  }
  const inboxUrl = env.INBOX_URL?.trim();
  if (inboxUrl && !WebhookUrl.safeParse(inboxUrl).success) throw new Error('INBOX_URL: must be an http(s) URL');
  return { channels, ...(inboxUrl ? { inboxUrl } : {}) };
}

export function createNotificationActivities(config: NotificationConfig, http: AxiosInstance = axios.create()) {
  return {
    /** Posts one notice to the request's channel. Throws (for the retry policy) unless it got a 2xx. */
    async notifyApprovers(raw: NoticeRequest): Promise<{ channel: string; status: number }> {
      const parsed = NoticeRequest.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw ApplicationFailure.nonRetryable(
          `Invalid notice: ${issue.path.join('.')}: ${issue.message}`,
          NotificationFailureType.InvalidRequest,
        );
      }
      const { channel, ...request } = parsed.data;
      const url = config.channels[channel];
      if (!url) {
        throw ApplicationFailure.nonRetryable(
          `No webhook for notification channel "${channel}" on this worker (set NOTIFY_WEBHOOK_URL or NOTIFY_WEBHOOKS)`,
          NotificationFailureType.UnknownChannel,
        );
      }
      const context = Context.current();
      const base = {
        ...request,
        workflowId: context.info.workflowExecution?.workflowId ?? '',
        ...(config.inboxUrl ? { inboxUrl: config.inboxUrl } : {}),
      };
      const notice: ApprovalNotice = { ...base, text: noticeText(base), sentAt: new Date().toISOString() };
      // A worker shutting down (or a cancellation the workflow sends) stops the post.
      const options = { timeout: 15_000, validateStatus: () => true, signal: context.cancellationSignal };
      const reply = await http.post(url, notice, options).catch((err) => {
        if (context.cancellationSignal.aborted) throw err;
        // The error text of a failed connection can name the URL: report the channel only.
        throw ApplicationFailure.retryable(
          `Webhook channel "${channel}" unreachable: ${(err as { code?: string }).code ?? 'network error'}`,
          NotificationFailureType.Undelivered,
        );
      });
      if (reply.status < 200 || reply.status >= 300) {
        throw ApplicationFailure.retryable(
          `Webhook channel "${channel}" answered HTTP ${reply.status}`,
          NotificationFailureType.Undelivered,
        );
      }
      context.log.info('Approvers notified', { channel, kind: request.kind, status: reply.status });
      return { channel, status: reply.status };
    },
  };
}
export type NotificationActivities = ReturnType<typeof createNotificationActivities>;
