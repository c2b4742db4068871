/**
 * The period overview's routes: `/overview?period=YYYYMM` (the page) and `/api/overview?period=`
 * (the same figures as JSON), behind the inbox's login. The period's months are read from
 * visibility once per `cacheMs` for every identity; each request keeps only what its identity may see.
 */
import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { likelyCurrentPeriod, TaxPeriod } from '../protocol/period.js';
import { displayName, type Identity } from './identity.js';
import { SharedRefresh } from './listCache.js';
import { periodMonths, summarizePeriod, visibleTaxpayers, type PeriodOverview } from './overview.js';
import { OVERVIEW_CSS, renderOverview } from './overviewView.js';
import type { TaxpayerDirectory } from './taxpayers.js';
import { sendProblem } from './webSecurity.js';

export interface OverviewRouteOptions {
  client: Client;
  taxpayers: TaxpayerDirectory;
  now: () => Date;
  /** The inbox's login check (a preHandler). */
  requireLogin: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** How long one visibility scan of a period serves every request (0: read on every request). */
  cacheMs: number;
}

/** "2026-11" (what a month input sends) is taken as 202611; anything else must be YYYYMM. */
export const OverviewQuery = z.object({
  period: z
    .preprocess((v) => (typeof v === 'string' ? v.trim().replace(/^(\d{4})-(\d{2})$/, '$1$2') : v), TaxPeriod)
    .optional(),
});

/** Periods whose scans are kept (the ones people page between). */
const PERIODS_KEPT = 12;

export function registerOverview(app: FastifyInstance, opts: OverviewRouteOptions): { invalidate(): void } {
  const scans = new Map<string, SharedRefresh<Awaited<ReturnType<typeof periodMonths>>>>();
  function scanOf(period: string) {
    let scan = scans.get(period);
    if (!scan) {
      scan = new SharedRefresh(() => periodMonths(opts.client, period), opts.cacheMs, opts.cacheMs * 6);
      scans.set(period, scan);
      if (scans.size > PERIODS_KEPT) scans.delete(scans.keys().next().value!);
    }
    return scan;
  }

  /** The overview for the request's identity, or undefined after answering 400 for a bad period. */
  async function overviewFor(request: FastifyRequest, reply: FastifyReply): Promise<PeriodOverview | undefined> {
    const query = OverviewQuery.safeParse(request.query);
    if (!query.success) {
      const raw = (request.query as { period?: unknown }).period;
      const problems = query.error.issues.map((i) => i.message).join('; ');
      await sendProblem(
        request,
        reply,
        400,
        `税款所属期无效 Invalid period ${JSON.stringify(raw)}: ${problems} (e.g. ?period=${likelyCurrentPeriod(opts.now())}).`,
      );
      return undefined;
    }
    const now = opts.now();
    const period = query.data.period ?? likelyCurrentPeriod(now);
    const who = request.session.identity as Identity;
    const { months, leftOut } = await scanOf(period).get();
    return summarizePeriod({ period, months, visible: visibleTaxpayers(who, opts.taxpayers()), now, leftOut });
  }

  app.get('/overview.css', async (_req, reply) => reply.type('text/css; charset=utf-8').send(OVERVIEW_CSS));

  app.get('/overview', { preHandler: opts.requireLogin }, async (request, reply) => {
    const overview = await overviewFor(request, reply);
    if (!overview) return reply;
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    return renderOverview({
      overview,
      now: new Date(overview.at),
      user: displayName(request.session.identity as Identity),
      csrfToken: reply.generateCsrf(),
    });
  });

  app.get('/api/overview', { preHandler: opts.requireLogin }, async (request, reply) => {
    const overview = await overviewFor(request, reply);
    if (!overview) return reply;
    reply.header('cache-control', 'no-store');
    return overview;
  });

  return {
    invalidate() {
      for (const scan of scans.values()) scan.invalidate();
    },
  };
}
