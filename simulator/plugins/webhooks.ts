import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApprovalNotice } from '../../protocol/notice.js';
import { firstZodIssue } from '../../protocol/zodErrors.js';

export const WebhooksQuery = z.object({ name: z.string().min(1).optional() }).strict();
/** `POST /admin/webhooks/failing`: the receiver `name` answers 503 while `failing` (a chat platform down). */
export const WebhookFailingBody = z.object({ name: z.string().min(1), failing: z.boolean() }).strict();

export interface ReceivedWebhook {
  /** The `:name` of `POST /webhooks/:name`. */
  name: string;
  receivedAt: string;
  body: ApprovalNotice;
}

/**
 * A webhook receiver for tests of approver notifications: `POST /webhooks/:name` checks the body
 * against the notice schema (400 naming the field otherwise) and keeps it in memory;
 * `GET /admin/webhooks` lists what arrived, oldest first, optionally for one name;
 * `POST /admin/webhooks/failing` makes one receiver answer 503 (and keep nothing) until turned back.
 */
export async function webhooksPlugin(app: FastifyInstance): Promise<void> {
  const received: ReceivedWebhook[] = [];
  const failing = new Set<string>();

  app.post<{ Params: { name: string } }>('/webhooks/:name', async (request, reply) => {
    if (failing.has(request.params.name)) {
      return reply.code(503).send({ error: 'unavailable', message: `receiver ${request.params.name} is failing` });
    }
    const parsed = ApprovalNotice.safeParse(request.body ?? {});
    if (!parsed.success) {
      return reply.code(400).send({ error: 'bad request', ...firstZodIssue(parsed.error, '(body)') });
    }
    received.push({ name: request.params.name, receivedAt: new Date().toISOString(), body: parsed.data });
    return { received: received.length };
  });

  app.post('/admin/webhooks/failing', async (request, reply) => {
    const body = WebhookFailingBody.safeParse(request.body ?? {});
    if (!body.success) {
      return reply.code(400).send({ error: 'bad request', ...firstZodIssue(body.error, '(body)') });
    }
    if (body.data.failing) failing.add(body.data.name);
    else failing.delete(body.data.name);
    return { name: body.data.name, failing: body.data.failing };
  });

  app.get('/admin/webhooks', async (request, reply) => {
    const query = WebhooksQuery.safeParse(request.query ?? {});
    if (!query.success) {
      return reply.code(400).send({ error: 'bad request', ...firstZodIssue(query.error, '(query)') });
    }
    const name = query.data.name;
    return name === undefined ? received : received.filter((w) => w.name === name);
  });
}
