import Fastify from 'fastify';
import { Bureau } from './bureau/bureau.js';
import { openDb } from './db.js';
import { adminPlugin } from './plugins/admin.js';
import { authPlugin } from './plugins/auth.js';
import { gatewayPlugin } from './plugins/gateway.js';
import { Settings } from './settings.js';
import { Store } from './store.js';

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
  /** Runs once against the store before listening (e.g. seeding an empty db). */
  prepare?: (ctx: { store: Store; settings: Settings; bureau: Bureau }) => void;
}

export interface RunningSandbox {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The invoice-cloud + tax-bureau sandbox: auth routes, business gateway, admin API over SQLite. */
export async function startSandbox(opts: SandboxOptions = {}): Promise<RunningSandbox> {
  const db = openDb(opts.dbFile ?? ':memory:');
  const store = new Store(db);
  const settings = new Settings(store);
  const bureau = new Bureau(store, settings);
  if (opts.accessTokenTtlMs !== undefined) settings.setTokenTtls({ accessTokenTtlMs: opts.accessTokenTtlMs });
  opts.prepare?.({ store, settings, bureau });

  const app = Fastify({ logger: opts.logger ?? false });
  const deps = { store, settings, bureau };
  await app.register(authPlugin, deps);
  await app.register(gatewayPlugin, { ...deps, ...(opts.gatewayPath ? { path: opts.gatewayPath } : {}) });
  await app.register(adminPlugin, deps);

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
    close: async () => {
      await app.close();
      db.close();
    },
  };
}
