import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'mocha';
import { Decimal } from 'decimal.js';
import { softCertificateOffMessage, TASK_PROCESSING_MESSAGE } from '../protocol/codes.js';
import { interfaces, type StatisticRow } from '../protocol/interfaces.js';
import { recognises } from '../protocol/profile.js';
import { documentedResult } from '../simulator/gateway/replies.js';
import { sandboxEnv } from '../simulator/sandboxEnv.js';
import { SANDBOX_DEFAULT_PROFILE } from '../simulator/settings.js';
import { RETRY_SELECT_CODES } from '../scripts/chaos/invariants.js';
import {
  confirmAndWait,
  http,
  invoiceInput,
  KINGDEE,
  NO_SOFT_CERT,
  selectAndWait,
  selectLine,
  selectResults,
  statisticTask,
  TestSandbox,
  TRADING,
} from './support/sandbox.js';

/**
 * The replies in Kingdee's documented shapes (docs/protocol.md): the statistic object, the
 * per-invoice success/fail items, and what the tenant's protocol profile changes (select flag,
 * interface codes, a confirm-result interface, statistic categories).
 */

const TAX = KINGDEE;
const inv = invoiceInput;

/** The invoices of the statistic tests: several 发票云 types, some without a bureau category. */
const STATISTIC_POOL = [
  inv('S1', { invoiceType: 27, invoiceAmount: '100.00', taxAmount: '13.00' }),
  inv('S2', { invoiceType: 4, invoiceCode: '044001900111', invoiceAmount: '250.55', taxAmount: '32.57' }),
  inv('S3', { invoiceType: 2, invoiceAmount: '80.10', taxAmount: '10.41' }),
  inv('M1', { invoiceType: 12, invoiceAmount: '1000.00', taxAmount: '130.00' }),
  inv('T1', { invoiceType: 15, invoiceAmount: '30.00', taxAmount: '0.90' }),
  inv('R1', { invoiceType: 29, invoiceAmount: '45.87', taxAmount: '4.13' }),
  inv('N1', { invoiceType: 27, invoiceAmount: '60.00', taxAmount: '7.80' }),
];

async function start(opts: Parameters<typeof TestSandbox.start>[0] = {}): Promise<TestSandbox> {
  const t = await TestSandbox.start(opts);
  await t.admin.seedDemo({ taxPeriod: '202510', now: '2025-10-20T10:00:00+08:00', invoicesPerTaxpayer: 0 });
  await t.admin.addInvoices(TAX, [...STATISTIC_POOL, inv('A1'), inv('A2'), inv('LATE', { invoiceDate: '2025-11-02' })]);
  await t.login();
  await t.ok('taxLogin', { taxNo: TAX });
  return t;
}

const line = (invoiceNo: string) => {
  const i = [...STATISTIC_POOL, inv('A1'), inv('A2')].find((x) => x.invoiceNo === invoiceNo)!;
  return selectLine(invoiceNo, {
    invoiceType: String(i.invoiceType),
    invoiceCode: i.invoiceCode ?? '',
    effectiveTaxAmount: i.taxAmount,
  });
};

