import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAccountingRules } from '../rules/accountingRulesSchema.js';
import {
  batchesByRule,
  compareKeys,
  decidePage,
  firstPageNo,
  isAfter,
  outOfOrder,
  pageBookings,
  type BookingLine,
} from '../rules/accountingPages.js';
import { TEST_PERIOD } from './support/calendar.js';
import { poolInvoice } from './support/poolInvoice.js';

const rules = parseAccountingRules(
  JSON.parse(readFileSync(new URL('../config/accounting-rules.example.json', import.meta.url), 'utf8')),
);
const day = (d: number) => `${TEST_PERIOD.slice(0, 4)}-${TEST_PERIOD.slice(4)}-${String(d).padStart(2, '0')}`;
const key = (invoiceDate: string, invoiceNo: string, invoiceCode = '') => ({ invoiceDate, invoiceCode, invoiceNo });
const line = (invoiceNo: string, rule = 'expense-claims'): BookingLine => ({
  invoiceCode: '',
  invoiceNo,
  accountPeriod: TEST_PERIOD,
  rule,
});
const lineKey = (l: { invoiceCode: string; invoiceNo: string }) => `${l.invoiceCode}|${l.invoiceNo}`;

describe('auto-accounting pages (pure)', () => {
  it('orders pool keys by date, code and number as the pool query does, by code points', () => {
    assert.ok(compareKeys(key(day(1), '9'), key(day(2), '1')) < 0);
    assert.ok(compareKeys(key(day(2), '1', 'B'), key(day(2), '0', 'a')) < 0, 'uppercase before lowercase, as SQL');
    assert.equal(compareKeys(key(day(2), '5'), key(day(2), '5')), 0);
    assert.ok(isAfter(key(day(2), '6'), key(day(2), '5')));
    assert.ok(!isAfter(key(day(2), '5'), key(day(2), '5')));
    assert.ok(isAfter(key(day(1), '1'), undefined));
  });

  it('finds the first invoice out of order, also across pages', () => {
    assert.equal(outOfOrder([key(day(1), '1'), key(day(1), '2'), key(day(2), '1')]), undefined);
    assert.deepEqual(outOfOrder([key(day(1), '1'), key(day(1), '1')])?.row, key(day(1), '1'));
    assert.deepEqual(outOfOrder([key(day(2), '1'), key(day(1), '9')]), {
      row: key(day(1), '9'),
      after: key(day(2), '1'),
    });
    assert.deepEqual(outOfOrder([key(day(1), '1')], key(day(1), '2'))?.after, key(day(1), '2'));
  });

  it('starts reading at the page holding the first invoice after the kept ones', () => {
    assert.equal(firstPageNo(0, 1000), 1);
    assert.equal(firstPageNo(999, 1000), 1);
    assert.equal(firstPageNo(1000, 1000), 2);
    assert.equal(firstPageNo(2500, 1000), 3);
    assert.equal(firstPageNo(-3, 1000), 1);
  });

  it('decides a page by the rules and counts what stays unbooked on its last date', () => {
    const rows = [
      poolInvoice({ invoiceNo: '1', invoiceDate: day(3), boundBillType: '1' }), // expense-claims
      poolInvoice({ invoiceNo: '2', invoiceDate: day(4), boundBillType: '2' }), // skip travel-client-paid
      poolInvoice({ invoiceNo: '3', invoiceDate: day(5), boundBillType: '2' }), // skip, on the last date
      poolInvoice({ invoiceNo: '4', invoiceDate: day(5), boundBillType: '3', invoiceType: 29 }), // invoiceMonth
      poolInvoice({ invoiceNo: '5', invoiceDate: day(5), dataSource: '1', boundBillType: '0' }), // skip unbound
    ];
    const page = decidePage(rules, rows, '209912');
    assert.deepEqual(
      page.toBook.map((l) => [l.invoiceNo, l.rule, l.accountPeriod]),
      [
        ['1', 'expense-claims', '209912'],
        ['4', 'travel-not-client-paid', TEST_PERIOD],
      ],
    );
    assert.deepEqual(page.skippedByRule, { 'travel-client-paid': 2, 'unbound-downloaded': 1 });
    assert.equal(page.noRule, 0);
    assert.equal(page.leftOnEndDate, 2);
    assert.equal(decidePage(rules, rows.slice(0, 3), '209912', day(9)).leftOnEndDate, 0, 'a given end date');
  });

  it('books a fresh page up to the run limit and defers the rest', () => {
    const toBook = ['1', '2', '3', '4'].map((n) => line(n));
    const plan = pageBookings(toBook, { sent: new Set(), sentCount: 0 }, 3, lineKey);
    assert.deepEqual(
      plan.fresh.map((l) => l.invoiceNo),
      ['1', '2', '3'],
    );
    assert.deepEqual([plan.resend.length, plan.confirmed, plan.deferred], [0, 0, 1]);
  });

  it('a retried page sends nothing that got a taskNo; of an unanswered batch, what the pool shows booked is counted', () => {
    // Attempt 1 sent 1,2 (taskNo) and 3,4,5 without an answer; the pool now shows 1, 3 and 4 booked.
    const unbookedNow = ['2', '5', '6', '7', '8'].map((n) => line(n));
    const plan = pageBookings(
      unbookedNow,
      { sent: new Set(['|1', '|2']), sentCount: 2, inFlight: { rule: 'expense-claims', keys: ['|3', '|4', '|5'] } },
      7,
      lineKey,
    );
    assert.deepEqual(
      plan.resend.map((l) => l.invoiceNo),
      ['5'],
      'still unbooked: sent again',
    );
    assert.equal(plan.confirmed, 2);
    // The limit of 7 counts the 2 sent and the 3 in flight: room for 2 more.
    assert.deepEqual(
      plan.fresh.map((l) => l.invoiceNo),
      ['6', '7'],
    );
    assert.equal(plan.deferred, 1);
  });

  it('batches one rule at a time, at most batchSize lines, in pool order within a rule', () => {
    const lines = [line('1', 'a'), line('2', 'b'), line('3', 'a'), line('4', 'a'), line('5', 'b')];
    assert.deepEqual(
      batchesByRule(lines, 2).map((b) => [b.rule, b.lines.map((l) => l.invoiceNo)]),
      [
        ['a', ['1', '3']],
        ['a', ['4']],
        ['b', ['2', '5']],
      ],
    );
    assert.deepEqual(batchesByRule([], 2), []);
  });
});
