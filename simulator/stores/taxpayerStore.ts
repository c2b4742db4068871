import type { Db } from '../db.js';
import { num, numOrNull, str, type Row } from './rows.js';
import type { StatisticStatus } from '../../protocol/codes.js';

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

export interface Statistic {
  taxNo: string;
  period: string;
  status: StatisticStatus;
  updatedAt: number;
  confirmedAt: number | null;
}

/** One invoice of a write request (select, cancel, pre-selection confirmation, booking). */

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

/** Taxpayers, their tax periods and bureau logins, and their statistic tables. */
export class TaxpayerStore {
  constructor(private readonly db: Db) {}

  upsert(t: Taxpayer): void {
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
  get(taxNo: string): Taxpayer | undefined {
    const row = this.db.prepare('SELECT * FROM taxpayers WHERE tax_no = ?').get(taxNo) as Row | undefined;
    return row ? toTaxpayer(row) : undefined;
  }
  list(): Taxpayer[] {
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
}
