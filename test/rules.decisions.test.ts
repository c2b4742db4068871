import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatShanghaiTime } from '../protocol/period.js';
import { approvalDeadline } from '../rules/approvalDeadline.js';
import { DEFAULT_PROFILE } from '../protocol/profile.js';
import { classifySelectItem } from '../rules/selectResult.js';
import { planStatistic, statisticLocksSelection, statisticTotals } from '../rules/statisticPlan.js';

describe('documented select results (selectResult + description)', () => {
  const classify = (selectResult: string, description = '') =>
    classifySelectItem({ selectResult, description }, DEFAULT_PROFILE.selectRetry);
  it('reads "1" as selected, and "1" with 已勾选 as already selected (done either way)', () => {
    assert.equal(classify('1', '勾选成功'), 'selected');
    assert.equal(classify('1', '发票已勾选'), 'already-selected');
  });
  it('sends again what the bureau could not do for now (login lapsed, still selecting)', () => {
    assert.equal(classify('8', '税局登录失败，请重新登录'), 'retry');
    assert.equal(classify('8', '发票勾选中'), 'retry');
  });
  it('treats every other result as a failure, unknown codes included', () => {
    for (const code of ['2', '3', '8', '10', '11', '12', '15', '16', '20', '23', '31', '99']) {
      assert.equal(classify(code, '原因'), 'failed', code);
    }
  });
  it('follows the profile: a tenant code for "retry" is retried', () => {
    assert.equal(classifySelectItem({ selectResult: '35', description: '' }, { codes: ['35'], patterns: [] }), 'retry');
  });
});

describe('statistic plan', () => {
  it('generates when something is selected and nothing is generated', () => {
    assert.equal(planStatistic('01', 3), 'generate');
    assert.equal(planStatistic('22', 3), 'generate');
  });
  it('ends with nothing to deduct when nothing is selected', () => {
    assert.equal(planStatistic('01', 0), 'nothing-to-deduct');
    assert.equal(planStatistic('22', 0), 'nothing-to-deduct');
  });
  it('revokes and regenerates a statistic generated outside the filing window', () => {
    assert.equal(planStatistic('03', 3), 'revoke-then-generate');
  });
  it('waits for a generation in progress, and is ready once generated', () => {
    assert.equal(planStatistic('21', 3), 'wait-while-generating');
    assert.equal(planStatistic('02', 3), 'ready-for-approval');
    assert.equal(planStatistic('05', 3), 'already-confirmed');
  });
  it('knows which statuses lock selection', () => {
    assert.deepEqual(['01', '21', '02', '22', '03', '04', '05'].filter(statisticLocksSelection), [
      '21',
      '02',
      '03',
      '04',
    ]);
  });
  it('asks for approval of a table generated but not confirmable yet (04); confirmation waits', () => {
    assert.equal(planStatistic('04', 3), 'ready-for-approval');
  });
  it('stops on a status it does not know instead of guessing', () => {
    for (const status of ['23', '24', '25', '06', '']) assert.equal(planStatistic(status, 3), 'unknown-status');
  });
  const line = (count: number, amount: string, tax: string) => ({
    category: '01',
    deductibleCount: count,
    deductibleAmount: amount,
    deductibleTax: tax,
    notDeductibleCount: 1,
    notDeductibleAmount: '0.00',
    notDeductibleTax: '0.00',
  });
  it('adds the statistic lines in decimal, where binary floats would be a cent off', () => {
    // Worked by hand: 123456789012345.67 + 0.01 = 123456789012345.68 (floats give .69), and
    // 3 x 99999999999.99 = 299999999999.97.
    const totals = statisticTotals({
      items: [
        line(1, '123456789012345.67', '99999999999.99'),
        line(2, '0.01', '99999999999.99'),
        line(0, '0.00', '99999999999.99'),
      ],
    });
    assert.deepEqual(totals, {
      deductibleCount: 3,
      deductibleAmount: '123456789012345.68',
      deductibleTax: '299999999999.97',
      notDeductibleCount: 3,
    });
  });
  it('totals equal an integer-cent sum of the lines for any amounts', () => {
    const cents = fc.bigInt({ min: 0n, max: 10n ** 15n - 1n });
    const yuan = (c: bigint) => `${c / 100n}.${String(c % 100n).padStart(2, '0')}`;
    fc.assert(
      fc.property(fc.array(fc.tuple(cents, cents), { maxLength: 30 }), (rows) => {
        const totals = statisticTotals({ items: rows.map(([amount, tax]) => line(1, yuan(amount), yuan(tax))) });
        return (
          totals.deductibleAmount === yuan(rows.reduce((s, [a]) => s + a, 0n)) &&
          totals.deductibleTax === yuan(rows.reduce((s, [, t]) => s + t, 0n)) &&
          totals.deductibleCount === rows.length
        );
      }),
      { numRuns: 300, seed: 17 },
    );
  });
  it("prefers the bureau's total row: categories do not cover every invoice type", () => {
    const total = { ...line(5, '500.00', '65.00'), category: '99' };
    assert.deepEqual(statisticTotals({ items: [line(3, '300.00', '39.00')], total }), {
      deductibleCount: 5,
      deductibleAmount: '500.00',
      deductibleTax: '65.00',
      notDeductibleCount: 1,
    });
  });
});

describe('approval deadline', () => {
  it('defaults to one day before selection closes, in Shanghai time', () => {
    // Selection for 202611 closes at the end of 2026-12-15 Shanghai time = 2026-12-15T16:00Z.
    assert.equal(approvalDeadline('2026-12-15').toISOString(), '2026-12-14T16:00:00.000Z');
  });
  it('takes an explicit instant as given', () => {
    assert.equal(approvalDeadline('2026-12-15', '2026-12-10T09:00:00+08:00').toISOString(), '2026-12-10T01:00:00.000Z');
  });
});

describe('times shown to people', () => {
  it('are Beijing time, whatever the machine zone', () => {
    assert.equal(formatShanghaiTime('2026-12-14T16:00:00.000Z'), '2026-12-15 00:00 北京时间');
    assert.equal(formatShanghaiTime(new Date('2026-12-05T02:30:00Z')), '2026-12-05 10:30 北京时间');
  });
});
