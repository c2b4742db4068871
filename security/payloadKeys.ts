import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { describeZodError } from '../protocol/interfaces.js';
import { AesGcmPayloadCodec, PayloadKeyError } from './payloadCodec.js';

/**
 * Payload encryption settings, from the environment of every process that talks to Temporal
 * (workers, CLI, start script, inbox, codec server):
 *   TEMPORAL_PAYLOAD_KEY_FILE  JSON file {"current": "<id>", "keys": {"<id>": "<base64 of 32 bytes>"}}
 *   TEMPORAL_PAYLOAD_KEYS      the same inline: "<id>=<base64>,<id>=<base64>"
 *   TEMPORAL_PAYLOAD_KEY_ID    the id that encrypts new payloads (default: the file's current, or the last inline key)
 * Nothing set: payloads are stored unencrypted.
 */
const KeyFile = z.object({
  current: z.string().min(1),
  keys: z.record(z.string().min(1), z.string().min(1)),
});

function decodeKey(id: string, base64: string): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32)
    throw new PayloadKeyError(`payload key "${id}": expected base64 of 32 bytes, got ${key.length} bytes`);
  return key;
}

export function payloadCodecFromEnv(env: NodeJS.ProcessEnv = process.env): AesGcmPayloadCodec | undefined {
  const keys = new Map<string, Buffer>();
  let current = env.TEMPORAL_PAYLOAD_KEY_ID?.trim() || undefined;
  if (env.TEMPORAL_PAYLOAD_KEY_FILE) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(env.TEMPORAL_PAYLOAD_KEY_FILE, 'utf8'));
    } catch (error) {
      throw new PayloadKeyError(`TEMPORAL_PAYLOAD_KEY_FILE: cannot read JSON (${(error as Error).message})`);
    }
    const parsed = KeyFile.safeParse(raw);
    if (!parsed.success) throw new PayloadKeyError(`TEMPORAL_PAYLOAD_KEY_FILE: ${describeZodError(parsed.error)}`);
    for (const [id, value] of Object.entries(parsed.data.keys)) keys.set(id, decodeKey(id, value));
    current ??= parsed.data.current;
  }
  if (env.TEMPORAL_PAYLOAD_KEYS) {
    for (const entry of env.TEMPORAL_PAYLOAD_KEYS.split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const at = entry.indexOf('=');
      if (at <= 0) throw new PayloadKeyError(`TEMPORAL_PAYLOAD_KEYS: "${entry.slice(0, 12)}…" is not <id>=<base64>`);
      const id = entry.slice(0, at);
      keys.set(id, decodeKey(id, entry.slice(at + 1)));
      if (!env.TEMPORAL_PAYLOAD_KEY_ID && !env.TEMPORAL_PAYLOAD_KEY_FILE) current = id;
    }
  }
  if (keys.size === 0) {
    if (current) throw new PayloadKeyError('TEMPORAL_PAYLOAD_KEY_ID is set but no payload keys are configured');
    return undefined;
  }
  return new AesGcmPayloadCodec(keys, current!);
}

/** The failure converter that encodes failure messages and stack traces (security/failureConverter.ts). */
export const ENCODED_FAILURES_CONVERTER_PATH = fileURLToPath(new URL('./failureConverter.ts', import.meta.url));

/** Payloads through `codec`, failure messages and stack traces included. */
export function encryptingDataConverter(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec], failureConverterPath: ENCODED_FAILURES_CONVERTER_PATH };
}

/** The data converter every worker and client uses: encrypting when keys are configured. */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter {
  const codec = payloadCodecFromEnv(env);
  return codec ? encryptingDataConverter(codec) : {};
}
