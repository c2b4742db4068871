import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import axios from 'axios';
import { afterEach, beforeEach, describe, it } from 'mocha';
import { classified, toActivityFailure } from '../activities/failures.js';
import { InvoiceCloudClient } from '../activities/invoiceCloudClient.js';
import {
  ConfigError,
  confirmPasswordFor,
  invoiceCloudConfigFromEnv,
  type InvoiceCloudConfig,
} from '../activities/invoiceCloudConfig.js';
import { InvoiceCloudError } from '../activities/invoiceCloudErrors.js';

/**
 * Error classification of the invoice-cloud client, against a tiny local HTTP server that answers
 * canned replies (the wire format of protocol/envelope.ts: JSON envelopes whose `data` is base64 of
 * JSON, or of IV + AES-128-GCM ciphertext + tag). Every expected code, kind and failure type below
 * is written out by hand, not taken from the code under test.
 */

const TAX_NO = '91440300591872133B';
const GATEWAY = '/kapi/app/rim/deduction';
const APP_TOKEN = '/api/getAppToken.do';
const LOGIN = '/api/login.do';

/** A valid taxperiodQuery reply, as the cloud would put it in `data`. */
const PERIOD_REPLY = {
  taxNo: TAX_NO,
  taxPeriod: '202510',
  deductionDeadline: '2025-11-15',
  statisticStatus: '01',
  periodChangeSupported: false,
};

interface Seen {
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown>;
}
type Responder = (seen: Seen, res: ServerResponse) => void;

const b64json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64');

/** The tenant's AES mode, done by hand: key = first 16 bytes of SHA1(SHA1(password)). */
function aesData(value: unknown, password: string): string {
  const key = createHash('sha1').update(createHash('sha1').update(password, 'utf8').digest()).digest().subarray(0, 16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-128-gcm', key, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64');
}

function json(status: number, body: unknown): Responder {
  return (_seen, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
}
function text(status: number, body: string, type = 'text/html'): Responder {
  return (_seen, res) => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  };
}
/** A business envelope reply. */
function envelope(errorCode: string, message: string, extra: { success?: boolean; data?: string } = {}): Responder {
  return json(200, {
    success: extra.success ?? errorCode === '0000',
    status: true,
    errorCode,
    message,
    ...(extra.data !== undefined ? { data: extra.data } : {}),
  });
}
const okEnvelope = (data: string) => envelope('0000', '请求成功', { data });

const appTokenOk = (token = 'app-1') =>
  json(200, { state: 'success', data: { success: true, app_token: token, error_code: '0', error_desc: '' } });
const loginOk = (token: string, expireTime?: number) =>
  json(200, {
    state: 'success',
    data: {
      success: true,
      access_token: token,
      error_code: '0',
      error_desc: '',
      ...(expireTime !== undefined ? { expire_time: expireTime } : {}),
    },
  });

/** The cloud: one responder per path, every request recorded. */
class FakeCloud {
  readonly seen: Seen[] = [];
  appToken: Responder = appTokenOk();
  login: Responder = loginOk('tok-1');
  gateway: Responder = okEnvelope(b64json(PERIOD_REPLY));
  url = '';
  private server?: Server;

  async start(): Promise<this> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const raw = Buffer.concat(chunks).toString('utf8');
        const seen: Seen = { path: url.pathname, query: url.searchParams, body: raw ? JSON.parse(raw) : {} };
        this.seen.push(seen);
        const responder =
          seen.path === APP_TOKEN
            ? this.appToken
            : seen.path === LOGIN
              ? this.login
              : seen.path === GATEWAY
                ? this.gateway
                : json(404, { error: 'no such path' });
        responder(seen, res);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  paths(): string[] {
    return this.seen.map((s) => s.path);
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

function configFor(url: string, env: Record<string, string> = {}): InvoiceCloudConfig {
  return invoiceCloudConfigFromEnv({ INVOICE_CLOUD_BASE_URL: url, INVOICE_CLOUD_TIMEOUT_MS: '400', ...env });
}

/** Runs the call and returns the InvoiceCloudError it must fail with. */
async function failureOf(promise: Promise<unknown>): Promise<InvoiceCloudError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof InvoiceCloudError, `expected an InvoiceCloudError, got ${String(error)}`);
    assert.equal(error.name, 'InvoiceCloudError');
    return error;
  }
  assert.fail('the call succeeded but was expected to fail');
}

