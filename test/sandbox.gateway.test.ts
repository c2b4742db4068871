import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { encodeData } from '../protocol/codec.js';
import { AuthErrorCode } from '../protocol/envelope.js';
import {
  DEMO,
  http,
  KINGDEE,
  SELECT_FLAG,
  selectAndWait,
  selectLine,
  sleep,
  TestSandbox,
  TRADING,
} from './support/sandbox.js';

describe('sandbox: auth and gateway envelope', () => {
  let t: TestSandbox;
  before(async () => {
    t = await TestSandbox.start();
    await t.admin.seedDemo({ taxPeriod: '202510', now: '2025-11-05T10:00:00+08:00', invoicesPerTaxpayer: 5 });
    await t.login();
  });
  after(() => t.close());

  const appToken = (body: object) => http.post(`${t.url}/api/getAppToken.do`, body).then((r) => r.data);

  it('refuses a wrong accountId and wrong app credentials with the auth envelope', async () => {
    const wrongAccount = await appToken({ ...DEMO, accountId: '1' });
    assert.equal(wrongAccount.state, 'fail');
    assert.equal(wrongAccount.data.success, false);
    assert.equal(wrongAccount.data.error_code, AuthErrorCode.WrongAccountId);
    assert.match(wrongAccount.data.error_desc, /accountId/);
    for (const body of [
      { ...DEMO, appSecret: 'nope' },
      { ...DEMO, appId: 'OTHER' },
    ]) {
      const reply = await appToken(body);
      assert.deepEqual(
        [reply.state, reply.data.success, reply.data.error_code],
        ['fail', false, AuthErrorCode.WrongAppCredentials],
      );
      assert.match(reply.data.error_desc, /密钥/);
    }
    const login = await http.post(`${t.url}/api/login.do`, {
      user: DEMO.user,
      apptoken: (await appToken(DEMO)).data.app_token,
      tenantid: 'devbiz',
      accountId: '42',
      usertype: 'Mobile',
    });
    assert.equal(login.data.data.error_code, AuthErrorCode.WrongAccountId);
    const badAppToken = await http.post(`${t.url}/api/login.do`, {
      user: DEMO.user,
      apptoken: 'not-a-token',
      tenantid: 'devbiz',
      accountId: DEMO.accountId,
      usertype: 'Mobile',
    });
    assert.equal(badAppToken.data.data.error_code, AuthErrorCode.InvalidAppToken);
  });

  it('rejects a missing, unknown or expired access_token (1002)', async () => {
    const body = { businessSystemCode: 'yhtest', interfaceCode: 'taxLogin', requestId: '1', data: '' };
    assert.equal((await t.raw(body, null)).errorCode, '1002');
    assert.equal((await t.raw(body, 'f035550a-f9e8-4cc6-a775-8a21462a9f8b')).errorCode, '1002');
    await t.admin.setAuthSettings({ accessTokenTtlMs: 100 });
    const shortLived = await t.login();
    await sleep(150);
    assert.equal((await t.raw(body, shortLived)).errorCode, '1002');
    await t.admin.setAuthSettings({ accessTokenTtlMs: 7_200_000 });
    await t.login();
  });

  it('answers 1003 for an unknown interface and 1001 (naming the field) for invalid data', async () => {
    const unknown = await t.raw({ businessSystemCode: 'yhtest', interfaceCode: 'nope', requestId: '1', data: '' });
    assert.equal(unknown.errorCode, '1003');
    const badTaxNo = await t.call('taxLogin', { taxNo: '91440300591872133A' });
    assert.equal(badTaxNo.errorCode, '1001');
    assert.match(badTaxNo.message, /^taxNo: /);
    const notBase64 = await t.raw({
      businessSystemCode: 'yhtest',
      interfaceCode: 'taxLogin',
      requestId: '1',
      data: '%%',
    });
    assert.equal(notBase64.errorCode, '1001');
    const noEnvelope = await t.raw({ interfaceCode: 'taxLogin' });
    assert.equal(noEnvelope.errorCode, '1001');
    assert.match(noEnvelope.message, /businessSystemCode/);
  });

  it('speaks aes-gcm when the tenant turns encryption on', async () => {
    await t.admin.setTenantEncoding({ kind: 'aes-gcm', password: 'secret-pass' });
    try {
      t.encoding = { kind: 'aes-gcm', password: 'secret-pass' };
      const reply = await t.call('taxperiodQuery', { taxNo: TRADING });
      assert.equal(reply.errorCode, '0000');
      assert.equal(reply.decoded?.taxPeriod, '202510');
      const plain = await t.raw({
        businessSystemCode: 'yhtest',
        interfaceCode: 'taxperiodQuery',
        requestId: '1',
        data: encodeData({ taxNo: TRADING }, { kind: 'base64' }),
      });
      assert.equal(plain.errorCode, '1001');
    } finally {
      await t.admin.setTenantEncoding({ kind: 'base64' });
      t.encoding = { kind: 'base64' };
    }
  });
});

