import assert from 'node:assert/strict';
import { BusinessReply } from '../protocol/envelope.js';
import { interfaces, type InterfaceCode } from '../protocol/interfaces.js';
import { DEFAULT_PROFILE, parseProfile, ProfileError } from '../protocol/profile.js';
import { classifyReply } from '../activities/invoiceCloudErrors.js';
import { findDrift, isReportable } from '../activities/replyDrift.js';
import { checkPlanAgainstBureau, compareCategories, figuresByCategory } from '../rules/plannedVersusBureau.js';
import { parseTjInfo, readSkssq, readStatistic, StatisticReadError } from '../rules/statisticObject.js';

/**
 * Replies written by hand from Kingdee's documentation (docs/protocol.md): each must parse as it
 * is, with undocumented extra fields, and with numbers and booleans sent as strings.
 */
const statisticObject = {
  taxPeriod: '202611',
  skssq: '202611;20261215;202612',
  gxrqfw: '20170101-20261130',
  updateTime: '2026-12-05 10:00:00',
  createTjbbStatus: '02',
  isAllowQxTj: true,
  isAllowQrtj: true,
  allowChangeSsqBySeason: false,
  tjInfo: '01=2=200.00=26.00=0=0.00=0.00;99=3=300.00=39.00=0=0.00=0.00',
  tjInfoArr: [
    {
      invoiceType: '01',
      deductibleNum: 2,
      deductibleAmount: '200.00',
      deductibleTax: '26.00',
      unDeductibleNum: 0,
      unDeductibleAmount: '0.00',
      unDeductibleTax: '0.00',
    },
    {
      invoiceType: '99',
      deductibleNum: 3,
      deductibleAmount: '300.00',
      deductibleTax: '39.00',
      unDeductibleNum: 0,
      unDeductibleAmount: '0.00',
      unDeductibleTax: '0.00',
    },
  ],
};
const resultItem = {
  invoiceCode: '044031900111',
  invoiceNo: '12345678',
  invoiceDate: '2026-11-03',
  effectiveTaxAmount: '13.00',
  taxPeriod: '202611',
  selectResult: '1',
  description: '勾选成功',
};
const documented: [InterfaceCode, unknown][] = [
  ['taxLogin', { loginType: 1, needAuth: false, companyName: '示例', skssq: '202611;20261215;202612' }],
  ['taxLogin', { loginType: '1' }], // the seed's own reply
  [
    'taxperiodQuery',
    {
      taxPeriod: '202611',
      skssq: '202611;20261215;202612',
      gxrqfw: '20170101-20261130',
      allowChangeSsqBySeason: false,
    },
  ],
  ['taxperiodQuery', { skssq: '202611;20261215;202612' }],
  ['invoiceSelect', { asyncFlag: '1', taskNo: '389d8907ea8e49bf8cdcc81b6731e766' }], // the seed's reply
  [
    'invoiceSelect',
    { success: [resultItem], fail: [{ ...resultItem, selectResult: '10', description: '超出勾选日期范围' }] },
  ],
  ['invoiceSelectQuery', { success: [resultItem], fail: [] }],
  ['statisticQuery', statisticObject],
  ['statisticCreate', { asyncFlag: '1', taskNo: 'b3c8b84b892a4423ae0747c81b6fd8b9' }],
  ['statisticCreateQuery', statisticObject],
  ['statisticConfirm', { asyncFlag: '1', taskNo: 'd1902f3072db4441a3d7d990709f8cfb' }],
  ['taxperiodChange', { taxPeriod: '202611', allowChangeSsqBySeason: false }],
  ['exportRebateStatisticQuery', { statInfoArr: [{ statInvoiceType: '01', num: 2, totalTaxAmount: '26.00' }] }],
];

/** The same reply with numbers and booleans as strings, and fields nobody documented. */
function drifted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(drifted);
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => [k, drifted(v)]);
    return { ...Object.fromEntries(entries), undocumentedField: 'x', nested: { y: 1 } };
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return value;
}

