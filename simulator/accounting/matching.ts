import type { AccountInvoiceLine } from '../../protocol/interfaces.js';
import type { StoredInvoice } from '../store.js';

/** The pool invoice a booking line designates: same number, and same code when both have one. */
export function matchAccountInvoice(line: AccountInvoiceLine, candidates: StoredInvoice[]): StoredInvoice | undefined {
  return candidates.find((c) => line.invoiceCode === '' || c.invoiceCode === '' || c.invoiceCode === line.invoiceCode);
}
