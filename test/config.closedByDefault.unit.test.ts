import assert from 'node:assert/strict';
import { ApplicationFailure, DefaultFailureConverter, defaultPayloadConverter } from '@temporalio/common';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  invoiceCloudConfigFromEnv,
  isLoopbackUrl,
  SANDBOX_BASE_URL,
} from '../activities/invoiceCloudConfig.js';
import { buildCodecServer, codecServerSettingsFromEnv } from '../security/codecServer.js';
import { AesGcmPayloadCodec } from '../security/payloadCodec.js';
import { dataConverterFromEnv, ENCODED_FAILURES_CONVERTER_PATH } from '../security/payloadKeys.js';
import { encodedFailuresBundlePath } from '../workers/createWorker.js';

/** Without servers: the settings a deployment cannot start without. */

const CLOUD = 'https://api.piaozone.example';
/** Every tenant value and secret a real invoice cloud needs. */
const TENANT = {
  INVOICE_CLOUD_BASE_URL: CLOUD,
  INVOICE_CLOUD_APP_ID: 'APP-1',
  INVOICE_CLOUD_APP_SECRET: 'secret-from-the-vault',
  INVOICE_CLOUD_TENANT_ID: 'tenant-1',
  INVOICE_CLOUD_ACCOUNT_ID: '42',
  INVOICE_CLOUD_USER: 'finance-bot',
  INVOICE_CLOUD_BUSINESS_SYSTEM_CODE: 'erp',
  INVOICE_CLOUD_CONFIRM_PASSWORDS: JSON.stringify({ '91440300591872133B': 'confirm-pw' }),
};

function configError(env: NodeJS.ProcessEnv): string {
  try {
    invoiceCloudConfigFromEnv(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `a ConfigError, not ${String(error)}`);
    return error.message;
  }
  assert.fail('the configuration was accepted');
}

describe('invoice-cloud settings outside sandbox mode', () => {
  it('sandbox mode is a loopback URL, where the demo tenant fills in what is not set', () => {
    for (const url of [SANDBOX_BASE_URL, 'http://localhost:8790', 'http://127.0.0.2:1', 'http://[::1]:8790']) {
      assert.ok(isLoopbackUrl(url), url);
      const config = invoiceCloudConfigFromEnv({ INVOICE_CLOUD_BASE_URL: url });
      assert.equal(config.sandboxMode, true, url);
      assert.equal(config.appSecret, '12345678');
      assert.equal(config.defaultConfirmPassword, '1234567');
    }
    for (const url of ['http://sandbox:8790', 'http://127.0.0.1.nip.io', 'http://10.0.0.1', CLOUD]) {
      assert.ok(!isLoopbackUrl(url), url);
    }
    assert.equal(invoiceCloudConfigFromEnv({}).baseUrl, SANDBOX_BASE_URL, 'the default is the local sandbox');
  });

  it('refuses plain http off loopback, naming INVOICE_CLOUD_BASE_URL', () => {
    for (const url of ['http://sandbox:8790', 'http://api.piaozone.example', 'http://10.0.0.5:8790']) {
      const message = configError({ ...TENANT, INVOICE_CLOUD_BASE_URL: url });
      assert.match(message, /^INVOICE_CLOUD_BASE_URL=http:\/\/\S+: .*must be reached over https/, url);
    }
    assert.match(configError({ INVOICE_CLOUD_BASE_URL: 'not a url' }), /INVOICE_CLOUD_BASE_URL=not a url: not a URL/);
  });

  it('has no default secret for a real invoice cloud: each missing one is named', () => {
    const secrets = [
      'INVOICE_CLOUD_APP_ID',
      'INVOICE_CLOUD_APP_SECRET',
      'INVOICE_CLOUD_TENANT_ID',
      'INVOICE_CLOUD_ACCOUNT_ID',
      'INVOICE_CLOUD_USER',
      'INVOICE_CLOUD_BUSINESS_SYSTEM_CODE',
    ] as const;
    for (const name of secrets) {
      for (const absent of [undefined, '']) {
        const message = configError({ ...TENANT, [name]: absent });
        assert.match(message, new RegExp(`set ${name}$`), `${name}=${String(absent)}: ${message}`);
        assert.ok(!message.includes('secret-from-the-vault'), 'the message never shows a secret');
      }
    }
    const none = configError({ INVOICE_CLOUD_BASE_URL: CLOUD });
    for (const name of secrets) assert.ok(none.includes(name), `${name} in ${none}`);
    assert.ok(none.includes('INVOICE_CLOUD_CONFIRM_PASSWORDS (or INVOICE_CLOUD_CONFIRM_PASSWORD)'), none);
  });

  it('needs a confirmation password: per taxNo or one for all, never the demo one', () => {
    const { INVOICE_CLOUD_CONFIRM_PASSWORDS: _perTaxNo, ...withoutPasswords } = TENANT;
    assert.match(
      configError(withoutPasswords),
      /set INVOICE_CLOUD_CONFIRM_PASSWORDS \(or INVOICE_CLOUD_CONFIRM_PASSWORD\)$/,
    );
    const perTaxNo = invoiceCloudConfigFromEnv(TENANT);
    assert.equal(perTaxNo.sandboxMode, false);
    assert.equal(perTaxNo.defaultConfirmPassword, undefined, 'no demo password behind the per-taxNo ones');
    assert.equal(perTaxNo.appSecret, 'secret-from-the-vault');
    const one = invoiceCloudConfigFromEnv({ ...withoutPasswords, INVOICE_CLOUD_CONFIRM_PASSWORD: 'one-for-all' });
    assert.equal(one.defaultConfirmPassword, 'one-for-all');
  });

  it('with NODE_ENV=production there is no default URL; a loopback sandbox must be named explicitly', () => {
    assert.match(configError({ NODE_ENV: 'production' }), /^INVOICE_CLOUD_BASE_URL is not set/);
    assert.match(
      configError({ NODE_ENV: 'production', INVOICE_CLOUD_BASE_URL: '' }),
      /^INVOICE_CLOUD_BASE_URL is not set/,
    );
    const dev = invoiceCloudConfigFromEnv({ NODE_ENV: 'production', INVOICE_CLOUD_BASE_URL: SANDBOX_BASE_URL });
    assert.equal(dev.sandboxMode, true);
  });

  it('a tenant whose profile says aes-gcm needs its data password, naming it', () => {
    const profile = join(mkdtempSync(join(tmpdir(), 'profile-')), 'tenant.json');
    writeFileSync(profile, JSON.stringify({ encoding: 'aes-gcm' }));
    assert.match(configError({ ...TENANT, INVOICE_CLOUD_PROFILE: profile }), /set INVOICE_CLOUD_DATA_PASSWORD$/);
    const config = invoiceCloudConfigFromEnv({
      ...TENANT,
      INVOICE_CLOUD_PROFILE: profile,
      INVOICE_CLOUD_DATA_PASSWORD: 'dp',
    });
    assert.deepEqual(config.encoding, { kind: 'aes-gcm', password: 'dp' });
  });
});

