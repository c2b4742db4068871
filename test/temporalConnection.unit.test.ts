import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TemporalConfigError, temporalSettingsFromEnv } from '../runtime/temporalConnection.js';

/** Connection settings through Temporal's environment configuration (profiles, standard names, aliases). */
describe('Temporal connection settings (envconfig)', () => {
  let dir: string;
  let file: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'envconfig-'));
    for (const name of ['ca.pem', 'client.pem', 'client.key']) writeFileSync(join(dir, name), `PEM of ${name}`);
    file = join(dir, 'temporal.toml');
    writeFileSync(
      file,
      [
        '[profile.default]',
        'address = "temporal.internal:7233"',
        'namespace = "vat"',
        '',
        '[profile.cloud]',
        'address = "vat.acct.tmprl.cloud:7233"',
        'namespace = "vat.acct"',
        'api_key = "key-from-profile"',
        '[profile.cloud.grpc_meta]',
        'x-team = "tax"',
        '',
        '[profile.mtls]',
        'address = "temporal.corp:7233"',
        '[profile.mtls.tls]',
        `client_cert_path = "${join(dir, 'client.pem')}"`,
        `client_key_path = "${join(dir, 'client.key')}"`,
        `server_ca_cert_path = "${join(dir, 'ca.pem')}"`,
        'server_name = "temporal.corp"',
      ].join('\n'),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const message = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof TemporalConfigError, String(err));
      return err.message;
    }
    assert.fail('expected a TemporalConfigError');
  };

  it('defaults to the local dev server without TLS', () => {
    const s = temporalSettingsFromEnv({});
    assert.deepEqual(s, { address: '127.0.0.1:7233', namespace: 'default', connectTimeoutMs: 5000 });
  });

  it('reads the default profile of TEMPORAL_CONFIG_FILE, and TEMPORAL_PROFILE picks another', () => {
    const d = temporalSettingsFromEnv({ TEMPORAL_CONFIG_FILE: file });
    assert.equal(d.address, 'temporal.internal:7233');
    assert.equal(d.namespace, 'vat');
    const c = temporalSettingsFromEnv({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' });
    assert.equal(c.address, 'vat.acct.tmprl.cloud:7233');
    assert.equal(c.apiKey, 'key-from-profile');
    assert.deepEqual(c.tls, {}, 'an API key implies TLS');
    assert.deepEqual(c.metadata, { 'x-team': 'tax' });
  });

  it('a profile with mTLS loads its files; variables override the profile', () => {
    const m = temporalSettingsFromEnv({
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'mtls',
      TEMPORAL_NAMESPACE: 'from-env',
    });
    assert.equal(m.namespace, 'from-env');
    assert.equal(m.tls?.serverNameOverride, 'temporal.corp');
    assert.equal(String(m.tls?.serverRootCACertificate), 'PEM of ca.pem');
    assert.equal(String(m.tls?.clientCertPair?.crt), 'PEM of client.pem');
    assert.equal(String(m.tls?.clientCertPair?.key), 'PEM of client.key');
  });

  it('the standard TLS variables and the earlier aliases give the same settings', () => {
    const standard = temporalSettingsFromEnv({
      TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'client.pem'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: join(dir, 'client.key'),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'ca.pem'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
    });
    const aliases = temporalSettingsFromEnv({
      TEMPORAL_TLS_CERT: join(dir, 'client.pem'),
      TEMPORAL_TLS_KEY: join(dir, 'client.key'),
      TEMPORAL_TLS_CA: join(dir, 'ca.pem'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
    });
    assert.deepEqual(aliases, standard);
    assert.equal(String(standard.tls?.clientCertPair?.crt), 'PEM of client.pem');
  });

  it('blank variables count as unset (compose passes unset ones as empty)', () => {
    const s = temporalSettingsFromEnv({
      TEMPORAL_ADDRESS: '',
      TEMPORAL_TLS_CERT: '',
      TEMPORAL_TLS_KEY: ' ',
      TEMPORAL_TLS_CA: '',
      TEMPORAL_API_KEY: '',
    });
    assert.deepEqual(s, { address: '127.0.0.1:7233', namespace: 'default', connectTimeoutMs: 5000 });
  });

  it('TEMPORAL_TLS=false turns TLS off, TEMPORAL_TLS=true on', () => {
    assert.equal(temporalSettingsFromEnv({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' }).tls, undefined);
    assert.deepEqual(temporalSettingsFromEnv({ TEMPORAL_TLS: 'true' }).tls, {});
  });

  it('bad values are refused naming the variable', () => {
    assert.match(
      message(() => temporalSettingsFromEnv({ TEMPORAL_TLS: 'yes please' })),
      /^TEMPORAL_TLS=yes please/,
    );
    assert.match(
      message(() => temporalSettingsFromEnv({ TEMPORAL_ADDRESS: 'temporal' })),
      /^TEMPORAL_ADDRESS=temporal: must be host:port/,
    );
    assert.match(
      message(() => temporalSettingsFromEnv({ TEMPORAL_CONNECT_TIMEOUT_MS: 'soon' })),
      /^TEMPORAL_CONNECT_TIMEOUT_MS=soon/,
    );
    assert.match(
      message(() => temporalSettingsFromEnv({ TEMPORAL_CONFIG_FILE: join(dir, 'missing.toml') })),
      /^TEMPORAL_CONFIG_FILE=.*missing\.toml: the file does not exist/,
    );
    assert.match(
      message(() => temporalSettingsFromEnv({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' })),
      /^TEMPORAL_PROFILE=staging: no such profile/,
    );
    assert.match(
      message(() => temporalSettingsFromEnv({ TEMPORAL_TLS_CA: join(dir, 'nope.pem') })),
      /^TEMPORAL_TLS_CA=.*nope\.pem: cannot read/,
    );
    assert.match(
      message(() => temporalSettingsFromEnv({ TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'client.pem') })),
      /TEMPORAL_TLS_CLIENT_CERT_PATH and .*TEMPORAL_TLS_CLIENT_KEY_PATH.* must be set together/,
    );
    assert.match(
      message(() =>
        temporalSettingsFromEnv({
          TEMPORAL_TLS_CA: join(dir, 'ca.pem'),
          TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'x.pem'),
        }),
      ),
      /^TEMPORAL_TLS_CA=.* and TEMPORAL_TLS_SERVER_CA_CERT_PATH=.* disagree/,
    );
    const broken = join(dir, 'broken.toml');
    writeFileSync(broken, '[profile.default]\naddres = "typo:7233"\n');
    assert.match(
      message(() => temporalSettingsFromEnv({ TEMPORAL_CONFIG_FILE: broken })),
      /^TEMPORAL_CONFIG_FILE=.*broken\.toml: .*addres/,
    );
  });
});
