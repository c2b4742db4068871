/**
 * The chat platforms' robot webhooks, as the sandbox mimics them (docs/notification-channels.md): WeCom, DingTalk and
 * Feishu each on its real path, with its body rules, size limits, signature check and reply shape
 * (./wecomRobot.ts, ./dingtalkRobot.ts, ./feishuBot.ts). Any token is a robot; one given a secret
 * with `POST /admin/robots` is a signing robot and refuses requests not signed with that secret.
 * `GET /admin/robots/messages` lists what each robot accepted. Facts: docs/notification-channels.md.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { dingtalkRobotRoutes } from './dingtalkRobot.js';
import { feishuBotRoutes } from './feishuBot.js';
import { wecomRobotRoutes } from './wecomRobot.js';
import { firstZodIssue } from '../../protocol/zodErrors.js';
import { RobotDesk, RobotPlatform } from './robotDesk.js';

export { RobotPlatform, type RobotMessage } from './robotDesk.js';

/** `POST /admin/robots`: a robot's signing secret (null: the robot signs nothing). */
export const RobotSettingsBody = z
  .object({
    platform: RobotPlatform,
    token: z.string().min(1).max(200),
    secret: z.string().min(1).max(512).nullable(),
  })
  .strict();
export const RobotMessagesQuery = z
  .object({ platform: RobotPlatform.optional(), token: z.string().min(1).optional() })
  .strict();

export async function chatRobotsPlugin(app: FastifyInstance): Promise<void> {
  const desk = new RobotDesk();
  wecomRobotRoutes(app, desk);
  dingtalkRobotRoutes(app, desk);
  feishuBotRoutes(app, desk);

  app.post('/admin/robots', async (request, reply) => {
    const body = RobotSettingsBody.safeParse(request.body ?? {});
    if (!body.success) {
      return reply.code(400).send({ error: 'bad request', ...firstZodIssue(body.error, '(body)') });
    }
    desk.setSecret(body.data.platform, body.data.token, body.data.secret);
    return { platform: body.data.platform, token: body.data.token, signing: body.data.secret !== null };
  });

  app.get('/admin/robots/messages', async (request, reply) => {
    const query = RobotMessagesQuery.safeParse(request.query ?? {});
    if (!query.success) {
      return reply.code(400).send({ error: 'bad request', ...firstZodIssue(query.error, '(query)') });
    }
    const { platform, token } = query.data;
    return desk.received.filter(
      (m) => (platform === undefined || m.platform === platform) && (token === undefined || m.token === token),
    );
  });
}
