import { pino } from 'pino';
import { likelyCurrentPeriod } from '../protocol/period.js';
import { AdminOperations } from './admin/operations.js';
import { ReplayError } from './replay.js';
import { startSandbox } from './server.js';
import { sandboxEnv } from './sandboxEnv.js';

/**
 * `npm run sandbox`: the sandbox alone, on SANDBOX_PORT, state in SANDBOX_DB. Faults at start:
 * SANDBOX_FAULTS (JSON FaultSettings), SANDBOX_QUOTA_RPS, SANDBOX_TASK_LATENCY (JSON kind ->
 * distribution), SANDBOX_ACCESS_TOKEN_TTL_MS; the protocol profile: SANDBOX_PROFILE (a JSON file)
 * (docs/sandbox.md); SANDBOX_DEDUPLICATE_REQUEST_IDS=1 answers writes repeating a requestId
 * with their first reply; SANDBOX_REPLAY_DIR replays a folder of capture files instead
 * (SANDBOX_REPLAY_DATA_PASSWORD for an AES-GCM tenant).
 */

const logger = pino({ name: 'sandbox' });

async function main(): Promise<void> {
  const env = sandboxEnv(process.env);
  if (env.replayDir !== undefined) {
    let replay;
    try {
      replay = await startSandbox({
        port: env.port,
        host: env.host,
        replayDir: env.replayDir,
        ...(env.replayEncoding ? { replayEncoding: env.replayEncoding } : {}),
      });
    } catch (err) {
      if (err instanceof ReplayError) throw new Error(`SANDBOX_REPLAY_DIR=${env.replayDir}: ${err.message}`);
      throw err;
    }
    logger.info(
      { url: replay.url, replayDir: env.replayDir },
      `invoice-cloud sandbox replaying captures on ${replay.url}`,
    );
    stopOnSignals(replay);
    return;
  }
  const dbFile = env.dbFile;
  const sandbox = await startSandbox({
    port: env.port,
    host: env.host,
    dbFile,
    ...(env.faults ? { faults: env.faults } : {}),
    ...(env.accessTokenTtlMs !== undefined ? { accessTokenTtlMs: env.accessTokenTtlMs } : {}),
    ...(env.profile ? { profile: env.profile } : {}),
    ...(env.deduplicateRequestIds !== undefined ? { deduplicateRequestIds: env.deduplicateRequestIds } : {}),
    prepare: ({ store, settings, bureau }) => {
      if (!store.isEmpty()) return;
      const taxPeriod = likelyCurrentPeriod(new Date(settings.now()));
      new AdminOperations(store, settings, bureau).seedDemo({ taxPeriod });
      logger.info({ taxPeriod }, 'seeded the demo tenant');
    },
  });
  logger.info({ url: sandbox.url, dbFile }, `invoice-cloud sandbox listening on ${sandbox.url}`);

  stopOnSignals(sandbox);
}

function stopOnSignals(sandbox: { close(): Promise<void> }): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping the sandbox');
    sandbox.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'sandbox did not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  logger.error({ err }, 'sandbox failed to start');
  process.exit(1);
});
