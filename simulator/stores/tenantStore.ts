import type { Db } from '../db.js';
import { num, str, type Row } from './rows.js';

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

/** Tenants (app ids, secrets, data encoding) and the tokens issued to them. */
export class TenantStore {
  constructor(private readonly db: Db) {}

  upsert(t: Tenant): void {
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
  setEncoding(tenantId: string, encoding: DataEncodingKind, aesPassword: string): boolean {
    return (
      this.db
        .prepare('UPDATE tenants SET encoding = ?, aes_password = ? WHERE tenant_id = ?')
        .run(encoding, aesPassword, tenantId).changes > 0
    );
  }
  get(tenantId: string): Tenant | undefined {
    const row = this.db.prepare('SELECT * FROM tenants WHERE tenant_id = ?').get(tenantId) as Row | undefined;
    return row ? toTenant(row) : undefined;
  }
  getByAppId(appId: string): Tenant | undefined {
    const row = this.db.prepare('SELECT * FROM tenants WHERE app_id = ?').get(appId) as Row | undefined;
    return row ? toTenant(row) : undefined;
  }
  list(): Tenant[] {
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
}
