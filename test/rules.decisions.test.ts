import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatShanghaiTime } from '../protocol/period.js';
import { approvalDeadline } from '../rules/approvalDeadline.js';
import { classifySelectResult } from '../rules/selectResult.js';
import { planStatistic, statisticLocksSelection, statisticTotals } from '../rules/statisticPlan.js';

describe('select result codes', () => {
  it('reads 1 as selected and 19 (already selected) as done', () => {
    assert.equal(classifySelectResult(1), 'selected');
    assert.equal(classifySelectResult(19), 'already-selected');
  });
  it('retries 35 (selecting) and 36 (bureau login failed)', () => {
    assert.equal(classifySelectResult(35), 'retry');
    assert.equal(classifySelectResult(36), 'retry');
  });
  it('treats the bureau refusals as failures', () => {
    for (const code of [2, 3, 4, 5, 11, 12, 15, 16, 18, 20, 24]) assert.equal(classifySelectResult(code), 'failed');
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
    assert.deepEqual(['01', '21', '02', '22', '03', '05'].filter(statisticLocksSelection), ['21', '02', '03']);
  });
  const line = (count: number, amount: string, tax: string) => ({
    invoiceType: 27,
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
    const totals = statisticTotals([
      line(1, '123456789012345.67', '99999999999.99'),
      line(2, '0.01', '99999999999.99'),
      line(0, '0.00', '99999999999.99'),
    ]);
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
        const totals = statisticTotals(rows.map(([amount, tax]) => line(1, yuan(amount), yuan(tax))));
        return (
          totals.deductibleAmount === yuan(rows.reduce((s, [a]) => s + a, 0n)) &&
          totals.deductibleTax === yuan(rows.reduce((s, [, t]) => s + t, 0n)) &&
          totals.deductibleCount === rows.length
        );
      }),
      { numRuns: 300, seed: 17 },
    );
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
