import type Database from 'better-sqlite3';

/**
 * The auto-accounting slice of the sandbox's SQLite state: the pool dimension columns of
 * `invoices` (added in place, so databases created before them keep working) and the
 * accounting tasks. Called by openDb after the core schema.
 */
const INVOICE_DIMENSION_COLUMNS: readonly [string, string][] = [
  ['data_source', "TEXT NOT NULL DEFAULT '1'"],
  ['bound_bill_type', "TEXT NOT NULL DEFAULT '0'"],
  ['bound_bill_no', "TEXT NOT NULL DEFAULT ''"],
  ['account_status', "TEXT NOT NULL DEFAULT '0'"],
  ['account_period', "TEXT NOT NULL DEFAULT ''"],
];

export const ACCOUNTING_TABLES = ['accounting_tasks'] as const;

export function ensureAccountingSchema(db: Database.Database): void {
  const existing = new Set((db.prepare('PRAGMA table_info(invoices)').all() as { name: string }[]).map((c) => c.name));
  for (const [name, definition] of INVOICE_DIMENSION_COLUMNS) {
    if (!existing.has(name)) db.exec(`ALTER TABLE invoices ADD COLUMN ${name} ${definition}`);
  }
  db.exec(`
CREATE TABLE IF NOT EXISTS accounting_tasks (
  task_no TEXT PRIMARY KEY, tax_no TEXT NOT NULL, created_at INTEGER NOT NULL, due_at INTEGER NOT NULL,
  result_json TEXT NOT NULL);`);
}
