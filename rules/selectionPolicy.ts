import { compareMoney } from '../protocol/money.js';
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
}

export interface SelectionPlan {
  candidates: SelectInvoiceLine[];
  skipped: Partial<Record<SkipReason, number>>;
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

/** The select line for a candidate: deduct its whole tax amount. */
export function toSelectLine(invoice: PoolInvoice): SelectInvoiceLine {
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
    totalTaxAmount: invoice.totalAmount,
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
  for (const invoice of pool) {
    const reason = skipReason(invoice, scope);
    if (reason) skipped[reason] = (skipped[reason] ?? 0) + 1;
    else chosen.push(invoice);
  }
  chosen.sort(
    (a, b) =>
      a.invoiceDate.localeCompare(b.invoiceDate) ||
      a.invoiceCode.localeCompare(b.invoiceCode) ||
      a.invoiceNo.localeCompare(b.invoiceNo),
  );
  return { candidates: chosen.map(toSelectLine), skipped };
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