describe('documented reply shapes (docs/protocol.md)', () => {
  for (const [code, reply] of documented) {
    it(`${code} parses as documented, and with strings for numbers and extra fields`, () => {
      const schema = interfaces[code].reply;
      const plain = schema.safeParse(reply);
      assert.ok(plain.success, JSON.stringify(plain.error?.issues));
      const loose = schema.safeParse(drifted(reply));
      assert.ok(loose.success, JSON.stringify(loose.error?.issues));
      assert.equal((loose.data as Record<string, unknown>).undocumentedField, 'x', 'unknown fields are kept');
    });
  }

  it('reports drift: unknown fields and codes always, missing fields only where documented as present', () => {
    const { tjInfoArr: _rows, ...noRows } = statisticObject;
    const statisticDrift = findDrift('statisticQuery', interfaces.statisticQuery.reply, {
      ...noRows,
      createTjbbStatus: '23',
      extra: 1,
    }).filter(isReportable);
    assert.deepEqual(
      statisticDrift.map((d) => [d.kind, d.field, d.value]).sort(),
      [
        ['missing-field', 'tjInfoArr', undefined],
        ['unexpected-field', 'extra', undefined],
        ['unknown-value', 'createTjbbStatus', '23'],
      ].sort(),
    );
    // The seed's own taxLogin reply leaves out optional documented fields: nothing to warn about.
    assert.deepEqual(findDrift('taxLogin', interfaces.taxLogin.reply, { loginType: '1' }).filter(isReportable), []);
  });

  it('a reply missing a field a decision needs fails, naming the field', () => {
    const { createTjbbStatus: _status, ...noStatus } = statisticObject;
    const result = interfaces.statisticQuery.reply.safeParse(noStatus);
    assert.ok(!result.success);
    assert.deepEqual(result.error.issues[0]!.path, ['createTjbbStatus']);
    const noPeriod = interfaces.taxperiodQuery.reply.safeParse({ gxrqfw: '20170101-20261130' });
    assert.ok(!noPeriod.success);
    assert.deepEqual(noPeriod.error.issues[0]!.path, ['taxPeriod']);
    const noResult = interfaces.invoiceSelectQuery.reply.safeParse({ success: [{ invoiceNo: '1' }] });
    assert.ok(!noResult.success);
    assert.deepEqual(noResult.error.issues[0]!.path, ['success', 0, 'selectResult']);
  });

  it('the envelope takes success as true or "true", and errorCode as a number', () => {
    const parsed = BusinessReply.parse({ success: 'true', errorCode: 0, message: 'ok', extra: 1 });
    assert.equal(parsed.success, true);
    assert.equal(parsed.errorCode, '0');
    assert.equal(BusinessReply.parse({ success: 'false', errorCode: '1130', message: 'x' }).success, false);
  });
});

describe('reading the statistic object', () => {
  it('takes rows from tjInfoArr, keeps the total row apart, and the period and deadline from skssq', () => {
    const view = readStatistic(interfaces.statisticQuery.reply.parse({ ...statisticObject, taxPeriod: undefined }));
    assert.equal(view.taxPeriod, '202611');
    assert.equal(view.deductionDeadline, '2026-12-15');
    assert.equal(view.statisticStatus, '02');
    assert.equal(view.confirmable, true);
    assert.deepEqual(
      view.items.map((i) => [i.category, i.deductibleCount, i.deductibleTax]),
      [['01', 2, '26.00']],
    );
    assert.deepEqual([view.total?.deductibleCount, view.total?.deductibleTax], [3, '39.00']);
  });
  it('falls back to tjInfo when tjInfoArr is absent, with the same figures', () => {
    const { tjInfoArr: _rows, ...packed } = statisticObject;
    const fromPacked = readStatistic(interfaces.statisticQuery.reply.parse(packed));
    const fromArray = readStatistic(interfaces.statisticQuery.reply.parse(statisticObject));
    assert.deepEqual(fromPacked.items, fromArray.items);
    assert.deepEqual(fromPacked.total, fromArray.total);
  });
  it('reads a short tjInfo row (deductible figures only) and refuses a garbled one naming it', () => {
    assert.deepEqual(parseTjInfo('3=1=10.5=1.3;'), [
      {
        category: '03',
        deductibleCount: 1,
        deductibleAmount: '10.50',
        deductibleTax: '1.30',
        notDeductibleCount: 0,
        notDeductibleAmount: '0.00',
        notDeductibleTax: '0.00',
      },
    ]);
    assert.throws(
      () => parseTjInfo('01=x=1.00=0.13'),
      (e: Error) => e instanceof StatisticReadError && /01=x/.test(e.message),
    );
  });
  it('reads skssq parts and ignores what does not fit', () => {
    assert.deepEqual(readSkssq('202612;20270115;202701'), { period: '202612', deadline: '2027-01-15' });
    assert.deepEqual(readSkssq('202612'), { period: '202612' });
    assert.deepEqual(readSkssq(undefined), {});
  });
  it('without taxPeriod or skssq, the period must come from elsewhere', () => {
    const bare = interfaces.statisticQuery.reply.parse({ createTjbbStatus: '01' });
    assert.throws(() => readStatistic(bare), StatisticReadError);
    assert.equal(readStatistic(bare, '202611').deductionDeadline, '2026-12-15');
  });
});