interface Expected {
  kind: 'pending' | 'retryable' | 'business' | 'protocol' | 'auth';
  code: string;
  /** Whole message of the InvoiceCloudError (string) or a pattern it must match. */
  message: string | RegExp;
  /** The Temporal failure type the activity turns it into. */
  failureType: string;
  interfaceCode?: string;
}

/** Checks the client error and the activity failure it becomes. */
function assertClassified(error: InvoiceCloudError, e: Expected): void {
  const interfaceCode = e.interfaceCode ?? 'taxperiodQuery';
  assert.equal(error.kind, e.kind, `kind of ${error.message}`);
  assert.equal(error.code, e.code, `code of ${error.message}`);
  assert.equal(error.interfaceCode, interfaceCode);
  assert.equal(error.retryable, e.kind === 'retryable' || e.kind === 'pending');
  assert.ok(
    error.message.startsWith(`${interfaceCode}: [${e.code}] `),
    `message names the interface: ${error.message}`,
  );
  if (typeof e.message === 'string') assert.equal(error.message, e.message);
  else assert.match(error.message, e.message);

  const failure = toActivityFailure(error, 'querying the period');
  assert.ok(failure instanceof ApplicationFailure, 'an ApplicationFailure');
  assert.equal(failure.type, e.failureType);
  assert.equal(
    failure.nonRetryable,
    e.kind !== 'retryable' && e.kind !== 'pending',
    'non-retryable unless it may succeed later',
  );
  assert.equal(failure.message, `querying the period: ${error.message}`);
  assert.deepEqual(failure.details, [{ interfaceCode, code: e.code, message: error.bureauMessage }]);
}