describe('sandbox: the statistic object', () => {
  let t: TestSandbox;
  beforeEach(async () => (t = await start()));
  afterEach(() => t.close());

  it('is 04 (not confirmable) while the period month runs, 02 (confirmable) once it has ended', async () => {
    await selectAndWait(t, TAX, [line('S1')]);
    const generated = await statisticTask(t, TAX, '1');
    assert.deepEqual(
      [generated.createTjbbStatus, generated.isAllowQrtj, generated.isAllowQxTj],
      ['04', false, true],
      'generated on 2025-10-20 for 202510',
    );
    const before = await t.ok('statisticQuery', { taxNo: TAX });
    assert.deepEqual(
      [before.taxPeriod, before.skssq, before.gxrqfw, before.createTjbbStatus, before.isAllowQrtj, before.isAllowQxTj],
      ['202510', '202510;20251115;202510', '20170101-20251031', '04', false, true],
    );
    assert.equal(before.allowChangeSsqBySeason, true);
    assert.match(before.updateTime ?? '', /^2025-10-20 10:00:\d\d$/);
    const early = await t.call('statisticConfirm', { taxNo: TAX, password: '1234567', asyncFlag: '1' });
    assert.deepEqual([early.errorCode, early.message], ['3002', '未到统计确认时间']);

    await t.admin.setClock('2025-11-01T00:00:00+08:00');
    const after = await t.ok('statisticQuery', { taxNo: TAX });
    assert.deepEqual(
      [after.skssq, after.createTjbbStatus, after.isAllowQrtj, after.isAllowQxTj],
      ['202510;20251115;202511', '02', true, true],
    );
    const { statistic } = await confirmAndWait(t, TAX);
    assert.deepEqual([statistic.isAllowQrtj, statistic.isAllowQxTj], [false, false]);
  });

  it('sums the rows by bureau category, with a total row 99 over every type; tjInfo packs the same rows', async () => {
    await selectAndWait(t, TAX, ['S1', 'S2', 'S3', 'M1', 'T1', 'R1'].map(line));
    await selectAndWait(t, TAX, [{ ...line('N1'), notDeductibleType: '1' }], { purpose: '2' });
    const statistic = await t.ok('statisticQuery', { taxNo: TAX });

    // An independent sum, from the pool and the default categories (2, 4, 27 → 01; 12 → 03; 15 → 14; 29 none).
    const categoryOf: Record<string, string> = { S1: '01', S2: '01', S3: '01', M1: '03', T1: '14', N1: '01' };
    const expected = new Map<string, { dn: number; da: Decimal; dt: Decimal; un: number; ua: Decimal; ut: Decimal }>();
    const add = (key: string, i: (typeof STATISTIC_POOL)[number], deductible: boolean) => {
      const e = expected.get(key) ?? {
        dn: 0,
        da: new Decimal(0),
        dt: new Decimal(0),
        un: 0,
        ua: new Decimal(0),
        ut: new Decimal(0),
      };
      expected.set(key, e);
      if (deductible) Object.assign(e, { dn: e.dn + 1, da: e.da.plus(i.invoiceAmount), dt: e.dt.plus(i.taxAmount) });
      else Object.assign(e, { un: e.un + 1, ua: e.ua.plus(i.invoiceAmount), ut: e.ut.plus(i.taxAmount) });
    };
    for (const i of STATISTIC_POOL) {
      const deductible = i.invoiceNo !== 'N1';
      add('99', i, deductible);
      const category = categoryOf[i.invoiceNo];
      if (category) add(category, i, deductible);
    }
    const rows = (statistic.tjInfoArr ?? []).map((r) => ({ ...r }));
    assert.deepEqual(
      rows.map((r) => r.invoiceType),
      ['01', '03', '14', '99'],
    );
    for (const r of rows) {
      const e = expected.get(r.invoiceType)!;
      assert.deepEqual(
        [
          r.deductibleNum,
          r.deductibleAmount,
          r.deductibleTax,
          r.unDeductibleNum,
          r.unDeductibleAmount,
          r.unDeductibleTax,
        ],
        [e.dn, e.da.toFixed(2), e.dt.toFixed(2), e.un, e.ua.toFixed(2), e.ut.toFixed(2)],
        `row ${r.invoiceType}`,
      );
    }
    const total = rows.find((r) => r.invoiceType === '99')!;
    assert.deepEqual([total.deductibleNum, total.deductibleTax, total.unDeductibleNum], [6, '191.01', 1]);

    // tjInfo: "type=dkNum=dkAmount=dkTax=bdkNum=bdkAmount=bdkTax;..." with the same rows.
    const packed = (statistic.tjInfo ?? '').split(';').map((part) => {
      const [invoiceType, dn, da, dt, un, ua, ut] = part.split('=');
      return {
        invoiceType,
        deductibleNum: Number(dn),
        deductibleAmount: da,
        deductibleTax: dt,
        unDeductibleNum: Number(un),
        unDeductibleAmount: ua,
        unDeductibleTax: ut,
      };
    });
    assert.deepEqual(packed, rows as StatisticRow[]);
  });

  it('maps types to categories by the profile: a category for 29, none for 12', async () => {
    await t.admin.setProfile({ statisticCategories: { '27': '01', '29': '30' } });
    await selectAndWait(t, TAX, ['S1', 'M1', 'R1'].map(line));
    const statistic = await t.ok('statisticQuery', { taxNo: TAX });
    assert.deepEqual(
      statistic.tjInfoArr?.map((r) => [r.invoiceType, r.deductibleNum, r.deductibleTax]),
      [
        ['01', 1, '13.00'],
        ['30', 1, '4.13'],
        ['99', 3, '147.13'],
      ],
    );
  });

  it('answers a generation the bureau refused with an error envelope (3001 and its message)', async () => {
    await selectAndWait(t, TAX, [line('S1')]);
    await t.admin.setClock('2025-11-15T23:59:50+08:00');
    await t.ok('taxLogin', { taxNo: TAX });
    await t.admin.setTaskDelays({ statisticMs: 60_000 });
    const { taskNo } = await t.ok('statisticCreate', { taxNo: TAX, operateType: '1', asyncFlag: '1' });
    assert.equal((await t.call('statisticCreateQuery', { taxNo: TAX, taskNo })).errorCode, '6910');
    // The deadline passes before the task settles: the period rolls over and the task fails.
    await t.admin.setClock('2025-11-16T00:01:00+08:00');
    const refused = await t.call('statisticCreateQuery', { taxNo: TAX, taskNo });
    assert.deepEqual(
      [refused.errorCode, refused.message, refused.data],
      ['3001', '税款所属期已变更，任务已失效', undefined],
    );
  });

  it('taxperiodQuery and taxperiodChange answer the documented fields', async () => {
    assert.deepEqual(await t.ok('taxperiodQuery', { taxNo: TAX }), {
      taxNo: TAX,
      taxPeriod: '202510',
      skssq: '202510;20251115;202510',
      gxrqfw: '20170101-20251031',
      allowChangeSsqBySeason: true,
    });
    assert.deepEqual((await t.ok('taxperiodQuery', { taxNo: TRADING })).allowChangeSsqBySeason, false);
    assert.deepEqual(await t.ok('taxperiodChange', { taxNo: TAX, taxPeriod: '202509', status: 1 }), {
      taxNo: TAX,
      taxPeriod: '202509',
      allowChangeSsqBySeason: true,
    });
  });
});

