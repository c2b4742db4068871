import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import proto from '@temporalio/proto';
import type { FastifyInstance } from 'fastify';
import { after, before, describe, it } from 'mocha';
import { buildCodecServer } from '../security/codecServer.js';
import { AesGcmPayloadCodec } from '../security/payloadCodec.js';

/**
 * The codec server's refusals and its one success, through Fastify's inject. Encrypted payloads
 * are built by hand here (protobuf Payload, AES-256-GCM: IV 12 | ciphertext | tag 16, key id in the
 * metadata), not with the codec under test.
 */

const TOKEN = 'ui-token-5f3a';
const UI = 'http://127.0.0.1:8233';
const KEY_ID = '2026-a';
const KEY = randomBytes(32);

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/** A json/plain payload as Temporal's default converter writes it. */
const PLAIN = {
  metadata: { encoding: 'json/plain' },
  data: JSON.stringify({ approver: '王会计', comment: '核对无误' }),
};

function encryptByHand(
  key: Buffer,
  keyId: string | undefined,
  plain = PLAIN,
): { metadata: Record<string, string>; data: string } {
  const inner = proto.temporal.api.common.v1.Payload.encode({
    metadata: { encoding: Buffer.from(plain.metadata.encoding) },
    data: Buffer.from(plain.data),
  }).finish();
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([iv, cipher.update(inner), cipher.final(), cipher.getAuthTag()]);
  return {
    metadata: {
      encoding: b64('binary/encrypted'),
      ...(keyId !== undefined ? { 'encryption-key-id': b64(keyId) } : {}),
    },
    data: data.toString('base64'),
  };
}

function decryptByHand(key: Buffer, data: string): { encoding: string; data: string } {
  const raw = Buffer.from(data, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  const inner = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]);
  const payload = proto.temporal.api.common.v1.Payload.decode(inner);
  return {
    encoding: Buffer.from(payload.metadata!.encoding!).toString('utf8'),
    data: Buffer.from(payload.data!).toString('utf8'),
  };
}

const UNAUTHORIZED = { error: 'unauthorized: a valid Authorization bearer token is required' };

