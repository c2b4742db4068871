import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * How the `data` field of the business envelope is encoded (docs/protocol.md, "Transport"): plain base64 of the
 * JSON payload, or, when the tenant turns encryption on, base64 of a 12-byte IV followed by the
 * AES-128-GCM ciphertext and its 16-byte tag. Key = first 16 bytes of SHA1(SHA1(password)).
 */
export type DataEncoding = { kind: 'base64' } | { kind: 'aes-gcm'; password: string };

const IV_BYTES = 12;
const TAG_BYTES = 16;

export function aesKeyFromPassword(password: string): Buffer {
  const once = createHash('sha1').update(password, 'utf8').digest();
  return createHash('sha1').update(once).digest().subarray(0, 16);
}

export function encodeData(payload: unknown, encoding: DataEncoding, iv: Buffer = randomBytes(IV_BYTES)): string {
  const json = Buffer.from(JSON.stringify(payload), 'utf8');
  if (encoding.kind === 'base64') return json.toString('base64');
  const cipher = createCipheriv('aes-128-gcm', aesKeyFromPassword(encoding.password), iv);
  const body = Buffer.concat([cipher.update(json), cipher.final(), cipher.getAuthTag()]);
  return Buffer.concat([iv, body]).toString('base64');
}

export class DataDecodingError extends Error {
  override name = 'DataDecodingError';
}

/** Decodes `data` to the JSON value it carries; throws DataDecodingError saying what was wrong. */
export function decodeData(data: string, encoding: DataEncoding): unknown {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data.replace(/\s/g, ''))) {
    throw new DataDecodingError('data is not base64');
  }
  const raw = Buffer.from(data, 'base64');
  let json: Buffer;
  if (encoding.kind === 'base64') {
    json = raw;
  } else {
    if (raw.length < IV_BYTES + TAG_BYTES) throw new DataDecodingError('encrypted data is too short');
    const iv = raw.subarray(0, IV_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-128-gcm', aesKeyFromPassword(encoding.password), iv);
    decipher.setAuthTag(tag);
    try {
      json = Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new DataDecodingError('encrypted data failed authentication (wrong password or corrupted data)');
    }
  }
  try {
    return JSON.parse(json.toString('utf8'));
  } catch {
    throw new DataDecodingError('data does not decode to JSON');
  }
}