describe('sandbox: per-invoice results in success and fail', () => {
  let t: TestSandbox;
  beforeEach(async () => (t = await start()));
  afterEach(() => t.close());

  it('puts "1" in success and every documented failure in fail, with the facts of each invoice', async () => {
    const { success, fail } = await selectResults(t, TAX, [
      line('A1'),
      selectLine('NOPE'),
      selectLine('LATE'),
      selectLine('A2', { effectiveTaxAmount: '99.00' }),
    ]);
    assert.equal(success.length, 1);
    const [ok] = success;
    assert.deepEqual(
      [ok!.invoiceNo, ok!.selectResult, ok!.description, ok!.invoiceDate, ok!.effectiveTaxAmount, ok!.taxPeriod],
      ['A1', '1', '勾选成功', '2025-10-10', '13.00', '202510'],
    );
    assert.match(ok!.selectDate ?? '', /^2025-10-20 10:00:\d\d$/);
    assert.deepEqual(
      fail.map((i) => [i.invoiceNo, i.selectResult, i.selectDate]),
      [
        ['NOPE', '2', undefined],
        ['LATE', '10', undefined],
        ['A2', '8', undefined],
      ],
    );
    assert.ok(fail.every((i) => i.description.length > 0 && i.taxPeriod === '202510'));
    const accepted = await t.ok('invoiceSelect', {
      taxNo: TAX,
      billType: '0',
      authenticateFlag: 1,
      deductionPurpose: '1',
      asyncFlag: '1',
      invoices: [line('A2')],
    });
    assert.deepEqual([accepted.asyncFlag, accepted.success, accepted.fail], ['1', [], []]);
    assert.match(accepted.taskNo ?? '', /^[0-9a-f]{32}$/);
  });

  it('maps every internal code to its documented selectResult; the retry ones are what the profile retries', () => {
    const expected: Record<number, string> = {
      1: '1',
      19: '1',
      2: '2',
      3: '3',
      4: '4',
      11: '11',
      12: '12',
      15: '15',
      16: '16',
      20: '20',
      24: '10',
      5: '10',
      18: '8',
      35: '8',
      36: '8',
    };
    for (const [code, selectResult] of Object.entries(expected)) {
      const documented = documentedResult(Number(code), 'internal message');
      assert.equal(documented.selectResult, selectResult, `code ${code}`);
      const retried =
        documented.selectResult !== '1' &&
        recognises(SANDBOX_DEFAULT_PROFILE.selectRetry, documented.selectResult, documented.description);
      assert.equal(retried, RETRY_SELECT_CODES.includes(Number(code)), `code ${code}: ${documented.description}`);
    }
    assert.match(documentedResult(19, '').description, /已勾选/);
    assert.match(documentedResult(35, '').description, /发票勾选中/);
    assert.match(documentedResult(36, '').description, /税局登录失败/);
  });

  it('answers a taxpayer without soft-certificate mode like the seed: 6910 with the reason on 4.06, 1130 on statistics', async () => {
    const accepted = await t.ok('invoiceSelect', {
      taxNo: NO_SOFT_CERT,
      billType: '0',
      authenticateFlag: 1,
      deductionPurpose: '1',
      asyncFlag: '1',
      invoices: [selectLine('X1')],
    });
    for (let i = 0; i < 2; i++) {
      const reply = await t.call('invoiceSelectQuery', { taxNo: NO_SOFT_CERT, taskNo: accepted.taskNo! });
      assert.deepEqual(reply, {
        success: false,
        status: false,
        errorCode: '6910',
        message: `${TASK_PROCESSING_MESSAGE}[${softCertificateOffMessage(NO_SOFT_CERT)}]`,
      });
    }
    const statistic = await t.call('statisticQuery', { taxNo: NO_SOFT_CERT });
    assert.deepEqual([statistic.errorCode, statistic.message], ['1130', softCertificateOffMessage(NO_SOFT_CERT)]);
    const [task] = await t.admin.ledger({ taxNo: NO_SOFT_CERT, interfaceCode: 'invoiceSelect' });
    assert.match(task?.outcome ?? '', /codes=36/, 'nothing reaches the bureau without soft-certificate mode');
  });
});

