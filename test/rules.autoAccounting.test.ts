import assert from 'node:assert/strict';
import { poolInvoice } from './support/poolInvoice.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../client/cli.js';
import { AccountingRulesError, parseAccountingRules } from '../rules/accountingRulesSchema.js';
import { planBookings } from '../activities/accountingActivities.js';
import { allCombinations, analyzeRules, decide, formatRuleAnalysis } from '../rules/autoAccounting.js';

const example = () =>
  parseAccountingRules(
    JSON.parse(readFileSync(new URL('../config/accounting-rules.example.json', import.meta.url), 'utf8')),
  );

const invoice = (overrides: Parameters<typeof poolInvoice>[0] = {}) =>
  poolInvoice({
    invoiceDate: '2026-10-20',
    dataSource: '2',
    boundBillType: '1',
    boundBillNo: 'BX202610000001',
    ...overrides,
  });

describe('auto-accounting rules', () => {
  it('the example file is valid, complete (no gaps) and has no overlaps', () => {
    const analysis = analyzeRules(example());
    assert.equal(analysis.combinations, 2 * 7 * 12);
    assert.deepEqual(analysis.overlaps, []);
    assert.deepEqual(analysis.gaps, []);
    assert.match(formatRuleAnalysis(analysis), /Overlaps: none[\s\S]*Gaps: none \(all 168 combinations/);
  });

  it('decides each business scenario of the seed by the bound document type', () => {
    const rules = example();
    assert.deepEqual(decide(rules, invoice({ boundBillType: '1' }), '202611'), {
      kind: 'book',
      rule: 'expense-claims',
      accountPeriod: '202611',
    });
    assert.deepEqual(decide(rules, invoice({ boundBillType: '2', invoiceType: 28 }), '202611'), {
      kind: 'skip',
      rule: 'travel-client-paid',
    });
    // invoiceMonth: booked into the month of the invoice date, not the run's period.
    assert.deepEqual(decide(rules, invoice({ boundBillType: '3', invoiceType: 29 }), '202611'), {
      kind: 'book',
      rule: 'travel-not-client-paid',
      accountPeriod: '202610',
    });
    assert.equal(decide(rules, invoice({ boundBillType: '4', invoiceType: 4 }), '202611').kind, 'book');
    for (const bill of ['5', '6'] as const) {
      const d = decide(rules, invoice({ boundBillType: bill }), '202611');
      assert.deepEqual(d, { kind: 'book', rule: 'procurement-and-subcontracting', accountPeriod: '202610' });
    }
    assert.deepEqual(decide(rules, invoice({ boundBillType: '0', dataSource: '1' }), '202611'), {
      kind: 'skip',
      rule: 'unbound-downloaded',
    });
  });

  it('reports gaps by data source and document type, listing the uncovered invoice types', () => {
    const rules = parseAccountingRules({
      rules: [
        { name: 'expenses', match: { boundBillType: ['ExpenseClaim'] }, action: 'book' },
        { name: 'suppliers', match: { boundBillType: ['SupplierPayment'], invoiceType: [4, 27] }, action: 'book' },
      ],
    });
    const a = analyzeRules(rules);
    assert.equal(a.overlaps.length, 0);
    const supplierGap = a.gaps.find((g) => g.dataSource === '1' && g.boundBillType === '4');
    assert.deepEqual(supplierGap?.invoiceTypes, [1, 2, 3, 12, 15, 21, 26, 28, 29, 83]);
    assert.equal(
      a.gaps.some((g) => g.boundBillType === '1'),
      false,
      'expense claims are fully covered',
    );
    assert.equal(a.uncovered, allCombinations().length - 2 * 12 - 2 * 2);
    assert.match(formatRuleAnalysis(a), /Gaps: 140 of 168 combinations have no rule/);
    assert.deepEqual(decide(rules, invoice({ boundBillType: '6' }), '202611'), { kind: 'no-rule' });
  });

  it('reports two rules that decide the same combination differently, and refuses to guess', () => {
    const rules = parseAccountingRules({
      rules: [
        { name: 'collected', match: { dataSource: ['Collected'] }, action: 'book' },
        { name: 'no-travel-client', match: { boundBillType: ['TravelClaimClientPaid'] }, action: 'skip' },
        { name: 'collected-too', match: { dataSource: ['Collected'], invoiceType: [27] }, action: 'book' },
      ],
    });
    const a = analyzeRules(rules);
    assert.equal(a.overlaps.length, 2, 'with and without the agreeing third rule');
    const overlap = a.overlaps.find((o) => o.rules.length === 2)!;
    assert.deepEqual(overlap.rules, ['collected', 'no-travel-client']);
    assert.deepEqual(overlap.outcomes, ['book:runPeriod', 'skip']);
    assert.equal(overlap.combinations, 11, 'every known type but 27 (where a third rule also matches)');
    assert.match(formatRuleAnalysis(a), /rules "collected", "no-travel-client" \(book:runPeriod vs skip\)/);
    const d = decide(rules, invoice({ dataSource: '2', boundBillType: '2', invoiceType: 4 }), '202611');
    assert.deepEqual(d, { kind: 'conflict', rules: ['collected', 'no-travel-client'] });
    // Rules with the same outcome may overlap freely.
    assert.deepEqual(decide(rules, invoice({ dataSource: '2', boundBillType: '1' }), '202611'), {
      kind: 'book',
      rule: 'collected',
      accountPeriod: '202611',
    });
  });

  it('names the rule and the field in validation errors', () => {
    const bad = {
      rules: [
        { name: 'ok', match: {}, action: 'book' },
        { name: 'typo', match: { boundBillType: ['ExpenseClam'] }, action: 'book' },
        { name: 'bad-type', match: { invoiceType: [99] }, action: 'skip' },
        { name: 'ok', match: {}, action: 'book', accountPeriod: 'nextMonth' },
        { match: {}, action: 'file' },
      ],
    };
    let message = '';
    try {
      parseAccountingRules(bad, 'rules.json');
    } catch (e) {
      assert.ok(e instanceof AccountingRulesError);
      message = e.message;
    }
    assert.match(message, /^rules\.json is invalid:/);
    assert.match(message, /rule "typo" \(rules\[1\]\) field match\.boundBillType\[0\]: .*ExpenseClaim/);
    assert.match(message, /rule "bad-type" \(rules\[2\]\) field match\.invoiceType\[0\]: unknown invoice type/);
    assert.match(message, /rule "ok" \(rules\[3\]\) field accountPeriod/);
    assert.match(message, /rules\[4\] field action/);
  });

  it('rejects duplicate rule names and unknown fields', () => {
    assert.throws(
      () =>
        parseAccountingRules({
          rules: [
            { name: 'a', match: {}, action: 'skip' },
            { name: 'a', match: {}, action: 'skip' },
          ],
        }),
      /rule "a" \(rules\[1\]\) field name: duplicate rule name \(also rules\[0\]\)/,
    );
    assert.throws(
      () => parseAccountingRules({ rules: [{ name: 'a', match: { billType: ['None'] }, action: 'skip' }] }),
      /rule "a" \(rules\[0\]\) field match: .*billType/,
    );
  });

  it('plans bookings in a stable order, counts skips by rule, and defers beyond the per-run cap', () => {
    const rules = example();
    const pool = [
      invoice({ invoiceNo: '3', invoiceDate: '2026-10-03', boundBillType: '1' }),
      invoice({ invoiceNo: '1', invoiceDate: '2026-10-01', boundBillType: '4' }),
      invoice({ invoiceNo: '2', invoiceDate: '2026-10-02', boundBillType: '2' }),
      invoice({ invoiceNo: '4', invoiceDate: '2026-10-04', boundBillType: '0' }),
      invoice({ invoiceNo: '5', invoiceDate: '2026-10-05', boundBillType: '5' }),
    ];
    const plan = planBookings(rules, pool, '202611', 2);
    assert.equal(plan.examined, 5);
    assert.deepEqual(
      plan.toBook.map((l) => [l.invoiceNo, l.rule, l.accountPeriod]),
      [
        ['1', 'supplier-payments', '202611'],
        ['3', 'expense-claims', '202611'],
      ],
    );
    assert.equal(plan.deferred, 1);
    assert.deepEqual(plan.skippedByRule, { 'travel-client-paid': 1, 'unbound-collected': 1 });
    assert.equal(plan.noRule, 0);
  });
});

describe('accounting check-rules (CLI)', () => {
  async function checkRules(file: string): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await runCli(['node', 'cli', 'accounting', 'check-rules', '--rules', file], {
      out: (t) => void (out += t),
      err: (t) => void (err += t),
      env: {},
      connect: () => Promise.reject(new Error('check-rules must not contact Temporal')),
    });
    return { code, out, err };
  }

  it('reports a complete rule set', async () => {
    const r = await checkRules(fileURLToPath(new URL('../config/accounting-rules.example.json', import.meta.url)));
    assert.equal(r.code, 0);
    assert.match(r.out, /7 rules\nOverlaps: none[\s\S]*Gaps: none/);
  });

  it('exits 2 on overlapping rules and on invalid files, naming the rules', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-'));
    const overlapping = join(dir, 'overlap.json');
    writeFileSync(
      overlapping,
      JSON.stringify({
        rules: [
          { name: 'all', match: {}, action: 'book' },
          { name: 'travel', match: { boundBillType: ['TravelClaimClientPaid'] }, action: 'skip' },
        ],
      }),
    );
    const r = await checkRules(overlapping);
    assert.equal(r.code, 2);
    assert.match(r.out, /rules "all", "travel" \(book:runPeriod vs skip\) on 24 combination/);
    const invalid = join(dir, 'invalid.json');
    writeFileSync(invalid, '{"rules": [{"name": "x", "match": {}, "action": "book", "accountPeriod": "later"}]}');
    const bad = await checkRules(invalid);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /rule "x" \(rules\[0\]\) field accountPeriod/);
    rmSync(dir, { recursive: true });
  });
});
