import { Decimal } from 'decimal.js';
import {
  AGRICULTURAL_ONLY_TYPES,
  ALWAYS_DEDUCTIBLE_TYPES,
  SELECT_RESULT_MESSAGES,
  SelectResultCode,
} from '../../protocol/codes.js';
import type { SelectInvoiceLine } from '../../protocol/interfaces.js';
import { lastDayOfPeriod } from '../../protocol/period.js';
import type { StoredInvoice } from '../store.js';

/** The bureau's per-invoice verdict on one line of a 4.05 batch (docs/assumptions.md). Pure. */

export interface SelectContext {
  period: string;
  /** Statistic generating, generated or confirmed: selection is locked. */
  locked: boolean;
  loggedIn: boolean;
  cancel: boolean;
}

export interface SelectVerdict {
  code: SelectResultCode;
  message: string;
  change?: 'select' | 'unselect';
}

const STATUS_CODES: Record<number, SelectResultCode> = {
  1: SelectResultCode.OutOfControl,
  2: SelectResultCode.Void,
  3: SelectResultCode.RedFlushed,
  4: SelectResultCode.Abnormal,
};

const verdict = (code: SelectResultCode, change?: SelectVerdict['change'], message?: string): SelectVerdict => ({
  code,
  message: message ?? SELECT_RESULT_MESSAGES[code],
  ...(change ? { change } : {}),
});

export function isDeductibleType(type: number, agricultural: boolean): boolean {
  return ALWAYS_DEDUCTIBLE_TYPES.includes(type) || (agricultural && AGRICULTURAL_ONLY_TYPES.includes(type));
}

/** The pool invoice a line designates: same number, same code when both have one, type in the line's list. */
export function matchPoolInvoice<I extends Pick<StoredInvoice, 'invoiceCode' | 'invoiceType'>>(
  line: SelectInvoiceLine,
  candidates: readonly I[],
): I | undefined {
  const types = line.invoiceType.split(',').map(Number);
  return candidates.find(
    (c) =>
      (line.invoiceCode === '' || c.invoiceCode === '' || c.invoiceCode === line.invoiceCode) &&
      types.includes(c.invoiceType),
  );
}

export function evaluateSelectLine(
  line: SelectInvoiceLine,
  pool: StoredInvoice | undefined,
  ctx: SelectContext,
): SelectVerdict {
  if (!ctx.loggedIn) return verdict(SelectResultCode.BureauLoginFailed);
  if (ctx.locked) return verdict(SelectResultCode.PeriodLocked);
  if (!pool) return verdict(SelectResultCode.NoSuchInvoice);
  if (ctx.cancel) {
    if (pool.selectStatus !== '1') return verdict(SelectResultCode.Ok, undefined, '发票未勾选，无需撤销');
    if (pool.selectPeriod !== ctx.period) return verdict(SelectResultCode.NotCurrentPeriod);
    return verdict(SelectResultCode.Ok, 'unselect', '撤销勾选成功');
  }
  if (!isDeductibleType(pool.invoiceType, pool.agricultural)) return verdict(SelectResultCode.Abnormal);
  const statusCode = STATUS_CODES[pool.invoiceStatus];
  if (statusCode !== undefined) return verdict(statusCode);
  if (pool.invoiceStatus !== 0 && pool.invoiceStatus !== 7) return verdict(SelectResultCode.Abnormal);
  if (new Decimal(pool.invoiceAmount).isNegative() || new Decimal(pool.totalAmount).isNegative()) {
    return verdict(SelectResultCode.RedLetterInvoice);
  }
  const effective = new Decimal(line.effectiveTaxAmount);
  if (effective.isNegative() || effective.greaterThan(pool.taxAmount)) {
    return verdict(SelectResultCode.InvalidEffectiveTax);
  }
  if (pool.selectStatus === '1') return verdict(SelectResultCode.AlreadySelected);
  if (pool.invoiceDate > lastDayOfPeriod(ctx.period)) return verdict(SelectResultCode.NotCurrentPeriod);
  return verdict(SelectResultCode.Ok, 'select');
}