describe('sandbox: the protocol profile', () => {
  let t: TestSandbox;
  afterEach(() => t.close());

  it('under a reversed select flag, authenticateFlag 1 cancels and 0 selects', async () => {
    t = await start({ profile: { selectFlag: { select: '0', cancel: '1' } } });
    const cancelled = await selectResults(t, TAX, [line('A1')], { authenticateFlag: 1 });
    assert.deepEqual(
      cancelled.success.map((i) => [i.invoiceNo, i.selectResult, i.selectDate]),
      [['A1', '1', undefined]],
    );
    assert.equal((await t.admin.getTaxpayer(TAX)).selectedCount, 0, 'a cancellation selects nothing');
    assert.deepEqual(await selectAndWait(t, TAX, [line('A1')], { authenticateFlag: 0 }), { A1: '1' });
    assert.equal((await t.admin.getTaxpayer(TAX)).selectedCount, 1);
    assert.deepEqual(await selectAndWait(t, TAX, [line('A1')], { authenticateFlag: 1 }), { A1: '1' });
    assert.equal((await t.admin.getTaxpayer(TAX)).selectedCount, 0, 'and 1 cancels a selection');

    const ledger = await t.admin.ledger({ taxNo: TAX, interfaceCode: 'invoiceSelect' });
    assert.deepEqual(
      ledger.map((e) => [e.authenticateFlag, e.selectAction]),
      [
        ['1', 'cancel'],
        ['0', 'select'],
        ['1', 'cancel'],
      ],
    );
    const invariants = await t.admin.invariants();
    assert.deepEqual(invariants.invoicesSelectedTwice, []);
  });

  it('serves a tenant confirm-result interface under its code: 6910 while pending, then the statistic object', async () => {
    t = await start();
    const code = 'statisticConfirmResultQuery';
    const unconfigured = await t.raw({
      ...t.envelope('statisticConfirmResult', { taxNo: TAX, taskNo: 'a'.repeat(32) }),
      interfaceCode: code,
    });
    assert.equal(unconfigured.errorCode, '1003', 'not served without the profile');
    await t.admin.setProfile({ confirmation: { kind: 'result-interface', interfaceCode: code } }, 'devbiz');
    t.wire = { statisticConfirmResult: code };

    await selectAndWait(t, TAX, [line('S1')]);
    await statisticTask(t, TAX, '1');
    await t.admin.setClock('2025-11-05T10:00:00+08:00');
    await t.admin.setTaskDelays({ confirmMs: 60_000 });
    const { taskNo } = await t.ok('statisticConfirm', { taxNo: TAX, password: '1234567', asyncFlag: '1' });
    const pending = await t.call('statisticConfirmResult', { taxNo: TAX, taskNo });
    assert.deepEqual([pending.errorCode, pending.message], ['6910', TASK_PROCESSING_MESSAGE]);
    await t.admin.setClock('2025-11-05T10:02:00+08:00');
    const done = await t.ok('statisticConfirmResult', { taxNo: TAX, taskNo });
    assert.deepEqual(
      [done.taskNo, done.taxPeriod, done.createTjbbStatus, done.isAllowQrtj, done.updateTime],
      [taskNo, '202510', '05', false, done.updateTime],
    );
    assert.match(done.updateTime ?? '', /^2025-11-05 10:01:0\d$/, 'confirmed when the task settled');
    interfaces.statisticConfirmResult.reply.parse(done);
    // A generate task is not a confirm task (2001); the confirm task is not a generate task (2002).
    const generate = (await t.admin.ledger({ taxNo: TAX, interfaceCode: 'statisticCreate' }))[0]!.taskNo;
    assert.equal((await t.call('statisticConfirmResult', { taxNo: TAX, taskNo: generate })).errorCode, '2001');
    assert.equal((await t.call('statisticCreateQuery', { taxNo: TAX, taskNo })).errorCode, '2002');
    // The logical name itself is not a wire code.
    t.wire = {};
    assert.equal((await t.call('statisticConfirmResult', { taxNo: TAX, taskNo })).errorCode, '1003');
  });

  it("routes the profile's interface codes; a renamed interface no longer answers to its documented code", async () => {
    t = await start();
    await t.admin.setProfile({ interfaceCodes: { statisticQuery: 'tjQuery', invoiceSelect: 'fpgx' } }, 'devbiz');
    assert.equal((await t.call('statisticQuery', { taxNo: TAX })).errorCode, '1003');
    t.wire = { statisticQuery: 'tjQuery', invoiceSelect: 'fpgx' };
    assert.equal((await t.ok('statisticQuery', { taxNo: TAX })).createTjbbStatus, '01');
    assert.deepEqual(await selectAndWait(t, TAX, [line('A1')]), { A1: '1' });
    assert.deepEqual(
      (await t.admin.ledger({ taxNo: TAX, interfaceCode: 'invoiceSelect' })).map((e) => e.selectAction),
      ['select'],
      'the ledger names the logical interface',
    );
  });

  it('is set and read over the admin API per tenant, persisted, and refused with 400 when invalid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-profile-'));
    try {
      const dbFile = join(dir, 'sandbox.sqlite');
      t = await TestSandbox.start({ dbFile });
      await t.admin.seedDemo({ taxPeriod: '202510', invoicesPerTaxpayer: 0 });
      assert.deepEqual((await t.admin.getProfile('devbiz')).profile, SANDBOX_DEFAULT_PROFILE);
      const set = await t.admin.setProfile({ selectFlag: { select: '0', cancel: '1' } }, 'devbiz');
      assert.deepEqual([set.tenantId, set.profile.selectFlag], ['devbiz', { select: '0', cancel: '1' }]);
      assert.equal(set.profile.interfaceCodes.invoiceSelect, 'invoiceSelect', 'omitted settings take the defaults');
      assert.deepEqual((await t.admin.getProfile()).profile, SANDBOX_DEFAULT_PROFILE, '"*" unchanged');
      const post = (body: unknown) => http.post(`${t.url}/admin/profile`, body);
      const same = { selectFlag: { select: '1', cancel: '1' } };
      const bad = await post({ tenantId: 'devbiz', profile: same });
      assert.deepEqual([bad.status, bad.data.field], [400, 'profile.selectFlag']);
      const badPattern = await post({ profile: { tooEarly: { patterns: ['('] } } });
      assert.equal(badPattern.status, 400);
      assert.match(badPattern.data.message, /not a regular expression/);
      assert.deepEqual([(await post({ tenantId: 'nobody', profile: {} })).status], [400]);
      await t.close();
      t = await TestSandbox.start({ dbFile });
      assert.deepEqual((await t.admin.getProfile('devbiz')).profile.selectFlag, { select: '0', cancel: '1' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sandbox: the profile at start', () => {
  it('reads SANDBOX_PROFILE, a JSON file, for npm run sandbox', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-profile-env-'));
    try {
      const file = join(dir, 'profile.json');
      writeFileSync(file, JSON.stringify({ selectFlag: { select: '0', cancel: '1' } }));
      assert.deepEqual(sandboxEnv({ SANDBOX_PROFILE: file }).profile?.selectFlag, { select: '0', cancel: '1' });
      writeFileSync(file, '{"selectFlag": {"select": "2"}}');
      assert.throws(() => sandboxEnv({ SANDBOX_PROFILE: file }), /SANDBOX_PROFILE=.*selectFlag\.select/);
      assert.throws(() => sandboxEnv({ SANDBOX_PROFILE: join(dir, 'missing.json') }), /SANDBOX_PROFILE=/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
