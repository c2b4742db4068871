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
  /** Restrict to these invoice types; undefined = every deductible type. */
  invoiceTypes?: readonly number[];
  /** Restrict by the pool's business dimensions (rules/poolFilter.ts); undefined = any dimensions. */
  poolFilter?: PoolFilter;
  /** What 4.05's totalTaxAmount carries (the protocol profile's choice); default the total. */
  totalTaxAmount?: 'tax' | 'total';
}

/**
 * An invoice of any candidate source, read as a pool invoice. `line` is the 4.05 line to send as
 * is (an invoices file's own figures); `row` the file's row number, for reporting skipped rows.
 */
export type CandidateInvoice = PoolInvoice & { line?: SelectInvoiceLine; row?: number };

export interface SelectionPlan {
  candidates: SelectInvoiceLine[];
  skipped: Partial<Record<SkipReason, number>>;
  /** Row numbers of skipped invoices that came with one (an invoices file), by reason. */
  skippedRows: Partial<Record<SkipReason, number[]>>;
  /**
   * Invoices the source shows selected for this period that are not candidates here: the bureau's
   * table counts them, so the month's plan does too (rules/plannedVersusBureau.ts).
   */
  selectedForPeriodElsewhere: { count: number; tax: string };
}

/** Why `invoice` can't be selected for `scope`, or undefined when it is a candidate. */
export function skipReason(invoice: PoolInvoice, scope: SelectionScope): SkipReason | undefined {
  if (invoice.selectStatus === '1') return 'already-selected';
  if (scope.today > scope.deductionDeadline) return 'past-deadline';
  if (scope.invoiceTypes && !scope.invoiceTypes.includes(invoice.invoiceType)) return 'type-not-in-scope';
  if (!passesPoolFilter(invoice, scope.poolFilter)) return 'dimension-not-in-scope';
  if (!isDeductibleType(invoice.invoiceType, invoice.agricultural)) return 'type-not-deductible';
  if (!isSelectableStatus(invoice.invoiceStatus)) return 'status-not-selectable';
  if (compareMoney(invoice.totalAmount, '0') < 0) return 'red-letter';
  // An invoice issued after the period's last day belongs to a later period (docs/assumptions.md).
  if (invoice.invoiceDate > lastDayOfPeriod(scope.taxPeriod)) return 'issued-after-period';
  return undefined;
}

/**
 * The select line for a candidate: deduct its whole tax amount. totalTaxAmount carries the total
 * including tax (价税合计) or the tax, as the protocol profile reads the field (docs/protocol.md).
 */
export function toSelectLine(invoice: CandidateInvoice, totalTaxAmount: 'tax' | 'total' = 'total'): SelectInvoiceLine {
  if (invoice.line) return invoice.line;
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
export function planSelection(pool: readonly CandidateInvoice[], scope: SelectionScope): SelectionPlan {
  const skipped: Partial<Record<SkipReason, number>> = {};
  const skippedRows: Partial<Record<SkipReason, number[]>> = {};
  const chosen: CandidateInvoice[] = [];
  const elsewhere: string[] = [];
  for (const invoice of pool) {
    const reason = skipReason(invoice, scope);
    if (!reason) chosen.push(invoice);
    else {
      skipped[reason] = (skipped[reason] ?? 0) + 1;
      if (invoice.row !== undefined) (skippedRows[reason] ??= []).push(invoice.row);
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
    skippedRows,
    selectedForPeriodElsewhere: { count: elsewhere.length, tax: sumMoney(elsewhere) },
  };
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Row numbers as ranges, e.g. [2, 3, 4, 7] -> "2-4, 7"; cut at `maxLength` characters with a count of the rest. */
export function describeRows(rows: readonly number[], maxLength = 2000): string {
  const sorted = [...new Set(rows)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  let text = '';
  for (const [k, part] of parts.entries()) {
    const next = text ? `${text}, ${part}` : part;
    if (next.length > maxLength) {
      const rest = parts.slice(k).reduce((n, p) => {
        const [a, b] = p.split('-').map(Number);
        return n + (b === undefined ? 1 : b - a! + 1);
      }, 0);
      return `${text} … and ${rest} more rows`;
    }
    text = next;
  }
  return text;
}
