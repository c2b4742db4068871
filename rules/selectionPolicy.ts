import { compareMoney, sumMoney } from '../protocol/money.js';
import { lastDayOfPeriod } from '../protocol/period.js';
import type { PoolInvoice, SelectInvoiceLine } from '../protocol/interfaces.js';
import { isDeductibleType, isSelectableStatus } from './deductibility.js';
import { passesPoolFilter, type PoolFilter } from './poolFilter.js';

/** Why a pool invoice is not a candidate for this period's selection. */
export type SkipReason =
  | 'already-selected'
  | 'type-not-in-scope'
  | 'dimension-not-in-scope'
  | 'type-not-deductible'
  | 'status-not-selectable'
  | 'red-letter'
  | 'issued-after-period'
  | 'past-deadline';

export interface SelectionScope {
  taxPeriod: string;
  /** Last day (YYYY-MM-DD, Shanghai) selection is open for this period. */
  deductionDeadline: string;
  /** Today in Shanghai (YYYY-MM-DD), by the bureau's clock where known. */
  today: string;
  /**
   * Keep invoices already selected for this same period as candidates (they answer 19, already
   * selected). A first selection round does this so that a retried round rebuilds exactly the
   * same batches, and so the same requestIds (docs/assumptions.md, idempotent writes).
   */
  resubmitSelectedForPeriod?: boolean;
  /** Restrict to these invoice types; undefined = every deductible type. */
  invoiceTypes?: readonly number[];
  /** Restrict by the pool's business dimensions (rules/poolFilter.ts); undefined = any dimensions. */
  poolFilter?: PoolFilter;
  /** What 4.05's totalTaxAmount carries (the protocol profile's choice); default the total. */
  totalTaxAmount?: 'tax' | 'total';
}

export interface SelectionPlan {
  candidates: SelectInvoiceLine[];
  skipped: Partial<Record<SkipReason, number>>;
  /**
   * Invoices the source shows selected for this period that are not candidates here: the bureau's
   * table counts them, so the month's plan does too (rules/plannedVersusBureau.ts).
   */
  selectedForPeriodElsewhere: { count: number; tax: string };
}

/** Why `invoice` can't be selected for `scope`, or undefined when it is a candidate. */
export function skipReason(invoice: PoolInvoice, scope: SelectionScope): SkipReason | undefined {
  if (invoice.selectStatus === '1') {
    if (!scope.resubmitSelectedForPeriod || invoice.selectPeriod !== scope.taxPeriod) return 'already-selected';
  }
  if (scope.today > scope.deductionDeadline) return 'past-deadline';
  if (scope.invoiceTypes && !scope.invoiceTypes.includes(invoice.invoiceType)) return 'type-not-in-scope';
  if (!passesPoolFilter(invoice, scope.poolFilter)) return 'dimension-not-in-scope';
  if (!isDeductibleType(invoice.invoiceType, invoice.agricultural)) return 'type-not-deductible';
  if (!isSelectableStatus(invoice.invoiceStatus)) return 'status-not-selectable';
  if (compareMoney(invoice.totalAmount, '0') < 0) return 'red-letter';
  // An invoice issued after the period's last day belongs to a later period (DESIGN.md §4).
  if (invoice.invoiceDate > lastDayOfPeriod(scope.taxPeriod)) return 'issued-after-period';
  return undefined;
}

/**
 * The select line for a candidate: deduct its whole tax amount. totalTaxAmount carries the total
 * including tax (价税合计) or the tax, as the protocol profile reads the field (docs/protocol.md).
 */
export function toSelectLine(invoice: PoolInvoice, totalTaxAmount: 'tax' | 'total' = 'total'): SelectInvoiceLine {
  return {
    salerName: invoice.salerName,
    salerTaxNo: invoice.salerTaxNo,
    invoiceType: String(invoice.invoiceType),
    invoiceCode: invoice.invoiceCode,
    invoiceNo: invoice.invoiceNo,
    etaxInvoiceNo: invoice.etaxInvoiceNo,
    invoiceDate: invoice.invoiceDate,
    invoiceAmount: invoice.invoiceAmount,
    effectiveTaxAmount: invoice.taxAmount,
    totalTaxAmount: totalTaxAmount === 'tax' ? invoice.taxAmount : invoice.totalAmount,
    notDeductibleType: '',
  };
}

/**
 * Which pool invoices to select for the period, in a stable order (date, then number) so that
 * the same pool always yields the same batches.
 */
export function planSelection(pool: readonly PoolInvoice[], scope: SelectionScope): SelectionPlan {
  const skipped: Partial<Record<SkipReason, number>> = {};
  const chosen: PoolInvoice[] = [];
  const elsewhere: string[] = [];
  for (const invoice of pool) {
    const reason = skipReason(invoice, scope);
    if (!reason) chosen.push(invoice);
    else {
      skipped[reason] = (skipped[reason] ?? 0) + 1;
      if (invoice.selectStatus === '1' && invoice.selectPeriod === scope.taxPeriod) elsewhere.push(invoice.taxAmount);
    }
  }
  chosen.sort(
    (a, b) =>
      a.invoiceDate.localeCompare(b.invoiceDate) ||
      a.invoiceCode.localeCompare(b.invoiceCode) ||
      a.invoiceNo.localeCompare(b.invoiceNo),
  );
  return {
    candidates: chosen.map((i) => toSelectLine(i, scope.totalTaxAmount)),
    skipped,
    selectedForPeriodElsewhere: { count: elsewhere.length, tax: sumMoney(elsewhere) },
  };
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
