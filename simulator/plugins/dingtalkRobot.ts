/**
 * DingTalk (钉钉) custom robot, as the sandbox mimics it: `POST /dingtalk/robot/send?access_token=…`
 * (the real one: https://oapi.dingtalk.com/robot/send?access_token=…), with `&timestamp=&sign=`
 * when the robot signs (加签). HTTP 200 with `{errcode, errmsg}`; 0 is sent.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { firstZodIssue } from '../../protocol/zodErrors.js';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type RobotDesk, requestBytes } from './robotDesk.js';

export const DINGTALK_LIMITS = { bodyBytes: 20_000, timestampWindowMs: 3_600_000 } as const;
export const DingtalkErrcode = {
  TokenNotExist: 300001,
  /** Signature, timestamp, keyword and IP checks all answer 310000. */
  SecurityCheckFailed: 310000,
  MissingParameter: 40035,
  MessageTooLong: 460101,
} as const;

export const DingtalkQuery = z.object({
  access_token: z.string().min(1).optional(),
  timestamp: z.string().optional(),
  sign: z.string().optional(),
});
const At = z.object({
  atMobiles: z.array(z.string()).optional(),
  atUserIds: z.array(z.string()).optional(),
  isAtAll: z.boolean().optional(),
});
export const DingtalkBody = z.discriminatedUnion('msgtype', [
  z.object({ msgtype: z.literal('text'), text: z.object({ content: z.string().min(1) }), at: At.optional() }),
  z.object({
    msgtype: z.literal('markdown'),
    markdown: z.object({ title: z.string().min(1), text: z.string().min(1) }),
    at: At.optional(),
  }),
  z.object({
    msgtype: z.literal('actionCard'),
    actionCard: z.object({
      title: z.string().min(1),
      text: z.string().min(1),
      singleTitle: z.string().optional(),
      singleURL: z.string().optional(),
    }),
  }),
]);

/** The check the platform makes, written from its documentation (not from the sender's code). */
function signatureMatches(secret: string, timestamp: string, sign: string): boolean {
  const expected = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest();
  // Fastify's query parser has already url-decoded `sign` once.
  const given = Buffer.from(sign, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function dingtalkRobotRoutes(app: FastifyInstance, desk: RobotDesk): void {
  app.post('/dingtalk/robot/send', async (request) => {
    const query = DingtalkQuery.safeParse(request.query ?? {});
    const q = query.success ? query.data : {};
    const token = q.access_token;
    if (!token) return { errcode: DingtalkErrcode.TokenNotExist, errmsg: 'token is not exist' };
    const secret = desk.secretOf('dingtalk', token);
    if (secret) {
      const ts = Number(q.timestamp);
      if (!q.timestamp || !Number.isInteger(ts) || Math.abs(desk.now() - ts) > DINGTALK_LIMITS.timestampWindowMs) {
        return { errcode: DingtalkErrcode.SecurityCheckFailed, errmsg: 'invalid timestamp' };
      }
      if (!q.sign || !signatureMatches(secret, q.timestamp, q.sign)) {
        return { errcode: DingtalkErrcode.SecurityCheckFailed, errmsg: 'sign not match' };
      }
    }
    if (requestBytes(request) > DINGTALK_LIMITS.bodyBytes) {
      return {
        errcode: DingtalkErrcode.MessageTooLong,
        errmsg: `message too long, exceed ${DINGTALK_LIMITS.bodyBytes} bytes`,
      };
    }
    const body = DingtalkBody.safeParse(request.body ?? {});
    if (!body.success)
      return {
        errcode: DingtalkErrcode.MissingParameter,
        errmsg: `缺少参数 ${firstZodIssue(body.error, '(body)').message}`,
      };
    desk.accept('dingtalk', token, secret !== undefined, body.data);
    return { errcode: 0, errmsg: 'ok' };
  });
}
