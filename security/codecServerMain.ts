import { createLogger } from '../runtime/logging.js';
import { buildCodecServer, codecServerSettingsFromEnv } from './codecServer.js';
import { payloadCodecFromEnv } from './payloadKeys.js';

/**
 * `npm run codec-server`: lets the Temporal Web UI show decrypted payloads to those who hold the
 * key and CODEC_AUTH_TOKEN. Start the UI with its codec endpoint pointing here (temporal server
 * start-dev --ui-codec-endpoint http://127.0.0.1:8888) and sign in once at /login in the browser,
 * or pass the token as a bearer (temporal --codec-auth "Bearer …").
 */
const logger = createLogger('codec-server');
let settings;
try {
  settings = codecServerSettingsFromEnv();
} catch (error) {
  logger.error((error as Error).message);
  process.exit(2);
}
const codec = payloadCodecFromEnv();
if (!codec) {
  logger.error('No payload keys configured: set TEMPORAL_PAYLOAD_KEY_FILE or TEMPORAL_PAYLOAD_KEYS');
  process.exit(2);
}
const app = buildCodecServer({ codec, allowedOrigins: settings.allowedOrigins, authToken: settings.authToken });
await app.listen({ port: settings.port, host: settings.host });
logger.info({ host: settings.host, port: settings.port }, 'Codec server listening');
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.close());
