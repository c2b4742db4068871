import type { Db } from '../db.js';
import { num, str, type Row } from './rows.js';
import type { PoolInvoice } from '../../protocol/interfaces.js';

export interface StoredInvoice extends PoolInvoice {
  selectPurpose: string;
  effectiveTax: string;
}

export type InvoiceIdentity = Pick<StoredInvoice, 'invoiceCode' | 'invoiceNo' | 'invoiceType'>;

/** A pool invoice's identity as the in-progress sets hold it (SQL: INVOICE_KEY_SQL). */
export const invoiceKey = (inv: { invoiceCode: string; invoiceNo: string }) => `${inv.invoiceCode}|${inv.invoiceNo}`;
const INVOICE_KEY_SQL = "(invoice_code || '|' || invoice_no)";

export interface InvoiceFilter {
  invoiceDateStart?: string;
  invoiceDateEnd?: string;
  invoiceTypes?: number[];
  /** As reported: with `inProgress`, 5 is an invoice in it and 0 / 1 only invoices outside it. */
  selectStatus?: '0' | '1' | '5';
  /**
   * Keys (invoiceKey) of invoices in a select task that has not settled: reported with
   * selectStatus 5 (勾选中) and filtered as such. Absent: the bureau's stored status as it is.
   */
  inProgress?: ReadonlySet<string>;
  dataSources?: string[];
  boundBillTypes?: string[];
  accountStatus?: string;
  accountPeriod?: string;
}

/** Pool dimension fields an inserted invoice may omit (defaults: bureau download, no document, not booked). */
export type PoolDimensionField = 'dataSource' | 'boundBillType' | 'boundBillNo' | 'accountStatus' | 'accountPeriod';
export type NewPoolInvoice = Omit<PoolInvoice, PoolDimensionField> & Partial<Pick<PoolInvoice, PoolDimensionField>>;

function toInvoice(r: Row): StoredInvoice {
  return {
    invoiceType: num(r.invoice_type),
    invoiceCode: str(r.invoice_code),
    invoiceNo: str(r.invoice_no),
    etaxInvoiceNo: str(r.etax_invoice_no),
    invoiceDate: str(r.invoice_date),
    salerName: str(r.saler_name),
    salerTaxNo: str(r.saler_tax_no),
    invoiceAmount: str(r.invoice_amount),
    taxAmount: str(r.tax_amount),
    totalAmount: str(r.total_amount),
    invoiceStatus: num(r.invoice_status),
    agricultural: r.agricultural === 1,
    selectStatus: str(r.select_status) as '0' | '1',
    selectPeriod: str(r.select_period),
    selectPurpose: str(r.select_purpose),
    effectiveTax: str(r.effective_tax),
    dataSource: str(r.data_source) as StoredInvoice['dataSource'],
    boundBillType: str(r.bound_bill_type) as StoredInvoice['boundBillType'],
    boundBillNo: str(r.bound_bill_no),
    accountStatus: str(r.account_status) as StoredInvoice['accountStatus'],
    accountPeriod: str(r.account_period),
  };
}

/** The invoice pool of each taxpayer and its selections. */
export class InvoiceStore {
  constructor(private readonly db: Db) {}

