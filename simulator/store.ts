import type { PoolInvoice, SelectInvoiceLine } from '../protocol/interfaces.js';
import type { StatisticStatus } from '../protocol/codes.js';
import { ALL_TABLES, type Db } from './db.js';

/** Repository over the sandbox's SQLite state: every SQL statement of the sandbox lives here. */

export type DataEncodingKind = 'base64' | 'aes-gcm';

export interface Tenant {
  tenantId: string;
  tenantNo: string;
  accountId: string;
  appId: string;
  appSecret: string;
  user: string;
  userType: string;
  businessSystemCode: string;
  encoding: DataEncodingKind;
  aesPassword: string;
}

export interface Taxpayer {
  taxNo: string;
  tenantId: string;
  name: string;
  softCertificate: boolean;
  periodChangeSupported: boolean;
  taxPeriod: string;
  /** When the bureau next rolls the period over (end of the filing deadline day, Shanghai). */
  nextRolloverAt: number;
  confirmPassword: string;
  lastLoginAt: number | null;
}

export interface StoredInvoice extends PoolInvoice {
  selectPurpose: string;
  effectiveTax: string;
}

export type TaskKind = 'select' | 'statistic' | 'confirm' | 'download';

export interface Task {
  taskNo: string;
  taxNo: string;
  kind: TaskKind;
  operateType: string;
  period: string;
  request: unknown;
  createdAt: number;
  dueAt: number;
  settledAt: number | null;
  result: unknown;
}

export interface Statistic {
  taxNo: string;
  period: string;
  status: StatisticStatus;
  updatedAt: number;
  confirmedAt: number | null;
}

/** One invoice of a write request (select, cancel, pre-selection confirmation, booking). */
export interface LedgerInvoice {
  invoiceCode: string;
  invoiceNo: string;
  /** What the request asked to deduct (select lines only). */
  effectiveTaxAmount?: string;
  /** deductionPurpose the line was sent with (select lines only). */
  purpose?: string;
}

/**
 * One write request that reached a write handler of the bureau, accepted or refused. With the
 * tenant's requestId de-duplication on, repeats answered from the requestId cache never reach a
 * handler and are not here; with it off (the default) every repeat is.
 */
export interface LedgerEntry {
  id: number;
  time: number;
  taxNo: string;
  interfaceCode: string;
  requestId: string;
  taskNo: string;
  invoiceNos: string[];
  /** 'pending' until an asynchronous task settles; 'refused <code> <message>' for a refusal. */
  outcome: string;
  /** False when the bureau refused the request (refusal says why); nothing changed then. */
  accepted: boolean;
  refusal: { code: string; message: string } | null;
  /** The taxpayer's period when the request arrived. */
  period: string;
  /** The status of that period's statistic table when the request arrived. */
  statisticStatus: string;
  /** statisticCreate: 1 generate, 2 revoke. Empty for other writes. */
  operateType: string;
  /** invoiceSelect: the authenticateFlag sent (its meaning depends on the tenant's profile). Empty for other writes. */
  authenticateFlag: string;
  /**
   * invoiceSelect and preSelectConfirm: 'select' or 'cancel', as the tenant's protocol profile
   * read the request when it arrived (profile.selectFlag). Empty for other writes.
   */
  selectAction: string;
  invoices: LedgerInvoice[];
  /** The settled task's result (select: per-invoice lines), null while pending or without a task. */
  taskResult: unknown;
}

export type NewLedgerEntry = Omit<
  LedgerEntry,
  | 'id'
  | 'accepted'
  | 'refusal'
  | 'period'
  | 'statisticStatus'
  | 'operateType'
  | 'authenticateFlag'
  | 'selectAction'
  | 'invoices'
  | 'taskResult'
> &
  Partial<
    Pick<
      LedgerEntry,
      'refusal' | 'period' | 'statisticStatus' | 'operateType' | 'authenticateFlag' | 'selectAction' | 'invoices'
    >
  >;

export interface LedgerFilter {
  taxNo?: string;
  interfaceCode?: string;
  /** Also the requests the bureau refused (default: accepted writes only). */
  includeRefused?: boolean;
}

type Row = Record<string, unknown>;

const str = (v: unknown) => String(v);
const num = (v: unknown) => Number(v);
const numOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));

