/**
 * The approvers' inbox: lists taxpayer-months awaiting approval with what an approver needs to
 * decide, sends approve / reject through the client helpers, shows the decision history.
 */
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  approve,
  DeductionInputError,
  DeductionNotFoundError,
  DeductionStateError,
  reject,
} from '../client/deductions.js';
import { decisionHistory, pendingApprovals } from './data.js';
import { renderInbox } from './view.js';

export interface InboxOptions {
  client: Client;
  /** Taxpayer names by taxNo (from the registry), shown instead of the bare number. */
  names?: Map<string, string>;
  now?: () => Date;
}

const DecisionForm = z.object({
  taxNo: z.string().min(1),
  period: z.string().min(1),
  approver: z.string().trim().min(1, '审批人必填 approver is required'),
  comment: z.string().optional(),
  reason: z.string().optional(),
  statisticDigest: z.string().optional(),
});

export async function buildInbox(opts: InboxOptions): Promise<FastifyInstance> {
  const now = opts.now ?? (() => new Date());
  const app = Fastify({ logger: false });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.get('/health', async (_req, reply) => {
    try {
      await opts.client.connection.withDeadline(Date.now() + 3000, () => opts.client.workflowService.getSystemInfo({}));
      return { status: 'ok', temporal: 'reachable' };
    } catch (err) {
      return reply.code(503).send({ status: 'degraded', temporal: (err as Error).message });
    }
  });

  app.get('/api/pending', async () => pendingApprovals(opts.client, opts.names));
  app.get('/api/history', async () => decisionHistory(opts.client));

  app.get('/', async (req, reply) => {
    const query = req.query as { message?: string; error?: string };
    const [pending, history] = await Promise.all([
      pendingApprovals(opts.client, opts.names),
      decisionHistory(opts.client),
    ]);
    reply.type('text/html; charset=utf-8');
    return renderInbox({ pending, history, now: now(), message: query.message, error: query.error });
  });

  async function decide(kind: 'approve' | 'reject', body: unknown): Promise<string> {
    const form = DecisionForm.safeParse(body);
    if (!form.success) return `?error=${encodeURIComponent(form.error.issues.map((i) => i.message).join('; '))}`;
    const { taxNo, period, approver, comment, reason, statisticDigest } = form.data;
    try {
      if (kind === 'approve') {
        await approve(opts.client, taxNo, period, {
          approver,
          ...(comment?.trim() ? { comment: comment.trim() } : {}),
          ...(statisticDigest ? { statisticDigest } : {}),
        });
        return `?message=${encodeURIComponent(`已同意 Approved ${taxNo} ${period}`)}`;
      }
      await reject(opts.client, taxNo, period, { approver, reason: reason ?? '' });
      return `?message=${encodeURIComponent(`已驳回 Rejected ${taxNo} ${period}`)}`;
    } catch (err) {
      if (
        err instanceof DeductionInputError ||
        err instanceof DeductionNotFoundError ||
        err instanceof DeductionStateError
      ) {
        return `?error=${encodeURIComponent(err.message)}`;
      }
      throw err;
    }
  }
  app.post('/approve', async (req, reply) => reply.redirect(`/${await decide('approve', req.body)}`, 303));
  app.post('/reject', async (req, reply) => reply.redirect(`/${await decide('reject', req.body)}`, 303));
  return app;
}
