/**
 * The worker's notification channels by kind. The workflow names a channel; what it
 * is (a WeCom or DingTalk robot, a Feishu bot, an SMTP mailbox or a JSON webhook) and its secrets
 * live here, on the worker only. See docs/notification-channels.md.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ChannelName } from '../../protocol/notice.js';
import { firstZodIssue } from '../../protocol/zodErrors.js';

const HttpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const Secret = z.string().min(1, 'must not be empty').max(512, 'must be at most 512 characters');

export const WebhookChannel = z.object({ kind: z.literal('webhook'), url: HttpUrl }).strict();
/** The robot's webhook URL carries its key (`…/cgi-bin/webhook/send?key=…`). */
export const WecomChannel = z.object({ kind: z.literal('wecom'), url: HttpUrl }).strict();
/** `…/robot/send?access_token=…`; `secret` (SEC…) when the robot has 加签 (signing) on. */
export const DingtalkChannel = z
  .object({ kind: z.literal('dingtalk'), url: HttpUrl, secret: Secret.optional() })
  .strict();
/** `…/open-apis/bot/v2/hook/<token>`; `secret` when the bot has 签名校验 (signature check) on. */
export const FeishuChannel = z.object({ kind: z.literal('feishu'), url: HttpUrl, secret: Secret.optional() }).strict();
export const EmailChannel = z
  .object({
    kind: z.literal('email'),
    host: z.string().min(1, 'must name the SMTP host'),
    port: z.number().int().min(1).max(65_535).default(587),
    /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
    secure: z.boolean().default(false),
    /** Refuse to send without TLS (STARTTLS required). */
    requireTls: z.boolean().default(false),
    user: z.string().min(1).optional(),
    password: Secret.optional(),
    from: z.string().min(3, 'must be a sender address'),
    to: z.array(z.email({ error: 'must be an e-mail address' })).min(1, 'must name at least one recipient'),
  })
  .strict()
  .refine((c) => !c.password || c.user, { message: 'a password needs a user', path: ['user'] });

export const ChannelConfig = z.discriminatedUnion('kind', [
  WebhookChannel,
  WecomChannel,
  DingtalkChannel,
  FeishuChannel,
  EmailChannel,
]);
export type ChannelConfig = z.infer<typeof ChannelConfig>;
export type ChannelKind = ChannelConfig['kind'];

/** A bare string is a JSON webhook URL (NOTIFY_WEBHOOK_URL / NOTIFY_WEBHOOKS). */
export type ChannelEntry = string | ChannelConfig;

export function channelOf(entry: ChannelEntry): ChannelConfig {
  return typeof entry === 'string' ? { kind: 'webhook', url: entry } : entry;
}

const ChannelsObject = z.record(ChannelName, ChannelConfig);

/**
 * NOTIFY_CHANNELS (JSON) or NOTIFY_CHANNELS_FILE (a file holding the same JSON, e.g. a mounted
 * secret): `{"finance": {"kind": "dingtalk", "url": "…", "secret": "SEC…"}}`. A bad value throws
 * naming the variable and the field, never the value (it holds keys and passwords).
 */
export function channelsFromEnv(env: NodeJS.ProcessEnv): Record<string, ChannelConfig> {
  const inline = env.NOTIFY_CHANNELS?.trim();
  const file = env.NOTIFY_CHANNELS_FILE?.trim();
  if (inline && file) throw new Error('NOTIFY_CHANNELS and NOTIFY_CHANNELS_FILE: set one, not both');
  const variable = inline ? 'NOTIFY_CHANNELS' : 'NOTIFY_CHANNELS_FILE';
  let text = inline;
  if (file) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new Error(`NOTIFY_CHANNELS_FILE: cannot read the file (${(err as { code?: string }).code ?? 'error'})`);
    }
  }
  if (!text) return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${variable}: must be a JSON object of channel name to channel ({"kind": …})`);
  }
  const parsed = ChannelsObject.safeParse(json);
  if (!parsed.success) {
    // zod's messages name types and options, not the input; ours are fixed texts.
    throw new Error(`${variable}.${firstZodIssue(parsed.error, '(value)').message}`);
  }
  return parsed.data;
}