  insert(taxNo: string, inv: NewPoolInvoice, replace: boolean): boolean {
    const verb = replace ? 'INSERT OR REPLACE' : 'INSERT OR IGNORE';
    return (
      this.db
        .prepare(
          `${verb} INTO invoices (tax_no, invoice_code, invoice_no, etax_invoice_no, invoice_type, invoice_date,
             saler_name, saler_tax_no, invoice_amount, tax_amount, total_amount, invoice_status, agricultural,
             select_status, select_period, data_source, bound_bill_type, bound_bill_no, account_status, account_period)
           VALUES (@taxNo, @invoiceCode, @invoiceNo, @etaxInvoiceNo, @invoiceType, @invoiceDate, @salerName,
             @salerTaxNo, @invoiceAmount, @taxAmount, @totalAmount, @invoiceStatus, @agricultural,
             @selectStatus, @selectPeriod, @dataSource, @boundBillType, @boundBillNo, @accountStatus, @accountPeriod)`,
        )
        .run({
          dataSource: '1',
          boundBillType: '0',
          boundBillNo: '',
          accountStatus: '0',
          accountPeriod: '',
          ...inv,
          taxNo,
          agricultural: inv.agricultural ? 1 : 0,
        }).changes > 0
    );
  }
  find(taxNo: string, invoiceNo: string): StoredInvoice[] {
    // "+": sort the few matches instead of walking the taxpayer's whole pool in primary-key order.
    return (
      this.db
        .prepare('SELECT * FROM invoices WHERE tax_no = ? AND invoice_no = ? ORDER BY +invoice_code')
        .all(taxNo, invoiceNo) as Row[]
    ).map(toInvoice);
  }
  /**
   * What matchPoolInvoice reads of the invoices with any of these numbers, each number's in
   * findInvoices order (only these columns: reading whole rows costs more than the search).
   */
  identities(taxNo: string, invoiceNos: readonly string[]): InvoiceIdentity[] {
    return (
      this.db
        .prepare(
          `SELECT invoice_code, invoice_no, invoice_type FROM invoices
           WHERE tax_no = ? AND invoice_no IN (SELECT value FROM json_each(?)) ORDER BY invoice_no, invoice_code`,
        )
        .all(taxNo, JSON.stringify(invoiceNos)) as Row[]
    ).map((r) => ({
      invoiceCode: str(r.invoice_code),
      invoiceNo: str(r.invoice_no),
      invoiceType: num(r.invoice_type),
    }));
  }
  setSelection(
    taxNo: string,
    inv: { invoiceCode: string; invoiceNo: string },
    selection: { period: string; purpose: string; effectiveTax: string } | null,
  ): void {
    this.db
      .prepare(
        `UPDATE invoices SET select_status = ?, select_period = ?, select_purpose = ?, effective_tax = ?
         WHERE tax_no = ? AND invoice_code = ? AND invoice_no = ?`,
      )
      .run(
        selection ? '1' : '0',
        selection?.period ?? '',
        selection?.purpose ?? '',
        selection?.effectiveTax ?? '',
        taxNo,
        inv.invoiceCode,
        inv.invoiceNo,
      );
  }
  /** Un-selects every selection of periods before `beforePeriod` that were not confirmed. */
  revokeUnconfirmedSelections(taxNo: string, beforePeriod: string): number {
    return this.db
      .prepare(
        `UPDATE invoices SET select_status = '0', select_period = '', select_purpose = '', effective_tax = ''
         WHERE tax_no = ? AND select_status = '1' AND select_period < ?
           AND select_period NOT IN (SELECT period FROM statistics WHERE tax_no = ? AND status = '05')`,
      )
      .run(taxNo, beforePeriod, taxNo).changes;
  }
  selectedInvoices(taxNo: string, period: string): StoredInvoice[] {
    return (
      this.db
        .prepare("SELECT * FROM invoices WHERE tax_no = ? AND select_status = '1' AND select_period = ?")
        .all(taxNo, period) as Row[]
    ).map(toInvoice);
  }
  query(taxNo: string, f: InvoiceFilter, limit: number, offset: number): { total: number; rows: StoredInvoice[] } {
    const where = ['tax_no = @taxNo'];
    const params: Record<string, unknown> = { taxNo };
    const add = (condition: string, name: string, value: string | undefined) => {
      if (value === undefined) return;
      where.push(condition);
      params[name] = value;
    };
    add('invoice_date >= @start', 'start', f.invoiceDateStart);
    add('invoice_date <= @end', 'end', f.invoiceDateEnd);
    const inProgress = f.inProgress ?? new Set<string>();
    if (f.selectStatus !== undefined && inProgress.size > 0) {
      params.inProgress = JSON.stringify([...inProgress]);
      const negate = f.selectStatus === '5' ? '' : 'NOT ';
      where.push(`${negate}${INVOICE_KEY_SQL} IN (SELECT value FROM json_each(@inProgress))`);
    }
    if (f.selectStatus === '5') {
      if (inProgress.size === 0) where.push('0');
    } else add('select_status = @sel', 'sel', f.selectStatus);
    add('account_status = @accountStatus', 'accountStatus', f.accountStatus);
    add('account_period = @accountPeriod', 'accountPeriod', f.accountPeriod);
    const inList = (column: string, values: string[] | undefined) => {
      if (values)
        where.push(`${column} IN (${values.map((v) => `'${v.replace(/[^0-9]/g, '')}'`).join(',') || 'NULL'})`);
    };
    inList('data_source', f.dataSources);
    inList('bound_bill_type', f.boundBillTypes);
    if (f.invoiceTypes) where.push(`invoice_type IN (${f.invoiceTypes.map((t) => Number(t)).join(',') || 'NULL'})`);
    const clause = where.join(' AND ');
    const total = num((this.db.prepare(`SELECT COUNT(*) AS n FROM invoices WHERE ${clause}`).get(params) as Row).n);
    const rows = (
      this.db
        .prepare(
          `SELECT * FROM invoices WHERE ${clause} ORDER BY invoice_date, invoice_code, invoice_no LIMIT @limit OFFSET @offset`,
        )
        .all({ ...params, limit, offset }) as Row[]
    )
      .map(toInvoice)
      .map((inv) => (inProgress.has(invoiceKey(inv)) ? { ...inv, selectStatus: '5' as const } : inv));
    return { total, rows };
  }
  /** Every invoice of the taxpayer's pool, with the bureau's selection state. */
  all(taxNo: string): StoredInvoice[] {
    return (
      this.db
        .prepare('SELECT * FROM invoices WHERE tax_no = ? ORDER BY invoice_date, invoice_code, invoice_no')
        .all(taxNo) as Row[]
    ).map(toInvoice);
  }
  counts(taxNo: string): { total: number; selected: number } {
    const row = this.db
      .prepare("SELECT COUNT(*) AS total, SUM(select_status = '1') AS selected FROM invoices WHERE tax_no = ?")
      .get(taxNo) as Row;
    return { total: num(row.total), selected: num(row.selected ?? 0) };
  }
}
