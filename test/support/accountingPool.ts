import type { InvoiceInput } from '../../simulator/admin/schemas.js';
import type { SandboxAdmin } from '../../simulator/adminClient.js';
import type { BoundBillType } from '../../protocol/codes.js';
import { TEST_PERIOD } from './calendar.js';
import { addTaxpayer } from './taxpayers.js';

/**
 * Pools for the auto-accounting tests and benchmark: normal 数电 invoices of the test period, spread
 * over its first 28 days, each bound to a document type. With the example rules, '2' (差旅报销-客户付费)
 * is skipped and every other bound type is booked ('3', '5' and '6' into the month of the invoice).
 */
export function accountingInvoices(
  count: number,
  billTypeOf: (i: number) => BoundBillType,
  opts: { prefix?: string; period?: string } = {},
): InvoiceInput[] {
  const period = opts.period ?? TEST_PERIOD;
  const month = `${period.slice(0, 4)}-${period.slice(4)}`;
  return Array.from({ length: count }, (_, i) => {
    const boundBillType = billTypeOf(i);
    return {
      invoiceType: 27,
      invoiceNo: `${opts.prefix ?? '2644'}${String(i + 1).padStart(16, '0')}`,
      invoiceDate: `${month}-${String((i % 28) + 1).padStart(2, '0')}`,
      salerName: '供应商',
      salerTaxNo: '91440300591872133B',
      invoiceAmount: '100.00',
      taxAmount: '13.00',
      totalAmount: '113.00',
      dataSource: '2',
      boundBillType,
      boundBillNo: boundBillType === '0' ? '' : `DOC${String(i + 1).padStart(8, '0')}`,
    };
  });
}

/** A new taxpayer whose pool holds exactly `invoices` (sent in parts the admin API takes). */
export async function addAccountingTaxpayer(
  admin: SandboxAdmin,
  taxNo: string,
  invoices: InvoiceInput[],
): Promise<void> {
  await addTaxpayer(admin, taxNo);
  for (let i = 0; i < invoices.length; i += 2000) await admin.addInvoices(taxNo, invoices.slice(i, i + 2000));
}
