import { createLogger } from '../workers/logging.js';
import { buildCodecServer } from './codecServer.js';
import { payloadCodecFromEnv } from './payloadKeys.js';

/**
 * `npm run codec-server`: lets the Temporal Web UI show decrypted payloads to those who hold the
 * key. Start the UI with its codec endpoint pointing here (temporal server start-dev
 * --ui-codec-endpoint http://127.0.0.1:8888).
 */
const logger = createLogger('codec-server');
const codec = payloadCodecFromEnv();
if (!codec) {
  logger.error('No payload keys configured: set TEMPORAL_PAYLOAD_KEY_FILE or TEMPORAL_PAYLOAD_KEYS');
  process.exit(2);
}
const port = Number(process.env.CODEC_PORT ?? 8888);
const app = buildCodecServer({
  codec,
  allowedOrigins: (process.env.CODEC_ALLOWED_ORIGINS ?? 'http://127.0.0.1:8233,http://localhost:8233').split(','),
  authToken: process.env.CODEC_AUTH_TOKEN,
});
await app.listen({ port, host: process.env.CODEC_HOST ?? '127.0.0.1' });
logger.info({ port }, 'Codec server listening');
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.close());