describe('the protocol profile', () => {
  it('defaults to the best evidence: 1 selects, 0 cancels; confirmation seen as status 05', () => {
    assert.deepEqual(DEFAULT_PROFILE.selectFlag, { select: '1', cancel: '0' });
    assert.deepEqual(DEFAULT_PROFILE.confirmation, { kind: 'statistic-status' });
    assert.deepEqual(DEFAULT_PROFILE.successCodes, ['0000', '0']);
  });
  it('refuses a bad setting naming the source and the field', () => {
    assert.throws(
      () => parseProfile({ selectFlag: { select: '1', cancel: '1' } }, 'tenant.json'),
      (e: Error) => e instanceof ProfileError && /tenant\.json: selectFlag/.test(e.message),
    );
    assert.throws(
      () => parseProfile({ authenticateFlag: 1 }, 'tenant.json'),
      (e: Error) => e instanceof ProfileError && /authenticateFlag/.test(e.message),
    );
    assert.throws(
      () => parseProfile({ stillProcessing: { patterns: ['(unclosed'] } }, 'tenant.json'),
      (e: Error) => e instanceof ProfileError && /\(unclosed/.test(e.message),
    );
  });
  it("reads the seed's 6910 with 没有开启软证书模式 as permanent, a plain 6910 as pending", () => {
    const message = '异步任务处理中，请稍后再查询。[税号:91440300MA5G9GK78Y,没有开启软证书模式]';
    const meaning = classifyReply(DEFAULT_PROFILE, '6910', message);
    assert.equal(meaning.kind, 'permanent');
    assert.match((meaning as { meaning: string }).meaning, /soft-certificate mode/);
    assert.equal(classifyReply(DEFAULT_PROFILE, '6910', '异步任务处理中，请稍后再查询。').kind, 'pending');
    assert.equal(classifyReply(DEFAULT_PROFILE, '9876', '未到统计确认时间').kind, 'retryable');
    assert.equal(classifyReply(DEFAULT_PROFILE, '1002', 'access_token无效或已过期，请重新获取').kind, 'token-expired');
    assert.equal(classifyReply(DEFAULT_PROFILE, '3001', '确认密码错误').kind, 'business');
  });
});

describe('planned against the bureau', () => {
  it('agrees when count and tax match', () => {
    assert.deepEqual(
      checkPlanAgainstBureau({ planned: { count: 3, tax: '39.00' }, bureau: { count: 3, tax: '39.0' }, failed: 0 }),
      { agrees: true },
    );
  });
  it('names authenticateFlag when everything came back selected but the table counts nothing', () => {
    const check = checkPlanAgainstBureau({
      planned: { count: 3, tax: '39.00' },
      bureau: { count: 0, tax: '0.00' },
      failed: 0,
    });
    assert.equal(check.agrees, false);
    assert.match(
      check.problem!,
      /counts 0 deductible invoices \(tax 0\.00\), but the bureau answered 3 invoices \(tax 39\.00\)/,
    );
    assert.match(check.problem!, /authenticateFlag/);
  });
  it('disagrees on tax alone, without blaming the flag when invoices failed', () => {
    const check = checkPlanAgainstBureau({
      planned: { count: 2, tax: '26.00' },
      bureau: { count: 1, tax: '13.00' },
      failed: 1,
    });
    assert.equal(check.agrees, false);
    assert.doesNotMatch(check.problem!, /authenticateFlag/);
    assert.equal(
      checkPlanAgainstBureau({ planned: { count: 2, tax: '26.01' }, bureau: { count: 2, tax: '26.00' }, failed: 0 })
        .agrees,
      false,
    );
  });
  it('compares the count alone when the results carried no tax', () => {
    assert.equal(
      checkPlanAgainstBureau({ planned: { count: 2 }, bureau: { count: 2, tax: '26.00' }, failed: 0 }).agrees,
      true,
    );
  });
  it('places candidates in the bureau categories by the profile, and names each category that differs', () => {
    const lines = [
      { invoiceType: '4', effectiveTaxAmount: '13.00' },
      { invoiceType: '27', effectiveTaxAmount: '6.50' },
      { invoiceType: '12', effectiveTaxAmount: '100.00' },
      { invoiceType: '28', effectiveTaxAmount: '9.00' }, // no category: in the total only
    ];
    const planned = figuresByCategory(lines, DEFAULT_PROFILE.statisticCategories);
    assert.deepEqual(planned, { '01': { count: 2, tax: '19.50' }, '03': { count: 1, tax: '100.00' } });
    const row = (category: string, deductibleCount: number, deductibleTax: string) => ({
      category,
      deductibleCount,
      deductibleTax,
    });
    assert.deepEqual(compareCategories(planned, [row('01', 2, '19.5'), row('03', 1, '100.00')]).problems, []);
    const differing = compareCategories(planned, [row('01', 1, '13.00'), row('03', 1, '100.00'), row('14', 1, '2.00')]);
    assert.deepEqual(differing.problems, [
      "category 01: planned 2 (tax 19.50), the bureau's row 1 (tax 13.00)",
      "category 14: planned 0 (tax 0.00), the bureau's row 1 (tax 2.00)",
    ]);
  });
});
