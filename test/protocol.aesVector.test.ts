import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'mocha';
import { aesKeyFromPassword, decodeData, encodeData } from '../protocol/codec.js';

/**
 * The AES-128-GCM `data` mode against a vector made once by an independent implementation
 * (Python `cryptography`, see the vector's note), committed as data.
 */
const vector = JSON.parse(readFileSync(new URL('./vectors/aes-gcm.json', import.meta.url), 'utf8')) as {
  password: string;
  ivHex: string;
  keyHex: string;
  plaintext: string;
  data: string;
};

describe('protocol: AES-GCM data against an independent vector', () => {
  const encoding = { kind: 'aes-gcm', password: vector.password } as const;

  it('derives the same key: first 16 bytes of SHA1(SHA1(password))', () => {
    assert.equal(aesKeyFromPassword(vector.password).toString('hex'), vector.keyHex);
  });

  it('decodes the vector to its plaintext', () => {
    assert.deepEqual(decodeData(vector.data, encoding), JSON.parse(vector.plaintext));
  });

  it('re-encodes the plaintext with the same IV to the same bytes', () => {
    const data = encodeData(JSON.parse(vector.plaintext), encoding, Buffer.from(vector.ivHex, 'hex'));
    assert.equal(data, vector.data);
  });

  it('refuses the vector under a wrong password or a flipped byte', () => {
    assert.throws(() => decodeData(vector.data, { kind: 'aes-gcm', password: 'wrong' }), /failed authentication/);
    const bytes = Buffer.from(vector.data, 'base64');
    bytes[20] = bytes[20]! ^ 1;
    assert.throws(() => decodeData(bytes.toString('base64'), encoding), /failed authentication/);
  });
});
