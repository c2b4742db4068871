import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApprovalNotice } from '../../activities/approvalNotice.js';

export const WebhooksQuery = z.object({ name: z.string().min(1).optional() }).strict();

export interface ReceivedWebhook {
  /** The `:name` of `POST /webhooks/:name`. */
  name: string;
  receivedAt: string;
  body: ApprovalNotice;
}

/**
 * A webhook receiver for tests of approver notifications: `POST /webhooks/:name` checks the body
 * against the notice schema (400 naming the field otherwise) and keeps it in memory;
 * `GET /admin/webhooks` lists what arrived, oldest first, optionally for one name.
 */
export async function webhooksPlugin(app: FastifyInstance): Promise<void> {
  const received: ReceivedWebhook[] = [];

  app.post<{ Params: { name: string } }>('/webhooks/:name', async (request, reply) => {
    const parsed = ApprovalNotice.safeParse(request.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join('.') || '(body)';
      return reply.code(400).send({ error: 'bad request', field, message: `${field}: ${issue.message}` });
    }
    received.push({ name: request.params.name, receivedAt: new Date().toISOString(), body: parsed.data });
    return { received: received.length };
  });

  app.get('/admin/webhooks', async (request, reply) => {
    const query = WebhooksQuery.safeParse(request.query ?? {});
    if (!query.success) {
      const field = query.error.issues[0]!.path.join('.') || '(query)';
      return reply
        .code(400)
        .send({ error: 'bad request', field, message: `${field}: ${query.error.issues[0]!.message}` });
    }
    const name = query.data.name;
    return name === undefined ? received : received.filter((w) => w.name === name);
  });
}
