import type { FastifyInstance, FastifyReply } from 'fastify';
import type { z } from 'zod';
import { AdminInputError, AdminOperations } from '../admin/operations.js';
import {
  AddInvoicesBody,
  AuthSettingsBody,
  GenerateInvoicesBody,
  LedgerQuery,
  ProfileBody,
  ProfileQuery,
  RequestIdDedupBody,
  RequestIdDedupQuery,
  SeedDemoBody,
  SetClockBody,
  StatisticQuery,
  TaskDelaysBody,
  TaxpayerBody,
  TenantEncodingBody,
  type ClockState,
  type FaultsServed,
  type LedgerRecord,
  type ProfileState,
  type RequestIdDedupState,
  type StatisticRecord,
} from '../admin/schemas.js';
import { ProfileError } from '../../protocol/profile.js';
import { firstZodIssue } from '../../protocol/zodErrors.js';
import { computeInvariants } from '../admin/invariants.js';
import type { Bureau } from '../bureau/bureau.js';
import type { FaultInjector } from '../faults/injector.js';
import {
  ExpireBureauLoginsBody,
  ExpireTokensBody,
  FaultsBody,
  QuotaBody,
  TASK_KINDS,
  TaskLatencyBody,
} from '../faults/schemas.js';
import { ANY_TENANT, resolveProfile, type Settings, type TaskDelays } from '../settings.js';
import type { StoredInvoice, Store } from '../store.js';

/** The admin API (no auth: a sandbox). Bad input is a 400 naming the field. */

class BadInput extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const { field, message } = firstZodIssue(result.error, '(body)');
  throw new BadInput(field, message);
}