describe('sandbox: persistence, generator and admin API', () => {
  it('keeps everything over a restart on the same db file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-'));
    const dbFile = join(dir, 'sandbox.sqlite');
    try {
      const first = await TestSandbox.start({ dbFile });
      await first.admin.seedDemo({ taxPeriod: '202510', now: '2025-11-05T10:00:00+08:00', invoicesPerTaxpayer: 5 });
      await first.admin.setTaskDelays({ selectMs: 60_000, statisticMs: 5, confirmMs: 7 });
      await first.login();
      await first.ok('taxLogin', { taxNo: KINGDEE });
      await first.admin.addInvoices(KINGDEE, [
        { invoiceType: 27, invoiceNo: 'P1', invoiceDate: '2025-10-10', invoiceAmount: '100.00', taxAmount: '13.00' },
      ]);
      const { taskNo } = await first.ok('invoiceSelect', {
        taxNo: KINGDEE,
        billType: '0',
        authenticateFlag: SELECT_FLAG,
        deductionPurpose: '1',
        asyncFlag: '1',
        invoices: [selectLine('P1')],
      });
      const before = await first.admin.getTaxpayer(KINGDEE);
      await first.close();

      const second = await TestSandbox.start({ dbFile });
      try {
        second.accessToken = first.accessToken;
        assert.equal((await second.call('invoiceSelectQuery', { taxNo: KINGDEE, taskNo: taskNo! })).errorCode, '6910');
        assert.deepEqual(await second.admin.getTaxpayer(KINGDEE), before);
        assert.deepEqual(await second.admin.getTaskDelays(), {
          selectMs: 60_000,
          statisticMs: 5,
          confirmMs: 7,
          downloadMs: 0,
        });
        const clock = await second.admin.getClock();
        assert.ok(Math.abs(Date.parse(clock.now) - Date.parse('2025-11-05T10:00:00+08:00')) < 60_000);
        assert.equal((await second.admin.ledger({ taxNo: KINGDEE, interfaceCode: 'invoiceSelect' })).length, 1);
        await second.admin.setTaskDelays({ selectMs: 0 });
        await second.admin.setClock('2025-11-05T10:02:00+08:00');
        const done = await second.call('invoiceSelectQuery', { taxNo: KINGDEE, taskNo: taskNo! });
        assert.deepEqual(
          done.decoded?.success.map((i) => i.invoiceNo),
          ['P1'],
        );
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('generates the same invoices from the same seed, a realistic mix, without duplicates', async () => {
    const [a, b] = await Promise.all([TestSandbox.start(), TestSandbox.start()]);
    try {
      for (const s of [a, b]) await s.admin.seedDemo({ taxPeriod: '202510', invoicesPerTaxpayer: 0 });
      const args = { count: 200, seed: 42, period: '202510' };
      const one = (await a.admin.generateInvoices(KINGDEE, args)).invoices;
      const two = (await b.admin.generateInvoices(KINGDEE, args)).invoices;
      assert.deepEqual(one, two);
      const other = (await b.admin.generateInvoices(KINGDEE, { ...args, seed: 43 })).invoices;
      assert.notDeepEqual(other, one);

      assert.ok(
        one.some((i) => [1, 3, 26].includes(i.invoiceType) && !i.agricultural),
        'non-deductible ordinary',
      );
      assert.ok(
        one.some((i) => i.agricultural),
        'agricultural',
      );
      assert.ok(
        one.some((i) => i.invoiceStatus === 2) && one.some((i) => i.invoiceStatus === 1),
        'void, out of control',
      );
      assert.ok(
        one.some((i) => i.invoiceDate > '2025-10-31'),
        'dated after the period',
      );
      assert.ok(one.every((i) => /^-?\d+\.\d{2}$/.test(i.invoiceAmount) && /^-?\d+\.\d{2}$/.test(i.taxAmount)));
      const rates = new Set(
        one
          .filter((i) => !i.invoiceAmount.startsWith('-'))
          .map((i) => Math.round((Number(i.taxAmount) / Number(i.invoiceAmount)) * 100)),
      );
      assert.deepEqual(
        [...rates].sort((x, y) => x - y),
        [1, 3, 6, 9, 13],
      );
      const count = (await a.admin.getTaxpayer(KINGDEE)).invoiceCount;
      await a.admin.generateInvoices(KINGDEE, args);
      assert.equal((await a.admin.getTaxpayer(KINGDEE)).invoiceCount, count, 'generating twice adds nothing');
      // Seeding the demo again with the same arguments changes nothing either.
      const seeded = await a.admin.seedDemo({ taxPeriod: '202510', invoicesPerTaxpayer: 0 });
      assert.equal(seeded.taxpayers[0]!.invoiceCount, count);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('answers bad admin input with 400 naming the field, unknown taxpayers with 404', async () => {
    const t = await TestSandbox.start();
    try {
      const post = (path: string, body: unknown) => http.post(`${t.url}${path}`, body);
      const badTaxpayer = await post('/admin/taxpayers', {
        taxNo: '91440300591872133',
        name: 'x',
        softCertificate: true,
        periodChangeSupported: true,
        taxPeriod: '202510',
        confirmPassword: '1',
      });
      assert.deepEqual([badTaxpayer.status, badTaxpayer.data.field], [400, 'taxNo']);
      const badDemo = await post('/admin/demo', { taxPeriod: '202513' });
      assert.deepEqual([badDemo.status, badDemo.data.field], [400, 'taxPeriod']);
      const badClock = await post('/admin/clock', { now: 'yesterday' });
      assert.deepEqual([badClock.status, badClock.data.field], [400, 'now']);
      const badDelay = await post('/admin/task-delays', { selectMs: -1 });
      assert.deepEqual([badDelay.status, badDelay.data.field], [400, 'selectMs']);
      assert.equal((await http.get(`${t.url}/admin/taxpayers/${KINGDEE}`)).status, 404);
      assert.equal((await t.admin.health()).status, 'ok');
    } finally {
      await t.close();
    }
  });

  it('selects invoices the demo generator made', async () => {
    const t = await TestSandbox.start();
    try {
      await t.admin.seedDemo({ taxPeriod: '202510', now: '2025-11-05T10:00:00+08:00', invoicesPerTaxpayer: 40 });
      await t.login();
      await t.ok('taxLogin', { taxNo: KINGDEE });
      const pool = await t.ok('invoicePoolQuery', { taxNo: KINGDEE, pageSize: 100 });
      assert.equal(pool.total, 40);
      const codes = await selectAndWait(
        t,
        KINGDEE,
        pool.invoices.map((i) =>
          selectLine(i.invoiceNo, {
            invoiceCode: i.invoiceCode,
            invoiceType: String(i.invoiceType),
            effectiveTaxAmount: i.taxAmount.startsWith('-') ? '0.00' : i.taxAmount,
          }),
        ),
      );
      const seen = new Set(Object.values(codes));
      assert.ok(seen.has('1') && seen.size > 2, `a mix of outcomes: ${[...seen].join(',')}`);
    } finally {
      await t.close();
    }
  });
});