describe('invoice-cloud client: error classification', () => {
  let cloud: FakeCloud;
  beforeEach(async () => {
    cloud = await new FakeCloud().start();
  });
  afterEach(() => cloud.close());

  const client = (env: Record<string, string> = {}, now?: () => number) =>
    new InvoiceCloudClient(configFor(cloud.url, env), undefined, now);
  const periodQuery = (c: InvoiceCloudClient) => c.call('taxperiodQuery', { taxNo: TAX_NO });

  it('decodes a well-formed reply (the canned wire format is the real one)', async () => {
    assert.deepEqual(await periodQuery(client()), PERIOD_REPLY);
    assert.deepEqual(cloud.paths(), [APP_TOKEN, LOGIN, GATEWAY]);
    const sent = cloud.seen[2]!;
    assert.equal(sent.query.get('access_token'), 'tok-1');
    assert.equal(sent.body.interfaceCode, 'taxperiodQuery');
    assert.deepEqual(JSON.parse(Buffer.from(String(sent.body.data), 'base64').toString('utf8')), { taxNo: TAX_NO });
  });

  describe('gateway errorCode of the envelope', () => {
    const cases: { errorCode: string; bureauMessage: string; kind: Expected['kind']; failureType: string }[] = [
      // Still processing: retried by the poll policy, under its own failure type.
      {
        errorCode: '6910',
        bureauMessage: '异步任务处理中，请稍后再查询。',
        kind: 'pending',
        failureType: 'BureauTaskPending',
      },
      {
        errorCode: '4290',
        bureauMessage: '请求过于频繁 quota',
        kind: 'retryable',
        failureType: 'InvoiceCloudUnavailable',
      },
      { errorCode: '9999', bureauMessage: '系统繁忙', kind: 'retryable', failureType: 'InvoiceCloudUnavailable' },
      {
        errorCode: '3002',
        bureauMessage: '未到统计确认时间',
        kind: 'retryable',
        failureType: 'InvoiceCloudUnavailable',
      },
      // Codes the profile does not know are refusals: not retried, the code and message verbatim.
      { errorCode: '1001', bureauMessage: 'taxNo 格式错误', kind: 'business', failureType: 'BureauRefused' },
      { errorCode: '1003', bureauMessage: '接口不存在', kind: 'business', failureType: 'BureauRefused' },
      { errorCode: '3001', bureauMessage: '当前所属期已生成统计表', kind: 'business', failureType: 'BureauRefused' },
      { errorCode: '2001', bureauMessage: '任务不存在', kind: 'business', failureType: 'BureauRefused' },
      { errorCode: '2002', bureauMessage: '未查询到相关任务', kind: 'business', failureType: 'BureauRefused' },
      { errorCode: '0201', bureauMessage: '不支持变更属期。', kind: 'business', failureType: 'BureauRefused' },
      { errorCode: '8123', bureauMessage: '未知错误码 unknown code', kind: 'business', failureType: 'BureauRefused' },
    ];
    for (const c of cases) {
      it(`${c.errorCode} is ${c.kind} (${c.failureType})`, async () => {
        cloud.gateway = envelope(c.errorCode, c.bureauMessage);
        const error = await failureOf(periodQuery(client()));
        assertClassified(error, {
          kind: c.kind,
          code: c.errorCode,
          message: `taxperiodQuery: [${c.errorCode}] ${c.bureauMessage}`,
          failureType: c.failureType,
        });
        assert.equal(error.bureauMessage, c.bureauMessage);
        assert.deepEqual(cloud.paths(), [APP_TOKEN, LOGIN, GATEWAY], 'sent once, not retried by the client');
      });
    }

    it('errorCode 0000 with success false is retryable, carrying the code and message', async () => {
      cloud.gateway = envelope('0000', '处理失败', { success: false });
      assertClassified(await failureOf(periodQuery(client())), {
        kind: 'retryable',
        code: '0000',
        message: 'taxperiodQuery: [0000] 处理失败',
        failureType: 'InvoiceCloudUnavailable',
      });
    });

    it('a permanent condition (no soft-certificate mode) is a refusal naming it, even under 6910', async () => {
      for (const [code, message] of [
        ['1130', `税号:${TAX_NO},没有开启软证书模式`],
        ['6910', `异步任务处理中，请稍后再查询。[税号:${TAX_NO},没有开启软证书模式]`],
      ] as const) {
        cloud.gateway = envelope(code, message);
        const error = await failureOf(periodQuery(client()));
        assertClassified(error, {
          kind: 'business',
          code,
          message: `taxperiodQuery: [${code}] soft-certificate mode (软证书模式) is not enabled for this taxpayer in the invoice cloud: ${message}`,
          failureType: 'BureauRefused',
        });
      }
    });
  });

  describe('token expired (1002)', () => {
    it('renews the token once and sends the same envelope again', async () => {
      const tokens = ['tok-1', 'tok-2'];
      cloud.login = (seen, res) => loginOk(tokens.shift()!)(seen, res);
      cloud.gateway = (seen, res) =>
        seen.query.get('access_token') === 'tok-1'
          ? envelope('1002', 'access_token 已过期')(seen, res)
          : okEnvelope(b64json(PERIOD_REPLY))(seen, res);
      const reply = await client().call('taxperiodQuery', { taxNo: TAX_NO }, 'one-operation');
      assert.deepEqual(reply, PERIOD_REPLY);
      assert.deepEqual(cloud.paths(), [APP_TOKEN, LOGIN, GATEWAY, APP_TOKEN, LOGIN, GATEWAY]);
      const [first, second] = cloud.seen.filter((s) => s.path === GATEWAY);
      assert.equal(first!.query.get('access_token'), 'tok-1');
      assert.equal(second!.query.get('access_token'), 'tok-2');
      assert.deepEqual(second!.body, first!.body, 'the very same envelope');
      assert.match(String(second!.body.requestId), /^\d{16}$/, 'a requestId in the documented style');
    });

    it('a token refused again after renewal is a retryable 1002 (no endless renewal)', async () => {
      cloud.gateway = envelope('1002', 'access_token 无效');
      assertClassified(await failureOf(periodQuery(client())), {
        kind: 'retryable',
        code: '1002',
        message: 'taxperiodQuery: [1002] access_token 无效',
        failureType: 'InvoiceCloudUnavailable',
      });
      assert.equal(cloud.paths().filter((p) => p === GATEWAY).length, 2);
      assert.equal(cloud.paths().filter((p) => p === LOGIN).length, 2);
    });

    it('renews a cached token 60 s before the announced expiry, and 2 h after login when none is announced', async () => {
      let now = 1_000_000;
      cloud.login = loginOk('tok-1', 1_000_000 + 120_000);
      const c = client({}, () => now);
      await periodQuery(c);
      now = 1_059_999;
      await periodQuery(c);
      assert.equal(cloud.paths().filter((p) => p === LOGIN).length, 1, 'still valid a second before the margin');
      now = 1_060_000;
      cloud.login = loginOk('tok-2');
      await periodQuery(c);
      assert.equal(cloud.paths().filter((p) => p === LOGIN).length, 2, 'renewed at the margin');
      assert.equal(cloud.seen.at(-1)!.query.get('access_token'), 'tok-2');
      // No expire_time: valid for 2 h from 1_060_000, renewed 60 s before 8_260_000.
      now = 8_199_999;
      await periodQuery(c);
      assert.equal(cloud.paths().filter((p) => p === LOGIN).length, 2);
      now = 8_200_000;
      await periodQuery(c);
      assert.equal(cloud.paths().filter((p) => p === LOGIN).length, 3);
    });

    it('concurrent calls share one renewal', async () => {
      const c = client();
      const replies = await Promise.all([periodQuery(c), periodQuery(c), periodQuery(c)]);
      assert.equal(replies.length, 3);
      assert.deepEqual(
        cloud.paths().filter((p) => p !== GATEWAY),
        [APP_TOKEN, LOGIN],
      );
    });
  });

  describe('HTTP status', () => {
    const cases: { status: number; kind: Expected['kind']; failureType: string }[] = [
      { status: 500, kind: 'retryable', failureType: 'InvoiceCloudUnavailable' },
      { status: 502, kind: 'retryable', failureType: 'InvoiceCloudUnavailable' },
      { status: 503, kind: 'retryable', failureType: 'InvoiceCloudUnavailable' },
      { status: 504, kind: 'retryable', failureType: 'InvoiceCloudUnavailable' },
      { status: 429, kind: 'retryable', failureType: 'InvoiceCloudUnavailable' },
      { status: 400, kind: 'protocol', failureType: 'InvoiceCloudProtocolError' },
      { status: 401, kind: 'protocol', failureType: 'InvoiceCloudProtocolError' },
      { status: 403, kind: 'protocol', failureType: 'InvoiceCloudProtocolError' },
      { status: 404, kind: 'protocol', failureType: 'InvoiceCloudProtocolError' },
      { status: 499, kind: 'protocol', failureType: 'InvoiceCloudProtocolError' },
    ];
    for (const c of cases) {
      it(`${c.status} from the gateway is ${c.kind}`, async () => {
        // A well-formed envelope in the body must not hide the status.
        cloud.gateway = (seen, res) =>
          json(c.status, { success: true, status: true, errorCode: '0000', message: '' })(seen, res);
        assertClassified(await failureOf(periodQuery(client())), {
          kind: c.kind,
          code: `HTTP_${c.status}`,
          message: `taxperiodQuery: [HTTP_${c.status}] HTTP ${c.status}`,
          failureType: c.failureType,
        });
      });
    }

    it('a 5xx while getting the app token is retryable and names getAppToken', async () => {
      cloud.appToken = text(503, 'Service Unavailable');
      assertClassified(await failureOf(periodQuery(client())), {
        kind: 'retryable',
        code: 'HTTP_503',
        interfaceCode: 'getAppToken',
        message: 'getAppToken: [HTTP_503] HTTP 503',
        failureType: 'InvoiceCloudUnavailable',
      });
      assert.deepEqual(cloud.paths(), [APP_TOKEN]);
    });

    it('a 429 while logging in is retryable and names login', async () => {
      cloud.login = json(429, { error: 'too many requests' });
      assertClassified(await failureOf(periodQuery(client())), {
        kind: 'retryable',
        code: 'HTTP_429',
        interfaceCode: 'login',
        message: 'login: [HTTP_429] HTTP 429',
        failureType: 'InvoiceCloudUnavailable',
      });
    });
  });

  describe('network', () => {
    it('a connection reset is a retryable NETWORK failure', async () => {
      cloud.gateway = (_seen, res) => res.socket?.destroy();
      assertClassified(await failureOf(periodQuery(client())), {
        kind: 'retryable',
        code: 'NETWORK',
        message: /^taxperiodQuery: \[NETWORK\] no reply from the invoice cloud: (ECONNRESET|socket hang up)$/,
        failureType: 'InvoiceCloudUnavailable',
      });
    });

    it('a reply that never comes is a retryable NETWORK failure after the configured timeout', async () => {
      cloud.gateway = () => undefined; // never answers
      const started = Date.now();
      assertClassified(await failureOf(periodQuery(client({ INVOICE_CLOUD_TIMEOUT_MS: '300' }))), {
        kind: 'retryable',
        code: 'NETWORK',
        message: /^taxperiodQuery: \[NETWORK\] no reply from the invoice cloud: (ECONNABORTED|ETIMEDOUT)$/,
        failureType: 'InvoiceCloudUnavailable',
      });
      const waited = Date.now() - started;
      assert.ok(waited >= 250 && waited < 5000, `gave up after the timeout (${waited} ms)`);
    });

    it('a refused connection is a retryable NETWORK failure naming the first call', async () => {
      const url = cloud.url;
      await cloud.close();
      assertClassified(await failureOf(periodQuery(new InvoiceCloudClient(configFor(url)))), {
        kind: 'retryable',
        code: 'NETWORK',
        interfaceCode: 'getAppToken',
        message: 'getAppToken: [NETWORK] no reply from the invoice cloud: ECONNREFUSED',
        failureType: 'InvoiceCloudUnavailable',
      });
    });

    it('a non-axios failure of the transport is a retryable NETWORK failure with its text', async () => {
      const http = axios.create({
        baseURL: cloud.url,
        adapter: async () => {
          throw new TypeError('transport exploded');
        },
      });
      const error = await failureOf(
        new InvoiceCloudClient(configFor(cloud.url), http).call('taxLogin', { taxNo: TAX_NO }),
      );
      assertClassified(error, {
        kind: 'retryable',
        code: 'NETWORK',
        interfaceCode: 'getAppToken',
        message: 'getAppToken: [NETWORK] no reply from the invoice cloud: TypeError: transport exploded',
        failureType: 'InvoiceCloudUnavailable',
      });
    });
  });

  describe('malformed replies are non-retryable protocol errors', () => {
    const protocol = (code: string, message: string | RegExp, interfaceCode?: string): Expected => ({
      kind: 'protocol',
      code,
      message,
      failureType: 'InvoiceCloudProtocolError',
      ...(interfaceCode ? { interfaceCode } : {}),
    });

    it('a body that is not JSON (an HTML error page with status 200)', async () => {
      cloud.gateway = text(200, '<html><body>gateway maintenance</body></html>');
      assertClassified(
        await failureOf(periodQuery(client())),
        protocol('BAD_ENVELOPE', /^taxperiodQuery: \[BAD_ENVELOPE\] reply envelope: \(root\): .*expected object/),
      );
    });

    it('an envelope without errorCode', async () => {
      cloud.gateway = json(200, { success: true, status: true, message: 'ok', data: b64json(PERIOD_REPLY) });
      assertClassified(
        await failureOf(periodQuery(client())),
        protocol('BAD_ENVELOPE', /^taxperiodQuery: \[BAD_ENVELOPE\] reply envelope: errorCode: /),
      );
    });

    it('a successful envelope without data', async () => {
      cloud.gateway = envelope('0000', '请求成功');
      assertClassified(
        await failureOf(periodQuery(client())),
        protocol('NO_DATA', /^taxperiodQuery: \[NO_DATA\] successful reply carries no data \(capture .+\.json\)$/),
      );
    });

    it('data that is not base64', async () => {
      cloud.gateway = okEnvelope('{"taxNo": "not encoded"}');
      assertClassified(
        await failureOf(periodQuery(client())),
        protocol('BAD_DATA', 'taxperiodQuery: [BAD_DATA] data is not base64'),
      );
    });

    it('base64 data that is not JSON', async () => {
      cloud.gateway = okEnvelope(Buffer.from('税号 not json', 'utf8').toString('base64'));
      assertClassified(
        await failureOf(periodQuery(client())),
        protocol('BAD_DATA', 'taxperiodQuery: [BAD_DATA] data does not decode to JSON'),
      );
    });

    it('JSON data that does not match the interface, naming the field', async () => {
      cloud.gateway = okEnvelope(b64json({ ...PERIOD_REPLY, taxPeriod: '2025-10' }));
      assertClassified(
        await failureOf(periodQuery(client())),
        protocol('BAD_REPLY', /^taxperiodQuery: \[BAD_REPLY\] reply data: taxPeriod: tax period must be YYYYMM/),
      );
    });

    it('AES data: decodes with the right password, fails authentication with another, and too short', async () => {
      const aes = { INVOICE_CLOUD_DATA_PASSWORD: 'tenant-pw-数据' };
      cloud.gateway = okEnvelope(aesData(PERIOD_REPLY, 'tenant-pw-数据'));
      assert.deepEqual(await periodQuery(client(aes)), PERIOD_REPLY);

      cloud.gateway = okEnvelope(aesData(PERIOD_REPLY, 'another-password'));
      assertClassified(
        await failureOf(periodQuery(client(aes))),
        protocol(
          'BAD_DATA',
          'taxperiodQuery: [BAD_DATA] encrypted data failed authentication (wrong password or corrupted data)',
        ),
      );

      cloud.gateway = okEnvelope(Buffer.alloc(20).toString('base64'));
      assertClassified(
        await failureOf(periodQuery(client(aes))),
        protocol('BAD_DATA', 'taxperiodQuery: [BAD_DATA] encrypted data is too short'),
      );
    });

    it('an app-token reply of the wrong shape names getAppToken', async () => {
      cloud.appToken = json(200, { data: { success: true, app_token: 'a' } });
      assertClassified(
        await failureOf(periodQuery(client())),
        protocol('BAD_REPLY', /^getAppToken: \[BAD_REPLY\] .*(state|error_code)/, 'getAppToken'),
      );
      assert.deepEqual(cloud.paths(), [APP_TOKEN]);
    });

    it('a login reply of the wrong shape names login', async () => {
      cloud.login = json(200, { state: 'success', data: 'tok-1' });
      assertClassified(
        await failureOf(periodQuery(client())),
        protocol('BAD_REPLY', /^login: \[BAD_REPLY\] data: /, 'login'),
      );
      assert.deepEqual(cloud.paths(), [APP_TOKEN, LOGIN]);
    });

    it('our own invalid request is refused before any round trip', async () => {
      const error = await failureOf(client().call('taxperiodQuery', { taxNo: '91440300591872133X' }));
      assertClassified(
        error,
        protocol('INVALID_REQUEST', /^taxperiodQuery: \[INVALID_REQUEST\] taxNo: invalid taxNo "91440300591872133X"/),
      );
      assert.deepEqual(cloud.seen, [], 'nothing was sent');
    });
  });

  describe('refused credentials are non-retryable auth failures', () => {
    const auth = (interfaceCode: string, code: string, desc: string): Expected => ({
      kind: 'auth',
      code,
      interfaceCode,
      message: `${interfaceCode}: [${code}] ${desc}`,
      failureType: 'InvoiceCloudAuthFailed',
    });

    it('wrong app credentials (getAppToken success false)', async () => {
      cloud.appToken = json(200, {
        state: 'fail',
        data: { success: false, error_code: '1005', error_desc: 'appId 或 appSecret 错误' },
      });
      assertClassified(await failureOf(periodQuery(client())), auth('getAppToken', '1005', 'appId 或 appSecret 错误'));
      assert.deepEqual(cloud.paths(), [APP_TOKEN], 'no login, no business call');
    });

    it('a successful app-token reply without a token', async () => {
      cloud.appToken = json(200, {
        state: 'success',
        data: { success: true, error_code: '0', error_desc: '无 token' },
      });
      assertClassified(await failureOf(periodQuery(client())), auth('getAppToken', '0', '无 token'));
    });

    it('wrong user (login success false)', async () => {
      cloud.login = json(200, {
        state: 'fail',
        data: { success: false, error_code: '1006', error_desc: '用户不存在' },
      });
      assertClassified(await failureOf(periodQuery(client())), auth('login', '1006', '用户不存在'));
      assert.deepEqual(cloud.paths(), [APP_TOKEN, LOGIN]);
    });
  });
});

