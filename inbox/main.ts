/** Runs the approvers' inbox: INBOX_PORT (default 8088), INBOX_HOST, TAXPAYER_REGISTRY for names. */
import { existsSync } from 'node:fs';
import { loadRegistry } from '../client/registry.js';
import { createTemporalClient } from '../client/temporalConnection.js';
import { createLogger } from '../workers/logging.js';
import { buildInbox } from './server.js';

const logger = createLogger('inbox');
const port = Number(process.env.INBOX_PORT ?? 8088);
const host = process.env.INBOX_HOST ?? '127.0.0.1';
const registryFile = process.env.TAXPAYER_REGISTRY ?? 'config/taxpayers.json';

try {
  const names = new Map<string, string>();
  if (existsSync(registryFile)) for (const t of loadRegistry(registryFile).taxpayers) names.set(t.taxNo, t.name);
  const client = await createTemporalClient();
  const app = await buildInbox({ client, names });
  await app.listen({ port, host });
  logger.info({ url: `http://${host}:${port}/` }, 'Approvers inbox listening');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void app.close().then(() => client.connection.close());
    });
  }
} catch (error) {
  logger.error({ err: error }, 'Inbox failed to start');
  process.exitCode = 1;
}
