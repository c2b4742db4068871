import Fastify from 'fastify';
import { Bureau } from './bureau/bureau.js';
import { openDb } from './db.js';
import { FaultInjector, QuotaMeter } from './faults/injector.js';
import { StartFaults } from './faults/schemas.js';
import { adminPlugin } from './plugins/admin.js';
import { authPlugin } from './plugins/auth.js';
import { gatewayPlugin } from './plugins/gateway.js';
import { openApiPlugin } from './plugins/openapi.js';
import { webhooksPlugin } from './plugins/webhooks.js';
import { chatRobotsPlugin } from './plugins/chatRobots.js';
import { CaptureReplay, replayPlugin } from './replay.js';
import { ANY_TENANT, resolveProfile, Settings } from './settings.js';
import { Store, type TaskKind } from './store.js';
import type { DataEncoding } from '../protocol/codec.js';
import { DEFAULT_GATEWAY_PATH } from '../protocol/envelope.js';
import type { ProtocolProfileInput } from '../protocol/profile.js';

export interface SandboxOptions {
  /** 0 = a random free port. */
  port?: number;
  host?: string;
  dbFile?: string;
  logger?: boolean;
  /** Business gateway path (default DEFAULT_GATEWAY_PATH). */
  gatewayPath?: string;
  /** Stored as the access_token lifetime when given (default 2 h). */
  accessTokenTtlMs?: number;
  /**
   * Faults for every tenant from the start (a tenant's own admin settings override them). Given
   * here, they are (re)written at each start; absent, whatever the db holds stays.
   */
  faults?: StartFaults;
  /**
   * The protocol profile (protocol/profile.ts) the sandbox speaks to every tenant without a
   * profile of its own (POST /admin/profile): interface codes, the select flag, the confirm-result
   * interface, statistic categories. Given here, it is (re)written at each start; absent, whatever
   * the db holds stays (the defaults on a new db).
   */
  profile?: ProtocolProfileInput;
  /**
   * Whether a write repeating a requestId gets its first reply instead of reaching the bureau again,
   * for every tenant without a setting of its own (POST /admin/request-id-dedup). Given here, it is
   * (re)written at each start; absent, whatever the db holds stays (off on a new db).
   */
  deduplicateRequestIds?: boolean;
  /**
   * When given, the sandbox clock is set to this instant before each request: a test on the
   * time-skipping server passes that server's clock, so the bureau's calendar moves with workflow time.
   */
  followClock?: () => Promise<number>;
  /**
   * Replay mode (simulator/replay.ts): a folder of capture files answers every business call; the
   * token calls always succeed; no bureau, admin API or db state. `replayEncoding` is the tenant's
   * `data` encoding (default base64).
   */
  replayDir?: string;
  replayEncoding?: DataEncoding;
  /** Runs once against the store before listening (e.g. seeding an empty db). */
  prepare?: (ctx: { store: Store; settings: Settings; bureau: Bureau }) => void;
}

export interface RunningSandbox {
  url: string;
  port: number;
  /** Every route the sandbox serves (the OpenAPI test checks the document against it). */
  routes: readonly { method: string; url: string }[];
  close(): Promise<void>;
}

function applyStartFaults(settings: Settings, start: ReturnType<typeof StartFaults.parse>): void {
  if (start.faults) settings.setFaults(ANY_TENANT, start.faults);
  if (start.quota) settings.setQuota(ANY_TENANT, start.quota);
  for (const [kind, distribution] of Object.entries(start.taskLatency ?? {})) {
    settings.setTaskLatency(kind as TaskKind, distribution, start.latencySeed ?? 1);
  }
}

/** The invoice-cloud + tax-bureau sandbox: auth routes, business gateway, admin API over SQLite. */
export async function startSandbox(opts: SandboxOptions = {}): Promise<RunningSandbox> {
  if (opts.replayDir !== undefined) return startReplaySandbox(opts, CaptureReplay.fromDir(opts.replayDir));
  const db = openDb(opts.dbFile ?? ':memory:');
  const store = new Store(db);
  const settings = new Settings(store);
  const bureau = new Bureau(store, settings);
  if (opts.accessTokenTtlMs !== undefined) settings.setTokenTtls({ accessTokenTtlMs: opts.accessTokenTtlMs });
  if (opts.faults) applyStartFaults(settings, StartFaults.parse(opts.faults));
  if (opts.profile) settings.setProfile(ANY_TENANT, resolveProfile(opts.profile, 'startSandbox({ profile })'));
  if (opts.deduplicateRequestIds !== undefined)
    settings.setDeduplicatesRequestIds(ANY_TENANT, opts.deduplicateRequestIds);
  opts.prepare?.({ store, settings, bureau });

  // Hung replies (an injected fault) keep their sockets open: close() must destroy them.
  const app = Fastify({ logger: opts.logger ?? false, forceCloseConnections: true });
  const deps = { store, settings, bureau, faults: new FaultInjector(store.settings), quota: new QuotaMeter() };
  const gatewayPath = opts.gatewayPath ?? DEFAULT_GATEWAY_PATH;
  const routes: { method: string; url: string }[] = [];
  const { followClock } = opts;
  if (followClock) app.addHook('onRequest', async () => void settings.setClock(await followClock()));
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
  await app.register(openApiPlugin, { gatewayPath });
  await app.register(authPlugin, deps);
  await app.register(gatewayPlugin, { ...deps, path: gatewayPath });
  await app.register(adminPlugin, deps);
  await app.register(webhooksPlugin);
  await app.register(chatRobotsPlugin);

  const host = opts.host ?? '127.0.0.1';
  try {
    await app.listen({ port: opts.port ?? 0, host });
  } catch (err) {
    db.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 0);
  return {
    url: `http://${host}:${port}`,
    port,
    routes,
    close: async () => {
      await app.close();
      db.close();
    },
  };
}

/** The sandbox in replay mode: the captures of `replay` answer, nothing else is served. */
async function startReplaySandbox(opts: SandboxOptions, replay: CaptureReplay): Promise<RunningSandbox> {
  const app = Fastify({ logger: opts.logger ?? false, forceCloseConnections: true });
  const routes: { method: string; url: string }[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
  await app.register(replayPlugin, {
    replay,
    gatewayPath: opts.gatewayPath ?? DEFAULT_GATEWAY_PATH,
    encoding: opts.replayEncoding ?? { kind: 'base64' },
  });
  const host = opts.host ?? '127.0.0.1';
  await app.listen({ port: opts.port ?? 0, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (opts.port ?? 0);
  return { url: `http://${host}:${port}`, port, routes, close: () => app.close() };
}
