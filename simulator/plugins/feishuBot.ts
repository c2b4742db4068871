/**
 * Feishu / Lark (飞书) custom bot, as the sandbox mimics it:
 * `POST /feishu/open-apis/bot/v2/hook/:token` (the real one: https://open.feishu.cn/open-apis/bot/v2/hook/…),
 * with `timestamp` and `sign` in the body when the bot checks signatures (签名校验).
 * `{code, msg}`; 0 is sent.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { firstZodIssue } from '../../protocol/zodErrors.js';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type RobotDesk, requestBytes } from './robotDesk.js';

export const FEISHU_LIMITS = { bodyBytes: 20 * 1024, timestampWindowSeconds: 3600 } as const;
export const FeishuCode = {
  BadRequest: 9499,
  TokenInvalid: 19001,
  SignMatchFail: 19021,
} as const;

const Signature = { timestamp: z.string().optional(), sign: z.string().optional() };
const PlainText = z.object({ tag: z.literal('plain_text'), content: z.string().min(1) });
const CardElement = z.union([
  z.object({
    tag: z.literal('div'),
    text: z.object({ tag: z.enum(['lark_md', 'plain_text']), content: z.string().min(1) }),
  }),
  z.object({ tag: z.literal('markdown'), content: z.string().min(1) }),
  z.object({ tag: z.literal('hr') }),
  z.object({
    tag: z.literal('action'),
    actions: z
      .array(
        z.object({
          tag: z.literal('button'),
          text: PlainText,
          type: z.enum(['default', 'primary', 'danger']).optional(),
          url: z.url({ protocol: /^https?$/ }),
        }),
      )
      .min(1),
  }),
]);
export const FeishuBody = z.discriminatedUnion('msg_type', [
  z.object({ ...Signature, msg_type: z.literal('text'), content: z.object({ text: z.string().min(1) }) }),
  z.object({
    ...Signature,
    msg_type: z.literal('interactive'),
    card: z.object({
      config: z.object({ wide_screen_mode: z.boolean().optional() }).optional(),
      header: z.object({ title: PlainText, template: z.string().optional() }).optional(),
      elements: z.array(CardElement).min(1),
    }),
  }),
]);

function signatureMatches(secret: string, timestamp: string, sign: string): boolean {
  const expected = createHmac('sha256', `${timestamp}\n${secret}`).digest();
  const given = Buffer.from(sign, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const signFail = {
  code: FeishuCode.SignMatchFail,
  msg: 'sign match fail or timestamp is not within one hour from current time',
};

export function feishuBotRoutes(app: FastifyInstance, desk: RobotDesk): void {
  app.post<{ Params: { token: string } }>('/feishu/open-apis/bot/v2/hook/:token', async (request) => {
    const token = request.params.token;
    if (!/^[A-Za-z0-9_.~-]+$/.test(token)) {
      return { code: FeishuCode.TokenInvalid, msg: 'param invalid: incoming webhook access token invalid' };
    }
    const raw = (request.body ?? {}) as { timestamp?: unknown; sign?: unknown };
    const secret = desk.secretOf('feishu', token);
    if (secret) {
      const ts = Number(raw.timestamp);
      const fresh = Number.isInteger(ts) && Math.abs(desk.now() / 1000 - ts) <= FEISHU_LIMITS.timestampWindowSeconds;
      if (!fresh || typeof raw.sign !== 'string' || !signatureMatches(secret, String(raw.timestamp), raw.sign)) {
        return signFail;
      }
    }
    if (requestBytes(request) > FEISHU_LIMITS.bodyBytes) return { code: FeishuCode.BadRequest, msg: 'Bad Request' };
    const body = FeishuBody.safeParse(raw);
    if (!body.success)
      return { code: FeishuCode.BadRequest, msg: `Bad Request: ${firstZodIssue(body.error, '(body)').message}` };
    desk.accept('feishu', token, secret !== undefined, body.data);
    return { code: 0, msg: 'success', data: {} };
  });
}
