import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensurePoolSchema, POOL_TABLES } from './bureau/poolStore.js';
import { ensureAccountingSchema } from './accounting/schema.js';

/** The sandbox's whole state. Times are ms epoch (real instants; the sandbox clock offset applies). */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tenants (
  tenant_id TEXT PRIMARY KEY, tenant_no TEXT NOT NULL, account_id TEXT NOT NULL,
  app_id TEXT NOT NULL UNIQUE, app_secret TEXT NOT NULL, user TEXT NOT NULL, user_type TEXT NOT NULL,
  business_system_code TEXT NOT NULL, encoding TEXT NOT NULL DEFAULT 'base64', aes_password TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS tokens (
  token TEXT PRIMARY KEY, kind TEXT NOT NULL, tenant_id TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS taxpayers (
  tax_no TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, name TEXT NOT NULL, soft_certificate INTEGER NOT NULL,
  period_change_supported INTEGER NOT NULL, tax_period TEXT NOT NULL, next_rollover_at INTEGER NOT NULL,
  confirm_password TEXT NOT NULL, last_login_at INTEGER);
CREATE TABLE IF NOT EXISTS statistics (
  tax_no TEXT NOT NULL, period TEXT NOT NULL, status TEXT NOT NULL, updated_at INTEGER NOT NULL,
  confirmed_at INTEGER, PRIMARY KEY (tax_no, period));
CREATE TABLE IF NOT EXISTS invoices (
  tax_no TEXT NOT NULL, invoice_code TEXT NOT NULL, invoice_no TEXT NOT NULL, etax_invoice_no TEXT NOT NULL,
  invoice_type INTEGER NOT NULL, invoice_date TEXT NOT NULL, saler_name TEXT NOT NULL, saler_tax_no TEXT NOT NULL,
  invoice_amount TEXT NOT NULL, tax_amount TEXT NOT NULL, total_amount TEXT NOT NULL,
  invoice_status INTEGER NOT NULL, agricultural INTEGER NOT NULL,
  select_status TEXT NOT NULL DEFAULT '0', select_period TEXT NOT NULL DEFAULT '',
  select_purpose TEXT NOT NULL DEFAULT '', effective_tax TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (tax_no, invoice_code, invoice_no));
CREATE INDEX IF NOT EXISTS invoices_number ON invoices (tax_no, invoice_no);
CREATE TABLE IF NOT EXISTS tasks (
  task_no TEXT PRIMARY KEY, tax_no TEXT NOT NULL, kind TEXT NOT NULL, operate_type TEXT NOT NULL DEFAULT '',
  period TEXT NOT NULL, request_json TEXT NOT NULL, created_at INTEGER NOT NULL, due_at INTEGER NOT NULL,
  settled_at INTEGER, result_json TEXT);
CREATE INDEX IF NOT EXISTS tasks_due ON tasks (tax_no, settled_at, due_at);
CREATE TABLE IF NOT EXISTS idempotency (
  tax_no TEXT NOT NULL, interface_code TEXT NOT NULL, request_id TEXT NOT NULL, reply_json TEXT NOT NULL,
  PRIMARY KEY (tax_no, interface_code, request_id));
CREATE TABLE IF NOT EXISTS ledger (
  id INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, tax_no TEXT NOT NULL, interface_code TEXT NOT NULL,
  request_id TEXT NOT NULL, task_no TEXT NOT NULL, invoice_nos TEXT NOT NULL, outcome TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ledger_task ON ledger (task_no);
CREATE TABLE IF NOT EXISTS reserved_task_nos (
  task_no TEXT PRIMARY KEY, tax_no TEXT NOT NULL, kind TEXT NOT NULL, seq INTEGER NOT NULL,
  used INTEGER NOT NULL DEFAULT 0);
`;

export type Db = Database.Database;

export function openDb(file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(SCHEMA);
  ensureLedgerColumns(db);
  ensurePoolSchema(db);
  ensureAccountingSchema(db);
  return db;
}

/**
 * Ledger columns added after the table's first version (added in place, so older databases keep
 * working): what the write request was, the state it found, whether the bureau refused it, and
 * the settled task's result.
 */
const LEDGER_COLUMNS: readonly [string, string][] = [
  ['accepted', 'INTEGER NOT NULL DEFAULT 1'],
  ['refusal_code', "TEXT NOT NULL DEFAULT ''"],
  ['refusal_message', "TEXT NOT NULL DEFAULT ''"],
  ['period', "TEXT NOT NULL DEFAULT ''"],
  ['statistic_status', "TEXT NOT NULL DEFAULT ''"],
  ['operate_type', "TEXT NOT NULL DEFAULT ''"],
  ['authenticate_flag', "TEXT NOT NULL DEFAULT ''"],
  ['select_action', "TEXT NOT NULL DEFAULT ''"],
  ['invoices_json', "TEXT NOT NULL DEFAULT '[]'"],
  ['task_result_json', 'TEXT'],
];

function ensureLedgerColumns(db: Db): void {
  const existing = new Set((db.prepare('PRAGMA table_info(ledger)').all() as { name: string }[]).map((c) => c.name));
  for (const [name, definition] of LEDGER_COLUMNS) {
    if (!existing.has(name)) db.exec(`ALTER TABLE ledger ADD COLUMN ${name} ${definition}`);
  }
}

export const ALL_TABLES = [
  'settings',
  'tenants',
  'tokens',
  'taxpayers',
  'statistics',
  'invoices',
  'tasks',
  'idempotency',
  'ledger',
  'reserved_task_nos',
  ...POOL_TABLES,
  'accounting_tasks',
] as const;