describe('activity failures (failures.ts)', () => {
  it('a configuration error becomes a non-retryable WorkerConfigError with its message', () => {
    const config = invoiceCloudConfigFromEnv({});
    let thrown: unknown;
    try {
      confirmPasswordFor({ ...config, defaultConfirmPassword: undefined }, TAX_NO);
    } catch (error) {
      thrown = error;
    }
    assert.ok(thrown instanceof ConfigError);
    const failure = toActivityFailure(thrown, 'confirming');
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.type, 'WorkerConfigError');
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /^No bureau confirmation password for taxNo 91440300591872133B/);
  });

  it('any other error passes through unchanged (the same object)', () => {
    const plain = new RangeError('not ours');
    assert.equal(toActivityFailure(plain, 'x'), plain);
    const already = ApplicationFailure.nonRetryable('already classified', 'Whatever');
    assert.equal(toActivityFailure(already, 'x'), already);
  });

  it('classified() returns the value, or throws the classified failure', async () => {
    assert.equal(await classified('ok', async () => 42), 42);
    await assert.rejects(
      classified('selecting', async () => {
        throw new InvoiceCloudError('business', 'invoiceSelect', '3001', '发票已勾选');
      }),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure);
        assert.equal(error.type, 'BureauRefused');
        assert.equal(error.nonRetryable, true);
        assert.equal(error.message, 'selecting: invoiceSelect: [3001] 发票已勾选');
        assert.deepEqual(error.details, [{ interfaceCode: 'invoiceSelect', code: '3001', message: '发票已勾选' }]);
        return true;
      },
    );
    const unknown = new Error('boom');
    await assert.rejects(
      classified('x', async () => {
        throw unknown;
      }),
      (error: unknown) => error === unknown,
    );
  });
});
