import type { PoolInvoice } from '../../protocol/interfaces.js';

/** A normal, deductible 数电 special invoice of 2026-11 in the pool; override what a test varies. */
export function poolInvoice(overrides: Partial<PoolInvoice> = {}): PoolInvoice {
  return {
    invoiceType: 27,
    invoiceCode: '',
    invoiceNo: '26442000000000000001',
    etaxInvoiceNo: '',
    invoiceDate: '2026-11-10',
    salerName: '供应商',
    salerTaxNo: '91440300591872133B',
    invoiceAmount: '100.00',
    taxAmount: '13.00',
    totalAmount: '113.00',
    invoiceStatus: 0,
    agricultural: false,
    selectStatus: '0',
    selectPeriod: '',
    dataSource: '1',
    boundBillType: '0',
    boundBillNo: '',
    accountStatus: '0',
    accountPeriod: '',
    ...overrides,
  };
}
