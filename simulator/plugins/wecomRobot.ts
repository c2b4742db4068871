/**
 * WeCom (企业微信) group robot, as the sandbox mimics it: `POST /wecom/cgi-bin/webhook/send?key=…`
 * (the real one: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…). HTTP 200 with
 * `{errcode, errmsg}` whatever happens; 0 is sent. No signing: the key is the credential.
 */
import { firstZodIssue } from '../../protocol/zodErrors.js';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type RobotDesk } from './robotDesk.js';

export const WECOM_LIMITS = { textBytes: 2048, markdownBytes: 4096 } as const;
export const WecomErrcode = {
  InvalidWebhookUrl: 93000,
  InvalidMessageType: 40008,
  EmptyContent: 44004,
  ContentTooLong: 40058,
} as const;

export const WecomQuery = z.object({ key: z.string().min(1).optional() });
export const WecomBody = z.discriminatedUnion('msgtype', [
  z.object({
    msgtype: z.literal('text'),
    text: z.object({
      content: z.string().min(1),
      mentioned_list: z.array(z.string()).optional(),
      mentioned_mobile_list: z.array(z.string()).optional(),
    }),
  }),
  z.object({ msgtype: z.literal('markdown'), markdown: z.object({ content: z.string().min(1) }) }),
]);

export function wecomRobotRoutes(app: FastifyInstance, desk: RobotDesk): void {
  app.post('/wecom/cgi-bin/webhook/send', async (request) => {
    const query = WecomQuery.safeParse(request.query ?? {});
    const key = query.success ? query.data.key : undefined;
    if (!key) return { errcode: WecomErrcode.InvalidWebhookUrl, errmsg: 'invalid webhook url, hint: key is missing' };
    const raw = (request.body ?? {}) as { msgtype?: unknown };
    if (raw.msgtype !== 'text' && raw.msgtype !== 'markdown') {
      return { errcode: WecomErrcode.InvalidMessageType, errmsg: 'invalid message type' };
    }
    const body = WecomBody.safeParse(raw);
    if (!body.success)
      return {
        errcode: WecomErrcode.EmptyContent,
        errmsg: `empty content, ${firstZodIssue(body.error, '(body)').message}`,
      };
    const [field, content, max] =
      body.data.msgtype === 'text'
        ? ['text.content', body.data.text.content, WECOM_LIMITS.textBytes]
        : ['markdown.content', body.data.markdown.content, WECOM_LIMITS.markdownBytes];
    if (Buffer.byteLength(content, 'utf8') > max) {
      return { errcode: WecomErrcode.ContentTooLong, errmsg: `${field} exceed max length ${max}` };
    }
    desk.accept('wecom', key, false, body.data);
    return { errcode: 0, errmsg: 'ok' };
  });
}