function toTenant(r: Row): Tenant {
  return {
    tenantId: str(r.tenant_id),
    tenantNo: str(r.tenant_no),
    accountId: str(r.account_id),
    appId: str(r.app_id),
    appSecret: str(r.app_secret),
    user: str(r.user),
    userType: str(r.user_type),
    businessSystemCode: str(r.business_system_code),
    encoding: str(r.encoding) as DataEncodingKind,
    aesPassword: str(r.aes_password),
  };
}

function toTaxpayer(r: Row): Taxpayer {
  return {
    taxNo: str(r.tax_no),
    tenantId: str(r.tenant_id),
    name: str(r.name),
    softCertificate: r.soft_certificate === 1,
    periodChangeSupported: r.period_change_supported === 1,
    taxPeriod: str(r.tax_period),
    nextRolloverAt: num(r.next_rollover_at),
    confirmPassword: str(r.confirm_password),
    lastLoginAt: numOrNull(r.last_login_at),
  };
}

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

function toTask(r: Row): Task {
  return {
    taskNo: str(r.task_no),
    taxNo: str(r.tax_no),
    kind: str(r.kind) as TaskKind,
    operateType: str(r.operate_type),
    period: str(r.period),
    request: JSON.parse(str(r.request_json)),
    createdAt: num(r.created_at),
    dueAt: num(r.due_at),
    settledAt: numOrNull(r.settled_at),
    result: r.result_json === null ? null : JSON.parse(str(r.result_json)),
  };
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

export class Store {
  constructor(readonly db: Db) {}

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  isEmpty(): boolean {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM tenants').get() as Row).n === 0;
  }

  wipe(): void {
    this.transaction(() => {
      for (const table of ALL_TABLES) this.db.prepare(`DELETE FROM ${table}`).run();
    });
  }

  // settings
  getSetting(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as Row | undefined;
    return row ? str(row.value) : undefined;
  }
  setSetting(key: string, value: string): void {
    this.db
      .prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
      .run(key, value);
  }

  // tenants and tokens
  upsertTenant(t: Tenant): void {
    this.db
      .prepare(
        `INSERT INTO tenants (tenant_id, tenant_no, account_id, app_id, app_secret, user, user_type,
           business_system_code, encoding, aes_password)
         VALUES (@tenantId, @tenantNo, @accountId, @appId, @appSecret, @user, @userType, @businessSystemCode,
           @encoding, @aesPassword)
         ON CONFLICT(tenant_id) DO UPDATE SET tenant_no = excluded.tenant_no, account_id = excluded.account_id,
           app_id = excluded.app_id, app_secret = excluded.app_secret, user = excluded.user,
           user_type = excluded.user_type, business_system_code = excluded.business_system_code`,
      )
      .run(t);
  }
  setTenantEncoding(tenantId: string, encoding: DataEncodingKind, aesPassword: string): boolean {
    return (
      this.db
        .prepare('UPDATE tenants SET encoding = ?, aes_password = ? WHERE tenant_id = ?')
        .run(encoding, aesPassword, tenantId).changes > 0
    );
  }
  getTenant(tenantId: string): Tenant | undefined {
    const row = this.db.prepare('SELECT * FROM tenants WHERE tenant_id = ?').get(tenantId) as Row | undefined;
    return row ? toTenant(row) : undefined;
  }
  getTenantByAppId(appId: string): Tenant | undefined {
    const row = this.db.prepare('SELECT * FROM tenants WHERE app_id = ?').get(appId) as Row | undefined;
    return row ? toTenant(row) : undefined;
  }
  listTenants(): Tenant[] {
    return (this.db.prepare('SELECT * FROM tenants ORDER BY tenant_id').all() as Row[]).map(toTenant);
  }
  saveToken(token: string, kind: 'app' | 'access', tenantId: string, expiresAt: number): void {
    this.db
      .prepare('INSERT INTO tokens (token, kind, tenant_id, expires_at) VALUES (?, ?, ?, ?)')
      .run(token, kind, tenantId, expiresAt);
  }
  getToken(token: string, kind: 'app' | 'access'): { tenantId: string; expiresAt: number } | undefined {
    const row = this.db.prepare('SELECT * FROM tokens WHERE token = ? AND kind = ?').get(token, kind) as
      Row | undefined;
    return row ? { tenantId: str(row.tenant_id), expiresAt: num(row.expires_at) } : undefined;
  }

  /** Fault: every access token of the tenant is expired now (the next call answers 1002). */
  expireAccessTokens(tenantId: string): number {
    return this.db.prepare("UPDATE tokens SET expires_at = 0 WHERE kind = 'access' AND tenant_id = ?").run(tenantId)
      .changes;
  }

  // taxpayers
  upsertTaxpayer(t: Taxpayer): void {
    this.db
      .prepare(
        `INSERT INTO taxpayers (tax_no, tenant_id, name, soft_certificate, period_change_supported, tax_period,
           next_rollover_at, confirm_password, last_login_at)
         VALUES (@taxNo, @tenantId, @name, @softCertificate, @periodChangeSupported, @taxPeriod, @nextRolloverAt,
           @confirmPassword, @lastLoginAt)
         ON CONFLICT(tax_no) DO UPDATE SET tenant_id = excluded.tenant_id, name = excluded.name,
           soft_certificate = excluded.soft_certificate, period_change_supported = excluded.period_change_supported,
           tax_period = excluded.tax_period, next_rollover_at = excluded.next_rollover_at,
           confirm_password = excluded.confirm_password, last_login_at = excluded.last_login_at`,
      )
      .run({
        ...t,
        softCertificate: t.softCertificate ? 1 : 0,
        periodChangeSupported: t.periodChangeSupported ? 1 : 0,
      });
  }
  getTaxpayer(taxNo: string): Taxpayer | undefined {
    const row = this.db.prepare('SELECT * FROM taxpayers WHERE tax_no = ?').get(taxNo) as Row | undefined;
    return row ? toTaxpayer(row) : undefined;
  }
  listTaxpayers(): Taxpayer[] {
    return (this.db.prepare('SELECT * FROM taxpayers ORDER BY tax_no').all() as Row[]).map(toTaxpayer);
  }
  setPeriod(taxNo: string, period: string, nextRolloverAt: number): void {
    this.db
      .prepare('UPDATE taxpayers SET tax_period = ?, next_rollover_at = ? WHERE tax_no = ?')
      .run(period, nextRolloverAt, taxNo);
  }
  setLastLogin(taxNo: string, at: number): void {
    this.db.prepare('UPDATE taxpayers SET last_login_at = ? WHERE tax_no = ?').run(at, taxNo);
  }

  /** Fault: the bureau login lapses (selection answers 36 until taxLogin is called again). */
  clearBureauLogins(taxNo?: string): number {
    return this.db
      .prepare('UPDATE taxpayers SET last_login_at = NULL WHERE @taxNo IS NULL OR tax_no = @taxNo')
      .run({ taxNo: taxNo ?? null }).changes;
  }

  // statistics (a missing row means 01, never generated)
  getStatistic(taxNo: string, period: string): Statistic | undefined {
    const row = this.db.prepare('SELECT * FROM statistics WHERE tax_no = ? AND period = ?').get(taxNo, period) as
      Row | undefined;
    if (!row) return undefined;
    return {
      taxNo,
      period,
      status: str(row.status) as StatisticStatus,
      updatedAt: num(row.updated_at),
      confirmedAt: numOrNull(row.confirmed_at),
    };
  }
  setStatistic(taxNo: string, period: string, status: StatisticStatus, at: number, confirmedAt?: number): void {
    this.db
      .prepare(
        `INSERT INTO statistics (tax_no, period, status, updated_at, confirmed_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(tax_no, period) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at,
           confirmed_at = COALESCE(excluded.confirmed_at, statistics.confirmed_at)`,
      )
      .run(taxNo, period, status, at, confirmedAt ?? null);
  }
  touchStatistic(taxNo: string, period: string, status: StatisticStatus, at: number): void {
    this.db
      .prepare(
        `INSERT INTO statistics (tax_no, period, status, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(tax_no, period) DO UPDATE SET updated_at = excluded.updated_at`,
      )
      .run(taxNo, period, status, at);
  }
  confirmedPeriods(taxNo: string): string[] {
    return (
      this.db
        .prepare("SELECT period FROM statistics WHERE tax_no = ? AND status = '05' ORDER BY period")
        .all(taxNo) as Row[]
    ).map((r) => str(r.period));
  }

  // invoices
  insertInvoice(taxNo: string, inv: NewPoolInvoice, replace: boolean): boolean {
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
  findInvoices(taxNo: string, invoiceNo: string): StoredInvoice[] {
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
  invoiceIdentities(taxNo: string, invoiceNos: readonly string[]): InvoiceIdentity[] {
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
  queryInvoices(
    taxNo: string,
    f: InvoiceFilter,
    limit: number,
    offset: number,
  ): { total: number; rows: StoredInvoice[] } {
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
  allInvoices(taxNo: string): StoredInvoice[] {
    return (
      this.db
        .prepare('SELECT * FROM invoices WHERE tax_no = ? ORDER BY invoice_date, invoice_code, invoice_no')
        .all(taxNo) as Row[]
    ).map(toInvoice);
  }
  invoiceCounts(taxNo: string): { total: number; selected: number } {
    const row = this.db
      .prepare("SELECT COUNT(*) AS total, SUM(select_status = '1') AS selected FROM invoices WHERE tax_no = ?")
      .get(taxNo) as Row;
    return { total: num(row.total), selected: num(row.selected ?? 0) };
  }

  // tasks
  insertTask(t: Omit<Task, 'settledAt' | 'result'>): void {
    this.db
      .prepare(
        `INSERT INTO tasks (task_no, tax_no, kind, operate_type, period, request_json, created_at, due_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(t.taskNo, t.taxNo, t.kind, t.operateType, t.period, JSON.stringify(t.request), t.createdAt, t.dueAt);
  }
  getTask(taskNo: string): Task | undefined {
    const row = this.db.prepare('SELECT * FROM tasks WHERE task_no = ?').get(taskNo) as Row | undefined;
    return row ? toTask(row) : undefined;
  }
  nextDueTask(taxNo: string, now: number): Task | undefined {
    const row = this.db
      .prepare(
        `SELECT * FROM tasks WHERE tax_no = ? AND settled_at IS NULL AND due_at <= ?
         ORDER BY due_at, created_at, rowid LIMIT 1`,
      )
      .get(taxNo, now) as Row | undefined;
    return row ? toTask(row) : undefined;
  }
  /** The invoice lines of the taxpayer's select tasks not settled yet (created by `createdBy`, when given). */
  unsettledSelectLines(taxNo: string, createdBy = Number.MAX_SAFE_INTEGER): SelectInvoiceLine[] {
    const rows = this.db
      .prepare(
        `SELECT request_json FROM tasks WHERE tax_no = ? AND settled_at IS NULL AND kind = 'select'
           AND created_at <= ? ORDER BY created_at, rowid`,
      )
      .all(taxNo, createdBy) as Row[];
    return rows.flatMap(
      (r) => (JSON.parse(str(r.request_json)) as { payload: { invoices: SelectInvoiceLine[] } }).payload.invoices,
    );
  }
  /** Whether a task of one of these kinds for the taxpayer and period has not settled yet. */
  hasUnsettledTask(taxNo: string, period: string, kinds: readonly TaskKind[]): boolean {
    const row = this.db
      .prepare(
        `SELECT 1 FROM tasks WHERE tax_no = ? AND settled_at IS NULL AND period = ?
           AND kind IN (SELECT value FROM json_each(?)) LIMIT 1`,
      )
      .get(taxNo, period, JSON.stringify(kinds));
    return row !== undefined;
  }
  /** Settled tasks of a kind, in the order they settled. */
  settledTasks(kind: TaskKind): Task[] {
    return (
      this.db
        .prepare('SELECT * FROM tasks WHERE kind = ? AND settled_at IS NOT NULL ORDER BY settled_at, rowid')
        .all(kind) as Row[]
    ).map(toTask);
  }
  settleTask(taskNo: string, at: number, result: unknown): void {
    this.db
      .prepare('UPDATE tasks SET settled_at = ?, result_json = ? WHERE task_no = ?')
      .run(at, JSON.stringify(result), taskNo);
  }
  /** Takes the next task number reserved for this taxpayer and kind (seed replay), if any. */
  takeReservedTaskNo(taxNo: string, kind: TaskKind): string | undefined {
    const row = this.db
      .prepare(
        `SELECT task_no FROM reserved_task_nos WHERE tax_no = ? AND kind = ? AND used = 0
           AND task_no NOT IN (SELECT task_no FROM tasks) ORDER BY seq LIMIT 1`,
      )
      .get(taxNo, kind) as Row | undefined;
    if (!row) return undefined;
    this.db.prepare('UPDATE reserved_task_nos SET used = 1 WHERE task_no = ?').run(row.task_no);
    return str(row.task_no);
  }
  reserveTaskNo(taxNo: string, kind: TaskKind, seq: number, taskNo: string): void {
    this.db
      .prepare('INSERT OR IGNORE INTO reserved_task_nos (task_no, tax_no, kind, seq) VALUES (?, ?, ?, ?)')
      .run(taskNo, taxNo, kind, seq);
  }

  // idempotency and ledger
  getIdempotentReply(taxNo: string, interfaceCode: string, requestId: string): unknown {
    const row = this.db
      .prepare('SELECT reply_json FROM idempotency WHERE tax_no = ? AND interface_code = ? AND request_id = ?')
      .get(taxNo, interfaceCode, requestId) as Row | undefined;
    return row ? JSON.parse(str(row.reply_json)) : undefined;
  }
  saveIdempotentReply(taxNo: string, interfaceCode: string, requestId: string, reply: unknown): void {
    this.db
      .prepare('INSERT INTO idempotency (tax_no, interface_code, request_id, reply_json) VALUES (?, ?, ?, ?)')
      .run(taxNo, interfaceCode, requestId, JSON.stringify(reply));
  }
  addLedger(e: NewLedgerEntry): void {
    this.db
      .prepare(
        `INSERT INTO ledger (time, tax_no, interface_code, request_id, task_no, invoice_nos, outcome, accepted,
           refusal_code, refusal_message, period, statistic_status, operate_type, authenticate_flag, select_action,
           invoices_json)
         VALUES (@time, @taxNo, @interfaceCode, @requestId, @taskNo, @invoiceNos, @outcome, @accepted,
           @refusalCode, @refusalMessage, @period, @statisticStatus, @operateType, @authenticateFlag, @selectAction,
           @invoices)`,
      )
      .run({
        time: e.time,
        taxNo: e.taxNo,
        interfaceCode: e.interfaceCode,
        requestId: e.requestId,
        taskNo: e.taskNo,
        invoiceNos: JSON.stringify(e.invoiceNos),
        outcome: e.outcome,
        accepted: e.refusal ? 0 : 1,
        refusalCode: e.refusal?.code ?? '',
        refusalMessage: e.refusal?.message ?? '',
        period: e.period ?? '',
        statisticStatus: e.statisticStatus ?? '',
        operateType: e.operateType ?? '',
        authenticateFlag: e.authenticateFlag ?? '',
        selectAction: e.selectAction ?? '',
        invoices: JSON.stringify(e.invoices ?? []),
      });
  }
  /** A task settled: its write's outcome and result. */
  setLedgerOutcome(taskNo: string, outcome: string, taskResult: unknown): void {
    this.db
      .prepare('UPDATE ledger SET outcome = ?, task_result_json = ? WHERE task_no = ? AND accepted = 1')
      .run(outcome, JSON.stringify(taskResult), taskNo);
  }
  ledger(filter: LedgerFilter): LedgerEntry[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM ledger WHERE (@taxNo IS NULL OR tax_no = @taxNo)
           AND (@interfaceCode IS NULL OR interface_code = @interfaceCode)
           AND (@includeRefused = 1 OR accepted = 1) ORDER BY id`,
      )
      .all({
        taxNo: filter.taxNo ?? null,
        interfaceCode: filter.interfaceCode ?? null,
        includeRefused: filter.includeRefused ? 1 : 0,
      }) as Row[];
    return rows.map((r) => ({
      id: num(r.id),
      time: num(r.time),
      taxNo: str(r.tax_no),
      interfaceCode: str(r.interface_code),
      requestId: str(r.request_id),
      taskNo: str(r.task_no),
      invoiceNos: JSON.parse(str(r.invoice_nos)) as string[],
      outcome: str(r.outcome),
      accepted: r.accepted === 1,
      refusal: r.accepted === 1 ? null : { code: str(r.refusal_code), message: str(r.refusal_message) },
      period: str(r.period),
      statisticStatus: str(r.statistic_status),
      operateType: str(r.operate_type),
      authenticateFlag: str(r.authenticate_flag),
      selectAction: str(r.select_action),
      invoices: JSON.parse(str(r.invoices_json)) as LedgerInvoice[],
      taskResult:
        r.task_result_json === null || r.task_result_json === undefined ? null : JSON.parse(str(r.task_result_json)),
    }));
  }
}
