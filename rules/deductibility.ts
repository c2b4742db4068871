import { AGRICULTURAL_ONLY_TYPES, ALWAYS_DEDUCTIBLE_TYPES, SELECTABLE_INVOICE_STATUSES } from '../protocol/codes.js';

/** Ordinary invoices (1, 3, 26) are deductible only for agricultural products (docs/assumptions.md). */
export function isDeductibleType(invoiceType: number, agricultural: boolean): boolean {
  if (ALWAYS_DEDUCTIBLE_TYPES.includes(invoiceType)) return true;
  return agricultural && AGRICULTURAL_ONLY_TYPES.includes(invoiceType);
}

/** Only normal (0) and partly red-flushed (7) invoices can be selected (docs/assumptions.md). */
export function isSelectableStatus(invoiceStatus: number): boolean {
  return SELECTABLE_INVOICE_STATUSES.includes(invoiceStatus);
}