export async function adminPlugin(
  app: FastifyInstance,
  deps: { store: Store; settings: Settings; bureau: Bureau; faults: FaultInjector },
): Promise<void> {
  const { store, settings, bureau } = deps;
  const ops = new AdminOperations(store, settings, bureau);

  app.setErrorHandler((err, _request, reply: FastifyReply) => {
    if (err instanceof BadInput || err instanceof AdminInputError) {
      return reply.code(400).send({ error: 'bad request', field: err.field, message: err.message });
    }
    const e = err as { statusCode?: number; message?: string };
    if (e.statusCode && e.statusCode < 500) return reply.code(e.statusCode).send({ error: e.message });
    app.log.error({ err }, 'admin failure');
    return reply.code(500).send({ error: 'internal error', message: e.message });
  });

  const clockState = (): ClockState => ({
    now: new Date(settings.now()).toISOString(),
    offsetMs: settings.clockOffsetMs(),
  });
  const taxpayerOr404 = (taxNo: string, reply: FastifyReply) => {
    const summary = ops.summary(taxNo);
    if (!summary) return reply.code(404).send({ error: 'not found', field: 'taxNo', message: `no taxpayer ${taxNo}` });
    return summary;
  };

  app.get('/health', async () => ({ status: 'ok', now: new Date(settings.now()).toISOString() }));

  app.post('/admin/demo', async (request) => ({ taxpayers: ops.seedDemo(parse(SeedDemoBody, request.body)) }));

  app.get('/admin/clock', async () => clockState());
  app.post('/admin/clock', async (request) => {
    settings.setClock(Date.parse(parse(SetClockBody, request.body).now));
    return clockState();
  });

  const delays = (d: TaskDelays) => ({
    selectMs: d.select,
    statisticMs: d.statistic,
    confirmMs: d.confirm,
    downloadMs: d.download,
  });
  app.get('/admin/task-delays', async () => delays(settings.taskDelays()));
  app.post('/admin/task-delays', async (request) => {
    const body = parse(TaskDelaysBody, request.body);
    return delays(
      settings.setTaskDelays({
        select: body.selectMs,
        statistic: body.statisticMs,
        confirm: body.confirmMs,
        download: body.downloadMs,
      }),
    );
  });

  app.post('/admin/auth-settings', async (request) => {
    settings.setTokenTtls(parse(AuthSettingsBody, request.body));
    return { accessTokenTtlMs: settings.accessTokenTtlMs(), appTokenTtlMs: settings.appTokenTtlMs() };
  });

  app.post('/admin/tenant-encoding', async (request) => {
    const body = parse(TenantEncodingBody, request.body);
    if (!store.tenants.setEncoding(body.tenantId, body.kind, body.password)) {
      throw new BadInput('tenantId', `unknown tenant ${body.tenantId}`);
    }
    return { tenantId: body.tenantId, kind: body.kind };
  });

  // Faults (simulator/faults): per tenant; a tenant without its own settings gets the start-time ones.
  const knownTenant = (tenantId: string) => {
    if (!store.tenants.get(tenantId)) throw new BadInput('tenantId', `unknown tenant ${tenantId}`);
    return tenantId;
  };
  const tenantQuery = (query: unknown) => knownTenant(parse(ExpireTokensBody, query).tenantId);
  app.get('/admin/faults', async (request) => ({
    tenantId: tenantQuery(request.query),
    ...settings.faults(tenantQuery(request.query)),
  }));
  app.post('/admin/faults', async (request) => {
    const { tenantId, ...faults } = parse(FaultsBody, request.body);
    settings.setFaults(knownTenant(tenantId), faults);
    deps.faults.reset(tenantId);
    return { tenantId, ...settings.faults(tenantId) };
  });
  app.post('/admin/faults/expire-tokens', async (request) => {
    const tenantId = knownTenant(parse(ExpireTokensBody, request.body).tenantId);
    return { tenantId, expired: store.tenants.expireAccessTokens(tenantId) };
  });
  app.post('/admin/faults/expire-bureau-logins', async (request) => {
    const { taxNo } = parse(ExpireBureauLoginsBody, request.body);
    return { taxNo: taxNo ?? null, expired: store.taxpayers.clearBureauLogins(taxNo) };
  });
  app.get('/admin/faults/served', async (request): Promise<FaultsServed> => {
    const tenantId = tenantQuery(request.query);
    return {
      tenantId,
      ...deps.faults.servedCounts(tenantId),
      writesLostByInterface: deps.faults.writesLostByInterface(tenantId),
    };
  });
  app.get('/admin/quota', async (request) => {
    const tenantId = tenantQuery(request.query);
    return { tenantId, ...settings.quota(tenantId) };
  });
  app.post('/admin/quota', async (request) => {
    const { tenantId, ...quota } = parse(QuotaBody, request.body);
    settings.setQuota(knownTenant(tenantId), quota);
    return { tenantId, ...settings.quota(tenantId) };
  });
  app.get('/admin/task-latency', async () =>
    Object.fromEntries(TASK_KINDS.map((kind) => [kind, settings.taskLatency(kind)])),
  );
  app.post('/admin/task-latency', async (request) => {
    const body = parse(TaskLatencyBody, request.body);
    settings.setTaskLatency(body.kind, body.distribution, body.seed);
    return { kind: body.kind, distribution: settings.taskLatency(body.kind) };
  });

  // The protocol profile per tenant ("*": every tenant without its own), persisted in settings.
  const profileTenant = (tenantId: string) => (tenantId === ANY_TENANT ? tenantId : knownTenant(tenantId));
  app.get('/admin/profile', async (request): Promise<ProfileState> => {
    const tenantId = profileTenant(parse(ProfileQuery, request.query).tenantId);
    return { tenantId, profile: settings.profile(tenantId) };
  });
  app.post('/admin/profile', async (request): Promise<ProfileState> => {
    const tenantId = profileTenant(parse(ProfileBody, request.body).tenantId);
    try {
      // parseProfile (under resolveProfile) adds the checks zod does not make: patterns must be regular expressions.
      settings.setProfile(tenantId, resolveProfile((request.body as { profile: unknown }).profile, 'profile'));
    } catch (err) {
      if (err instanceof ProfileError) throw new BadInput('profile', err.message);
      throw err;
    }
    return { tenantId, profile: settings.profile(tenantId) };
  });

  // requestId de-duplication of writes per tenant ("*": every tenant without its own), off by default.
  app.get('/admin/request-id-dedup', async (request): Promise<RequestIdDedupState> => {
    const tenantId = profileTenant(parse(RequestIdDedupQuery, request.query).tenantId);
    return { tenantId, enabled: settings.deduplicatesRequestIds(tenantId) };
  });
  app.post('/admin/request-id-dedup', async (request): Promise<RequestIdDedupState> => {
    const body = parse(RequestIdDedupBody, request.body);
    const tenantId = profileTenant(body.tenantId);
    settings.setDeduplicatesRequestIds(tenantId, body.enabled);
    return { tenantId, enabled: settings.deduplicatesRequestIds(tenantId) };
  });

  app.get('/admin/invariants', async () => {
    for (const tp of store.taxpayers.list()) bureau.catchUp(tp.taxNo);
    return computeInvariants(store);
  });

  app.get('/admin/taxpayers', async () => store.taxpayers.list().map((tp) => ops.summary(tp.taxNo)));
  app.post('/admin/taxpayers', async (request) => ops.upsertTaxpayer(parse(TaxpayerBody, request.body)));
  app.get<{ Params: { taxNo: string } }>('/admin/taxpayers/:taxNo', async (request, reply) =>
    taxpayerOr404(request.params.taxNo, reply),
  );
  app.post<{ Params: { taxNo: string } }>('/admin/taxpayers/:taxNo/invoices', async (request, reply) => {
    const body = parse(AddInvoicesBody, request.body);
    if (!store.taxpayers.get(request.params.taxNo)) return taxpayerOr404(request.params.taxNo, reply);
    return { added: ops.addInvoices(request.params.taxNo, body.invoices) };
  });
  app.post<{ Params: { taxNo: string } }>('/admin/taxpayers/:taxNo/invoices/generate', async (request, reply) => {
    const body = parse(GenerateInvoicesBody, request.body);
    if (!store.taxpayers.get(request.params.taxNo)) return taxpayerOr404(request.params.taxNo, reply);
    return { invoices: ops.generateInvoices(request.params.taxNo, body) };
  });
  // The bureau's side of the pool: what invoiceDown (进项表头归集) pulls in.
  app.post<{ Params: { taxNo: string } }>('/admin/taxpayers/:taxNo/bureau-invoices', async (request, reply) => {
    const body = parse(AddInvoicesBody, request.body);
    if (!store.taxpayers.get(request.params.taxNo)) return taxpayerOr404(request.params.taxNo, reply);
    return { added: ops.addBureauInvoices(request.params.taxNo, body.invoices) };
  });
  app.post<{ Params: { taxNo: string } }>(
    '/admin/taxpayers/:taxNo/bureau-invoices/generate',
    async (request, reply) => {
      const body = parse(GenerateInvoicesBody, request.body);
      if (!store.taxpayers.get(request.params.taxNo)) return taxpayerOr404(request.params.taxNo, reply);
      return { invoices: ops.generateBureauInvoices(request.params.taxNo, body) };
    },
  );

  // The pool with the bureau's selection state (selectStatus, selectPeriod, selectPurpose, effectiveTax).
  app.get<{ Params: { taxNo: string } }>('/admin/taxpayers/:taxNo/invoices', async (request, reply) => {
    const { taxNo } = request.params;
    if (!store.taxpayers.get(taxNo)) return taxpayerOr404(taxNo, reply);
    return store.transaction((): StoredInvoice[] => {
      bureau.catchUp(taxNo);
      return store.invoices.all(taxNo);
    });
  });
  app.get<{ Params: { taxNo: string } }>('/admin/taxpayers/:taxNo/statistic', async (request, reply) => {
    const { taxNo } = request.params;
    const q = parse(StatisticQuery, request.query);
    if (!store.taxpayers.get(taxNo)) return taxpayerOr404(taxNo, reply);
    return store.transaction((): StatisticRecord => {
      bureau.catchUp(taxNo);
      const period = q.period ?? bureau.taxpayer(taxNo).taxPeriod;
      const stat = store.taxpayers.getStatistic(taxNo, period);
      return {
        taxNo,
        period,
        statisticStatus: bureau.statisticStatus(taxNo, period),
        confirmedAt: stat?.confirmedAt ? new Date(stat.confirmedAt).toISOString() : null,
        items: bureau.statisticItems(taxNo, period),
      };
    });
  });

  // Write requests that reached the bureau, after every task due by now has settled.
  app.get('/admin/ledger', async (request): Promise<LedgerRecord[]> => {
    const q = parse(LedgerQuery, request.query);
    return store.transaction(() => {
      if (q.taxNo) {
        if (store.taxpayers.get(q.taxNo)) bureau.catchUp(q.taxNo);
      } else {
        for (const tp of store.taxpayers.list()) bureau.catchUp(tp.taxNo);
      }
      const filter = { taxNo: q.taxNo, interfaceCode: q.interfaceCode, includeRefused: q.includeRefused === 'true' };
      return store.ledger.entries(filter).map((e) => ({ ...e, time: new Date(e.time).toISOString() }));
    });
  });
}
