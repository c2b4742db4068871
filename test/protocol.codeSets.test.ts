import assert from 'node:assert/strict';
import { codeSet, codesOf } from '../protocol/codeSet.js';
import {
  ACCOUNT_RESULT_MESSAGES,
  AccountResultCode,
  AGRICULTURAL_ONLY_TYPES,
  ALWAYS_DEDUCTIBLE_TYPES,
  BOUND_BILL_TYPE_NAMES,
  BOUND_BILL_TYPES,
  INVOICE_TYPE_NAMES,
  InvoiceType,
  invoiceTypeName,
  SELECT_RESULT_MESSAGES,
  SelectResultCode,
} from '../protocol/codes.js';
import { isDeductibleType } from '../rules/deductibility.js';

describe('code sets: each code written once with its label', () => {
  it('codeSet gives the codes by name and the labels by code', () => {
    const set = codeSet({ Yes: [1, 'ja'], No: ['n', 'nein'] });
    assert.deepEqual(set.codes, { Yes: 1, No: 'n' });
    assert.deepEqual(set.labels, { 1: 'ja', n: 'nein' });
    assert.ok(Object.isFrozen(set.codes) && Object.isFrozen(set.labels));
    assert.deepEqual(codesOf({ A: { code: 7, other: 'x' } }), { A: 7 });
  });

  it('every selection result code has the message the bureau uses for it', () => {
    assert.equal(Object.keys(SELECT_RESULT_MESSAGES).length, Object.keys(SelectResultCode).length);
    assert.equal(SELECT_RESULT_MESSAGES[SelectResultCode.Ok], '勾选成功');
    assert.equal(SELECT_RESULT_MESSAGES[SelectResultCode.PeriodLocked], '当前所属期已生成统计表，已锁定勾选');
    assert.equal(SELECT_RESULT_MESSAGES[SelectResultCode.BureauLoginFailed], '税局登录失败');
    assert.equal(ACCOUNT_RESULT_MESSAGES[AccountResultCode.AlreadyBooked], '发票已入账，不可重复入账');
    assert.deepEqual(BOUND_BILL_TYPES, Object.keys(BOUND_BILL_TYPE_NAMES));
  });

  it('every invoice type has a name and exactly one deduction rule', () => {
    const codes = Object.values(InvoiceType);
    assert.deepEqual(Object.keys(INVOICE_TYPE_NAMES).map(Number), codes);
    for (const code of codes) assert.ok(invoiceTypeName(code), `type ${code} has a name`);
    assert.equal(invoiceTypeName(99), undefined);
    assert.deepEqual(
      [...ALWAYS_DEDUCTIBLE_TYPES].sort((a, b) => a - b),
      [2, 4, 12, 15, 21, 27, 28, 29, 83],
    );
    assert.deepEqual(
      [...AGRICULTURAL_ONLY_TYPES].sort((a, b) => a - b),
      [1, 3, 26],
    );
    assert.equal(ALWAYS_DEDUCTIBLE_TYPES.length + AGRICULTURAL_ONLY_TYPES.length, codes.length);
  });

  it('ordinary invoices deduct only for agricultural products; special ones always; unknown types never', () => {
    assert.equal(isDeductibleType(InvoiceType.ElectronicSpecial, false), true);
    assert.equal(isDeductibleType(InvoiceType.AllElectronicOrdinary, false), false);
    assert.equal(isDeductibleType(InvoiceType.AllElectronicOrdinary, true), true);
    assert.equal(isDeductibleType(InvoiceType.PaperOrdinary, true), true);
    assert.equal(isDeductibleType(99, true), false);
  });
});
