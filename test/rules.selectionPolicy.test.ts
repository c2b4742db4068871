import assert from 'node:assert/strict';
import { poolInvoice } from './support/poolInvoice.js';
import { chunk, planSelection, skipReason, type SelectionScope } from '../rules/selectionPolicy.js';

const scope: SelectionScope = { taxPeriod: '202611', deductionDeadline: '2026-12-15', today: '2026-12-05' };

const invoice = poolInvoice;

describe('selection policy', () => {
  it('selects a normal deductible invoice of the period, deducting its whole tax', () => {
    const plan = planSelection([invoice()], scope);
    assert.equal(plan.candidates.length, 1);
    assert.deepEqual(plan.skipped, {});
    const line = plan.candidates[0]!;
    assert.equal(line.invoiceType, '27');
    assert.equal(line.effectiveTaxAmount, '13.00');
    assert.equal(line.totalTaxAmount, '113.00');
    assert.equal(line.invoiceAmount, '100.00');
  });

  for (const type of [2, 4, 12, 15, 21, 27, 28, 29, 83]) {
    it(`treats type ${type} as deductible`, () =>
      assert.equal(skipReason(invoice({ invoiceType: type }), scope), undefined));
  }
  for (const type of [1, 3, 26]) {
    it(`treats ordinary type ${type} as deductible only when agricultural`, () => {
      assert.equal(skipReason(invoice({ invoiceType: type }), scope), 'type-not-deductible');
      assert.equal(skipReason(invoice({ invoiceType: type, agricultural: true }), scope), undefined);
    });
  }
  it('refuses unknown types', () =>
    assert.equal(skipReason(invoice({ invoiceType: 99 }), scope), 'type-not-deductible'));

  it('selects only normal (0) and partly red-flushed (7) invoices', () => {
    const selectable = [0, 1, 2, 3, 4, 7].filter((s) => skipReason(invoice({ invoiceStatus: s }), scope) === undefined);
    assert.deepEqual(selectable, [0, 7]);
  });

  it('skips invoices issued after the last day of the period', () => {
    assert.equal(skipReason(invoice({ invoiceDate: '2026-11-30' }), scope), undefined);
    assert.equal(skipReason(invoice({ invoiceDate: '2026-12-01' }), scope), 'issued-after-period');
  });

  it('keeps old invoices (no age limit, like the seed sample from 2023)', () => {
    assert.equal(skipReason(invoice({ invoiceDate: '2023-08-16' }), scope), undefined);
  });

  it('skips already selected invoices, red-letter invoices and everything after the deadline', () => {
    assert.equal(skipReason(invoice({ selectStatus: '1' }), scope), 'already-selected');
    assert.equal(skipReason(invoice({ totalAmount: '-113.00' }), scope), 'red-letter');
    assert.equal(skipReason(invoice(), { ...scope, today: '2026-12-16' }), 'past-deadline');
    assert.equal(skipReason(invoice(), { ...scope, today: '2026-12-15' }), undefined);
  });

  it('never proposes an invoice selected for this or another period again, and counts those of this period', () => {
    const selectedHere = invoice({ invoiceNo: '1', selectStatus: '1', selectPeriod: '202611', taxAmount: '13.00' });
    const selectedBefore = invoice({ invoiceNo: '2', selectStatus: '1', selectPeriod: '202610' });
    assert.equal(skipReason(selectedHere, scope), 'already-selected');
    assert.equal(skipReason(selectedBefore, scope), 'already-selected');
    const plan = planSelection([selectedHere, selectedBefore, invoice({ invoiceNo: '3' })], scope);
    assert.deepEqual(
      plan.candidates.map((c) => c.invoiceNo),
      ['3'],
    );
    assert.deepEqual(plan.selectedForPeriodElsewhere, { count: 1, tax: '13.00' });
  });

  it('restricts to the requested invoice types', () => {
    const s = { ...scope, invoiceTypes: [4] };
    assert.equal(skipReason(invoice({ invoiceType: 27 }), s), 'type-not-in-scope');
    assert.equal(skipReason(invoice({ invoiceType: 4 }), s), undefined);
  });

  it('counts skip reasons and orders candidates stably by date then number', () => {
    const pool = [
      invoice({ invoiceNo: '3', invoiceDate: '2026-11-02' }),
      invoice({ invoiceNo: '2', invoiceDate: '2026-11-01' }),
      invoice({ invoiceNo: '1', invoiceDate: '2026-11-02' }),
      invoice({ invoiceNo: '4', invoiceStatus: 2 }),
      invoice({ invoiceNo: '5', invoiceStatus: 1 }),
      invoice({ invoiceNo: '6', invoiceType: 1 }),
    ];
    const plan = planSelection(pool, scope);
    assert.deepEqual(
      plan.candidates.map((c) => c.invoiceNo),
      ['2', '1', '3'],
    );
    assert.deepEqual(plan.skipped, { 'status-not-selectable': 2, 'type-not-deductible': 1 });
    assert.deepEqual(planSelection([...pool].reverse(), scope).candidates, plan.candidates);
  });

  it('chunks into batches of at most the given size', () => {
    assert.deepEqual(
      chunk([1, 2, 3, 4, 5], 2).map((c) => c.length),
      [2, 2, 1],
    );
    assert.deepEqual(chunk([], 2000), []);
  });
});
