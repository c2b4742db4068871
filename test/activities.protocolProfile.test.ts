import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvoiceCloudClient, type InvoiceCloudObserver } from '../activities/invoiceCloudClient.js';
import { ConfigError, invoiceCloudConfigFromEnv } from '../activities/invoiceCloudConfig.js';
import type { Drift } from '../activities/replyDrift.js';
import type { ProtocolProfileInput } from '../protocol/profile.js';

/**
 * The client under a tenant's protocol profile, against a tiny local cloud that records what it
 * was sent: paths under the prefix, renamed interface codes, requestIds in either style, drift
 * reported once and captured redacted.
 */
const TAX_NO = '91440300591872133B';
const b64json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64');

describe('the invoice-cloud client under a protocol profile', () => {
  let server: Server;
  let url: string;
  let reply: unknown = { taxPeriod: '202611' };
  const seen: { path: string; body: Record<string, unknown> }[] = [];

  before(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      req.on('end', () => {
        const path = (req.url ?? '').split('?')[0]!;
        seen.push({ path, body: JSON.parse(raw || '{}') as Record<string, unknown> });
        res.setHeader('content-type', 'application/json');
        if (path.endsWith('.do')) {
          const key = path.endsWith('getAppToken.do') ? 'app_token' : 'access_token';
          res.end(
            JSON.stringify({
              data: { [key]: 'tok', success: true, error_desc: '', error_code: '0' },
              state: 'success',
            }),
          );
          return;
        }
        res.end(JSON.stringify({ success: 'true', errorCode: 0, message: 'ok', data: b64json(reply) }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((r) => server.close(r)));
  beforeEach(() => {
    seen.length = 0;
    reply = { taxPeriod: '202611' };
  });

  function clientWith(
    profile: ProtocolProfileInput,
    env: Record<string, string> = {},
    observer?: InvoiceCloudObserver,
  ) {
    const file = join(mkdtempSync(join(tmpdir(), 'profile-')), 'tenant.json');
    writeFileSync(file, JSON.stringify(profile));
    const config = invoiceCloudConfigFromEnv({ INVOICE_CLOUD_BASE_URL: url, INVOICE_CLOUD_PROFILE: file, ...env });
    return new InvoiceCloudClient(config, undefined, undefined, observer);
  }

  it('puts every path under the prefix and sends each step under its wire code', async () => {
    const client = clientWith({ pathPrefix: '/ierp', interfaceCodes: { taxperiodQuery: 'ssqQuery' } });
    assert.equal((await client.call('taxperiodQuery', { taxNo: TAX_NO })).taxPeriod, '202611');
    assert.deepEqual(
      seen.map((s) => s.path),
      ['/ierp/api/getAppToken.do', '/ierp/api/login.do', '/ierp/kapi/app/rim/deduction'],
    );
    assert.equal(seen[2]!.body.interfaceCode, 'ssqQuery');
  });

  it('makes requestIds in the documented style: stable digits repeat, timestamps do not', async () => {
    const stable = clientWith({});
    await stable.call('taxperiodQuery', { taxNo: TAX_NO }, 'the same write');
    await stable.call('taxperiodQuery', { taxNo: TAX_NO }, 'the same write');
    const [a, b] = seen.filter((s) => s.path.endsWith('deduction')).map((s) => String(s.body.requestId));
    assert.match(a!, /^\d{16}$/);
    assert.equal(a, b, 'a resend of one write repeats its requestId');

    seen.length = 0;
    const before = Date.now();
    const timestamped = clientWith({ requestIdStyle: 'timestamp' });
    await timestamped.call('taxperiodQuery', { taxNo: TAX_NO }, 'the same write');
    const id = String(seen.find((s) => s.path.endsWith('deduction'))!.body.requestId);
    assert.match(id, /^\d{16}$/);
    const ms = Number(id.slice(0, 13));
    assert.ok(ms >= before && ms <= Date.now(), `13-digit milliseconds first: ${id}`);
  });

  it('reports drift once per interface and field, with a redacted capture', async () => {
    const drifts: [Drift, string][] = [];
    const client = clientWith({}, {}, { onDrift: (d, file) => drifts.push([d, file]) });
    reply = { taxPeriod: '202611', newField: 1, skssq: '202611;20261215;202612' };
    await client.call('taxperiodQuery', { taxNo: TAX_NO });
    await client.call('taxperiodQuery', { taxNo: TAX_NO });
    const unexpected = drifts.filter(([d]) => d.kind === 'unexpected-field');
    assert.deepEqual(
      unexpected.map(([d]) => d.field),
      ['newField'],
      'reported once',
    );
    const capture = JSON.parse(readFileSync(unexpected[0]![1], 'utf8')) as Record<string, unknown>;
    assert.equal(capture.interface, 'taxperiodQuery');
    assert.deepEqual((capture.reply as { data: unknown }).data, reply);
  });

  it('captures every call, with secrets redacted, when a capture folder is set', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'captures-'));
    const client = clientWith({}, { INVOICE_CLOUD_CAPTURE_DIR: dir, INVOICE_CLOUD_CONFIRM_PASSWORD: 'pw-7654321' });
    reply = { asyncFlag: '1', taskNo: 'd1902f3072db4441a3d7d990709f8cfb' };
    await client.call('statisticConfirm', { taxNo: TAX_NO, password: 'pw-7654321', asyncFlag: '1' });
    const files = readdirSync(dir);
    assert.equal(files.length, 1);
    const text = readFileSync(join(dir, files[0]!), 'utf8');
    assert.ok(!text.includes('pw-7654321'), 'the confirmation password never reaches a capture');
    assert.match(text, /"password": "\*\*\*"/);
  });

  it('refuses a profile that says the tenant encrypts when no data password is set, naming the variable', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'profile-')), 'tenant.json');
    writeFileSync(file, JSON.stringify({ encoding: 'aes-gcm' }));
    assert.throws(
      () => invoiceCloudConfigFromEnv({ INVOICE_CLOUD_PROFILE: file }),
      (e: Error) => e instanceof ConfigError && /INVOICE_CLOUD_DATA_PASSWORD/.test(e.message),
    );
    assert.throws(
      () => invoiceCloudConfigFromEnv({ INVOICE_CLOUD_PROFILE: join(tmpdir(), 'no-such-profile.json') }),
      (e: Error) => e instanceof ConfigError && /INVOICE_CLOUD_PROFILE=.*cannot read the file/.test(e.message),
    );
  });
});
