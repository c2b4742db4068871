import { AGRICULTURAL_ONLY_TYPES, ALWAYS_DEDUCTIBLE_TYPES, SELECTABLE_INVOICE_STATUSES } from '../protocol/codes.js';

/** DESIGN.md §4: ordinary invoices (1, 3, 26) are deductible only for agricultural products. */
export function isDeductibleType(invoiceType: number, agricultural: boolean): boolean {
  if (ALWAYS_DEDUCTIBLE_TYPES.includes(invoiceType)) return true;
  return agricultural && AGRICULTURAL_ONLY_TYPES.includes(invoiceType);
}

/** DESIGN.md §4: only normal (0) and partly red-flushed (7) invoices can be selected. */
export function isSelectableStatus(invoiceStatus: number): boolean {
  return SELECTABLE_INVOICE_STATUSES.includes(invoiceStatus);
}