describe('codec server', () => {
  let app: FastifyInstance;
  let open: FastifyInstance;
  before(() => {
    const codec = new AesGcmPayloadCodec(new Map([[KEY_ID, KEY]]), KEY_ID);
    app = buildCodecServer({ codec, allowedOrigins: [UI], authToken: TOKEN });
    open = buildCodecServer({ codec, allowedOrigins: [] });
  });
  after(async () => {
    await app.close();
    await open.close();
  });

  const post = (url: string, payload: unknown, headers: Record<string, string> = {}, server = app) =>
    server.inject({ method: 'POST', url, payload: payload as object, headers });
  const bearer = { authorization: `Bearer ${TOKEN}` };

  describe('the token', () => {
    it('decodes for the correct token', async () => {
      const response = await post('/decode', { payloads: [encryptByHand(KEY, KEY_ID)] }, bearer);
      assert.equal(response.statusCode, 200, response.body);
      const [payload] = response.json().payloads;
      assert.deepEqual(Object.keys(payload.metadata), ['encoding']);
      assert.equal(unb64(payload.metadata.encoding), 'json/plain');
      assert.deepEqual(JSON.parse(unb64(payload.data)), { approver: '王会计', comment: '核对无误' });
    });

    it('accepts the scheme in any case ("bearer")', async () => {
      const response = await post(
        '/decode',
        { payloads: [encryptByHand(KEY, KEY_ID)] },
        { authorization: `bearer ${TOKEN}` },
      );
      assert.equal(response.statusCode, 200);
    });

    const refused: [string, Record<string, string>][] = [
      ['no Authorization header', {}],
      ['a wrong token of the same length', { authorization: `Bearer ${TOKEN.slice(0, -1)}b` }],
      ['a wrong token of another length', { authorization: 'Bearer ui-token' }],
      ['the token with a trailing character', { authorization: `Bearer ${TOKEN}x` }],
      ['an empty bearer', { authorization: 'Bearer ' }],
      ['another scheme', { authorization: `Basic ${TOKEN}` }],
    ];
    for (const [title, headers] of refused) {
      for (const route of ['/decode', '/encode']) {
        it(`${route} refuses ${title} with 401`, async () => {
          const response = await post(route, { payloads: [encryptByHand(KEY, KEY_ID)] }, headers);
          assert.equal(response.statusCode, 401);
          assert.deepEqual(response.json(), UNAUTHORIZED);
          assert.ok(!response.body.includes('核对无误'));
        });
      }
    }

    it('refuses before reading the body: a malformed body without a token is 401, not 400', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/decode',
        payload: '{not json',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(response.statusCode, 401);
      assert.deepEqual(response.json(), UNAUTHORIZED);
    });

    it('/health needs no token', async () => {
      const response = await app.inject({ url: '/health' });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { status: 'ok' });
    });

    it('without a configured token, decodes for anyone', async () => {
      const response = await post('/decode', { payloads: [encryptByHand(KEY, KEY_ID)] }, {}, open);
      assert.equal(response.statusCode, 200);
      assert.equal(unb64(response.json().payloads[0].metadata.encoding), 'json/plain');
    });
  });

  describe('payloads it cannot decode: 422 with the reason', () => {
    const cases: [string, () => unknown, string][] = [
      [
        'an unknown key id',
        () => encryptByHand(randomBytes(32), '2025-old'),
        'payload was encrypted with key "2025-old", which is not configured',
      ],
      [
        'no key id at all',
        () => encryptByHand(KEY, undefined),
        'payload was encrypted with key "", which is not configured',
      ],
      [
        'the right key id but another key (undecryptable)',
        () => encryptByHand(randomBytes(32), KEY_ID),
        'payload failed authentication with key "2026-a"',
      ],
      [
        'a tampered ciphertext',
        () => {
          const p = encryptByHand(KEY, KEY_ID);
          const raw = Buffer.from(p.data, 'base64');
          raw[14] = raw[14]! ^ 0x01;
          return { ...p, data: raw.toString('base64') };
        },
        'payload failed authentication with key "2026-a"',
      ],
      [
        'a payload too short to hold IV and tag',
        () => ({ ...encryptByHand(KEY, KEY_ID), data: b64(Buffer.alloc(27)) }),
        'encrypted payload is too short',
      ],
    ];
    for (const [title, payload, error] of cases) {
      it(title, async () => {
        const response = await post('/decode', { payloads: [payload()] }, bearer);
        assert.equal(response.statusCode, 422);
        assert.deepEqual(response.json(), { error });
      });
    }

    it('one bad payload fails the whole batch (no partial answer)', async () => {
      const response = await post(
        '/decode',
        { payloads: [encryptByHand(KEY, KEY_ID), encryptByHand(KEY, 'gone')] },
        bearer,
      );
      assert.equal(response.statusCode, 422);
      assert.ok(!response.body.includes('payloads'));
    });

    it('an unencrypted payload comes back unchanged', async () => {
      const plain = { metadata: { encoding: b64('json/plain') }, data: b64('"明文"') };
      const response = await post('/decode', { payloads: [plain] }, bearer);
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { payloads: [plain] });
    });
  });

  describe('malformed bodies: 400 naming what is wrong', () => {
    it('a body that is not JSON', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/decode',
        payload: '{"payloads": [',
        headers: { ...bearer, 'content-type': 'application/json' },
      });
      assert.equal(response.statusCode, 400);
      assert.match(response.json().message, /not valid JSON/);
    });

    const cases: [string, unknown, RegExp][] = [
      ['no payloads field', {}, /^payloads: .*expected array/],
      ['payloads not an array', { payloads: 'abc' }, /^payloads: .*expected array/],
      ['data not a string', { payloads: [{ data: 5 }] }, /^payloads\.0\.data: .*expected string/],
      [
        'a metadata value not a string',
        { payloads: [{ metadata: { encoding: 1 }, data: '' }] },
        /^payloads\.0\.metadata\.encoding: .*expected string/,
      ],
    ];
    for (const [title, body, error] of cases) {
      it(title, async () => {
        const response = await post('/decode', body, bearer);
        assert.equal(response.statusCode, 400);
        const { error: message } = response.json();
        assert.match(message, error);
      });
    }

    it('a text/plain body', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/decode',
        payload: 'payloads',
        headers: { ...bearer, 'content-type': 'text/plain' },
      });
      assert.equal(response.statusCode, 400);
      assert.match(response.json().error, /^\(root\): .*expected object/);
    });
  });

  describe('/encode', () => {
    it('encrypts with the current key id, decryptable by hand', async () => {
      const plain = { metadata: { encoding: b64('json/plain') }, data: b64('{"reason":"金额不符"}') };
      const response = await post('/encode', { payloads: [plain] }, bearer);
      assert.equal(response.statusCode, 200);
      const [payload] = response.json().payloads;
      assert.equal(unb64(payload.metadata.encoding), 'binary/encrypted');
      assert.equal(unb64(payload.metadata['encryption-key-id']), '2026-a');
      assert.ok(!unb64(payload.data).includes('金额不符'));
      assert.deepEqual(decryptByHand(KEY, payload.data), { encoding: 'json/plain', data: '{"reason":"金额不符"}' });
    });
  });

  describe('CORS', () => {
    it('a preflight from the Web UI gets 204 and the CORS headers, without a token', async () => {
      const response = await app.inject({
        method: 'OPTIONS',
        url: '/decode',
        headers: {
          origin: UI,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
      assert.equal(response.statusCode, 204);
      assert.equal(response.headers['access-control-allow-origin'], UI);
      assert.equal(response.headers['access-control-allow-credentials'], 'true');
      assert.equal(response.headers['access-control-allow-methods'], 'POST, OPTIONS');
      const allowed = String(response.headers['access-control-allow-headers']).split(/,\s*/).sort();
      assert.deepEqual(allowed, ['authorization', 'content-type', 'x-namespace']);
    });

    it('a preflight from another origin gets no CORS headers', async () => {
      const response = await app.inject({
        method: 'OPTIONS',
        url: '/decode',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(response.headers['access-control-allow-origin'], undefined);
      assert.equal(response.headers['access-control-allow-credentials'], undefined);
    });

    it('another origin holding the token still gets no CORS headers (its browser cannot read the reply)', async () => {
      const response = await post(
        '/decode',
        { payloads: [encryptByHand(KEY, KEY_ID)] },
        { ...bearer, origin: 'http://localhost:9999' },
      );
      assert.equal(response.headers['access-control-allow-origin'], undefined);
    });

    it('the Web UI can read a 401 (the refusal carries the CORS headers)', async () => {
      const response = await post('/decode', { payloads: [] }, { origin: UI });
      assert.equal(response.statusCode, 401);
      assert.equal(response.headers['access-control-allow-origin'], UI);
    });

    it('the Web UI with the token gets the decoded payload and the CORS headers', async () => {
      const response = await post('/decode', { payloads: [encryptByHand(KEY, KEY_ID)] }, { ...bearer, origin: UI });
      assert.equal(response.statusCode, 200);
      assert.equal(response.headers['access-control-allow-origin'], UI);
      assert.equal(unb64(response.json().payloads[0].metadata.encoding), 'json/plain');
    });
  });
});