describe('the codec server without a token', () => {
  it('refuses to start, naming CODEC_AUTH_TOKEN, when it is missing, blank or short', () => {
    for (const token of [undefined, '', '   ', 'short-token']) {
      assert.throws(
        () => codecServerSettingsFromEnv({ CODEC_AUTH_TOKEN: token }),
        /^CodecServerConfigError: CODEC_AUTH_TOKEN (is not set|is shorter than 16 characters)/,
        String(token),
      );
    }
    const settings = codecServerSettingsFromEnv({ CODEC_AUTH_TOKEN: 'a'.repeat(32) });
    assert.equal(settings.host, '127.0.0.1', 'loopback unless told otherwise');
    assert.equal(settings.port, 8888);
  });

  it('lets a browser in with the cookie its /login sets, only from an allowed origin', async () => {
    const token = randomBytes(24).toString('hex');
    const key = randomBytes(32);
    const app = buildCodecServer({
      codec: new AesGcmPayloadCodec(new Map([['k', key]]), 'k'),
      allowedOrigins: ['http://localhost:8080'],
      authToken: token,
    });
    try {
      const body = { payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: '' }] };
      const wrong = await app.inject({ method: 'POST', url: '/login', payload: `token=${token}x`, headers: form });
      assert.equal(wrong.statusCode, 401);
      assert.equal(wrong.headers['set-cookie'], undefined);
      const login = await app.inject({ method: 'POST', url: '/login', payload: `token=${token}`, headers: form });
      assert.equal(login.statusCode, 200, login.body);
      const cookie = String(login.headers['set-cookie']);
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Strict/);
      assert.ok(!cookie.includes(token), 'the cookie is derived from the token, not the token');
      const session = cookie.split(';')[0]!;
      const fromUi = await app.inject({
        method: 'POST',
        url: '/decode',
        payload: body,
        headers: { cookie: session, origin: 'http://localhost:8080' },
      });
      assert.equal(fromUi.statusCode, 200, fromUi.body);
      const fromElsewhere = await app.inject({
        method: 'POST',
        url: '/decode',
        payload: body,
        headers: { cookie: session, origin: 'https://evil.example' },
      });
      assert.equal(fromElsewhere.statusCode, 401);
      const forged = await app.inject({
        method: 'POST',
        url: '/decode',
        payload: body,
        headers: { cookie: 'codec_session=x' },
      });
      assert.equal(forged.statusCode, 401);
    } finally {
      await app.close();
    }
  });
});
const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('failure messages with payload encryption', () => {
  it('the data converter encodes failure messages and stack traces when keys are set, and only then', () => {
    const converter = dataConverterFromEnv({ TEMPORAL_PAYLOAD_KEYS: `k1=${randomBytes(32).toString('base64')}` });
    assert.equal(converter.failureConverterPath, ENCODED_FAILURES_CONVERTER_PATH);
    const loaded = loadDataConverter(converter);
    assert.ok(loaded.failureConverter instanceof DefaultFailureConverter);
    assert.equal(loaded.failureConverter.options.encodeCommonAttributes, true);
    const failure = loaded.failureConverter.errorToFailure(
      ApplicationFailure.nonRetryable('确认密码错误 for 91440300591872133B', 'BureauRefused'),
      defaultPayloadConverter,
    );
    assert.equal(failure.message, 'Encoded failure');
    assert.equal(failure.stackTrace, '');
    assert.ok(failure.encodedAttributes, 'the message travels as a payload, which the codec encrypts');
    assert.equal(dataConverterFromEnv({}).failureConverterPath, undefined, 'no keys: failures as before');
  });

  it('a prebuilt bundle has its encoded-failures sibling for workers with keys', () => {
    assert.equal(
      encodedFailuresBundlePath('/app/.build/workflow-bundle.js'),
      '/app/.build/workflow-bundle.encoded-failures.js',
    );
    assert.equal(encodedFailuresBundlePath('b.encoded-failures.js'), 'b.encoded-failures.js');
  });
});
