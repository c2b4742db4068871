import type Database from 'better-sqlite3';
import type { PoolInvoice, SelectInvoiceLine } from '../../protocol/interfaces.js';

/**
 * The sandbox state behind 进项表头归集 and 预勾选: invoices the bureau holds but the cloud's pool
 * has not downloaded yet, and the cloud's pending pre-selections. Called by openDb after the core schema.
 */
export const POOL_TABLES = ['bureau_invoices', 'preselections'] as const;

export function ensurePoolSchema(db: Database.Database): void {
  db.exec(`
CREATE TABLE IF NOT EXISTS bureau_invoices (
  tax_no TEXT NOT NULL, invoice_code TEXT NOT NULL, invoice_no TEXT NOT NULL, invoice_type INTEGER NOT NULL,
  invoice_date TEXT NOT NULL, invoice_json TEXT NOT NULL, PRIMARY KEY (tax_no, invoice_code, invoice_no));
CREATE TABLE IF NOT EXISTS preselections (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, tax_no TEXT NOT NULL, invoice_code TEXT NOT NULL, invoice_no TEXT NOT NULL,
  purpose TEXT NOT NULL, line_json TEXT NOT NULL, UNIQUE (tax_no, invoice_code, invoice_no));`);
}

export interface PreSelection {
  line: SelectInvoiceLine;
  purpose: string;
}

type Row = Record<string, unknown>;

export class PoolStore {
  constructor(private readonly db: Database.Database) {}

  /** Adds or replaces invoices on the bureau's side (the admin API fills it). */
  putBureauInvoice(taxNo: string, inv: PoolInvoice): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO bureau_invoices (tax_no, invoice_code, invoice_no, invoice_type, invoice_date, invoice_json)
         VALUES (?, ?, ?, ?, ?, ?)`,
      )
      .run(taxNo, inv.invoiceCode, inv.invoiceNo, inv.invoiceType, inv.invoiceDate, JSON.stringify(inv));
  }

  bureauInvoices(taxNo: string, startDate: string, endDate: string, types?: number[]): PoolInvoice[] {
    const rows = this.db
      .prepare(
        `SELECT invoice_type, invoice_json FROM bureau_invoices
         WHERE tax_no = ? AND invoice_date >= ? AND invoice_date <= ? ORDER BY invoice_date, invoice_code, invoice_no`,
      )
      .all(taxNo, startDate, endDate) as Row[];
    return rows
      .filter((r) => !types || types.includes(Number(r.invoice_type)))
      .map((r) => JSON.parse(String(r.invoice_json)) as PoolInvoice);
  }

  /** A line pre-selected again replaces the earlier one (same invoice, latest purpose). */
  preSelect(taxNo: string, line: SelectInvoiceLine, purpose: string): void {
    this.db
      .prepare(
        `INSERT INTO preselections (tax_no, invoice_code, invoice_no, purpose, line_json) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(tax_no, invoice_code, invoice_no) DO UPDATE SET purpose = excluded.purpose,
           line_json = excluded.line_json`,
      )
      .run(taxNo, line.invoiceCode, line.invoiceNo, purpose, JSON.stringify(line));
  }

  pendingCount(taxNo: string): number {
    return Number((this.db.prepare('SELECT COUNT(*) AS n FROM preselections WHERE tax_no = ?').get(taxNo) as Row).n);
  }

  /** Removes and returns the oldest `limit` pre-selections. */
  takePreSelections(taxNo: string, limit: number): PreSelection[] {
    const rows = this.db
      .prepare('SELECT seq, purpose, line_json FROM preselections WHERE tax_no = ? ORDER BY seq LIMIT ?')
      .all(taxNo, limit) as Row[];
    const remove = this.db.prepare('DELETE FROM preselections WHERE seq = ?');
    for (const r of rows) remove.run(r.seq);
    return rows.map((r) => ({
      purpose: String(r.purpose),
      line: JSON.parse(String(r.line_json)) as SelectInvoiceLine,
    }));
  }
}
