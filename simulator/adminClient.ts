import axios, { type AxiosInstance } from 'axios';
import type { PoolInvoice } from '../protocol/interfaces.js';
import type {
  AddInvoicesBody,
  AuthSettingsBody,
  ClockState,
  FaultsServed,
  GenerateInvoicesBody,
  LedgerQuery,
  LedgerRecord,
  ProfileBody,
  ProfileState,
  RequestIdDedupState,
  SeedDemoBody,
  StatisticRecord,
  TaskDelaysBody,
  TaxpayerBody,
  TaxpayerSummary,
  TenantEncodingBody,
} from './admin/schemas.js';

import type { Invariants } from './admin/invariants.js';
import type { StoredInvoice } from './store.js';
import type { ReceivedWebhook } from './plugins/webhooks.js';
import type { RobotMessage, RobotPlatform } from './plugins/robotDesk.js';
import type {
  FaultSettings,
  FaultSettingsInput,
  LatencyDistribution,
  QuotaSettings,
  TaskLatencyBody,
} from './faults/schemas.js';

export type { ReceivedWebhook, RobotMessage, RobotPlatform };
export type {
  ClockState,
  FaultSettings,
  FaultSettingsInput,
  FaultsServed,
  Invariants,
  LedgerRecord,
  ProfileState,
  RequestIdDedupState,
  StatisticRecord,
  StoredInvoice,
  TaxpayerSummary,
};
export type TaskLatencies = Record<TaskLatencyBody['kind'], LatencyDistribution>;

/** Typed client of the sandbox admin API. Non-2xx answers reject (axios errors). */
export class SandboxAdmin {
  private readonly http: AxiosInstance;

  constructor(baseUrl: string) {
    this.http = axios.create({ baseURL: baseUrl, timeout: 30_000 });
  }

  private async post<T>(path: string, body: unknown): Promise<T> {
    return (await this.http.post<T>(path, body)).data;
  }
  private async get<T>(path: string, params?: object): Promise<T> {
    return (await this.http.get<T>(path, { params })).data;
  }

  health(): Promise<{ status: string; now: string }> {
    return this.get('/health');
  }
  seedDemo(body: SeedDemoBody = {}): Promise<{ taxpayers: TaxpayerSummary[] }> {
    return this.post('/admin/demo', body);
  }
  /** Sets the sandbox clock to `now` (an ISO date-time or a Date). */
  setClock(now: string | Date): Promise<ClockState> {
    return this.post('/admin/clock', { now: now instanceof Date ? now.toISOString() : now });
  }
  getClock(): Promise<ClockState> {
    return this.get('/admin/clock');
  }
  setTaskDelays(body: TaskDelaysBody): Promise<Required<TaskDelaysBody>> {
    return this.post('/admin/task-delays', body);
  }
  getTaskDelays(): Promise<Required<TaskDelaysBody>> {
    return this.get('/admin/task-delays');
  }
  setAuthSettings(body: AuthSettingsBody): Promise<Required<AuthSettingsBody>> {
    return this.post('/admin/auth-settings', body);
  }
  setTenantEncoding(body: TenantEncodingBody): Promise<{ tenantId: string; kind: string }> {
    return this.post('/admin/tenant-encoding', body);
  }
  upsertTaxpayer(body: TaxpayerBody): Promise<TaxpayerSummary> {
    return this.post('/admin/taxpayers', body);
  }
  listTaxpayers(): Promise<TaxpayerSummary[]> {
    return this.get('/admin/taxpayers');
  }
  addInvoices(taxNo: string, invoices: AddInvoicesBody['invoices']): Promise<{ added: number }> {
    return this.post(`/admin/taxpayers/${encodeURIComponent(taxNo)}/invoices`, { invoices });
  }
  generateInvoices(taxNo: string, body: GenerateInvoicesBody): Promise<{ invoices: PoolInvoice[] }> {
    return this.post(`/admin/taxpayers/${encodeURIComponent(taxNo)}/invoices/generate`, body);
  }
  /** Invoices the bureau holds but the pool lacks until invoiceDown (进项表头归集) pulls them in. */
  addBureauInvoices(taxNo: string, invoices: AddInvoicesBody['invoices']): Promise<{ added: number }> {
    return this.post(`/admin/taxpayers/${encodeURIComponent(taxNo)}/bureau-invoices`, { invoices });
  }
  generateBureauInvoices(taxNo: string, body: GenerateInvoicesBody): Promise<{ invoices: PoolInvoice[] }> {
    return this.post(`/admin/taxpayers/${encodeURIComponent(taxNo)}/bureau-invoices/generate`, body);
  }
  getTaxpayer(taxNo: string): Promise<TaxpayerSummary> {
    return this.get(`/admin/taxpayers/${encodeURIComponent(taxNo)}`);
  }
  /** The taxpayer's pool with the bureau's selection state of each invoice. */
  listInvoices(taxNo: string): Promise<StoredInvoice[]> {
    return this.get(`/admin/taxpayers/${encodeURIComponent(taxNo)}/invoices`);
  }
  /** A period's statistic table (status and items) as the bureau holds it; default the current period. */
  statistic(taxNo: string, period?: string): Promise<StatisticRecord> {
    return this.get(`/admin/taxpayers/${encodeURIComponent(taxNo)}/statistic`, period ? { period } : {});
  }
  /**
   * Write requests that reached the bureau, oldest first: accepted ones, and with
   * `includeRefused: 'true'` also the ones it refused. Requests answered from the requestId
   * cache (only with requestId de-duplication on, setRequestIdDedup) are not there.
   */
  ledger(query: LedgerQuery = {}): Promise<LedgerRecord[]> {
    return this.get('/admin/ledger', query);
  }
  /** Invariants over every settled bureau task: violation lists are empty for a correct client. */
  invariants(): Promise<Invariants> {
    return this.get('/admin/invariants');
  }

  /**
   * The protocol profile the sandbox speaks (protocol/profile.ts: interface codes, select flag,
   * confirm-result interface, statistic categories): for one tenant, or by default ("*") for every
   * tenant without its own. Omitted settings take the defaults.
   */
  setProfile(profile: ProfileBody['profile'], tenantId = '*'): Promise<ProfileState> {
    return this.post('/admin/profile', { tenantId, profile });
  }
  /** The profile in force for a tenant (default "*": the one for every tenant without its own). */
  getProfile(tenantId = '*'): Promise<ProfileState> {
    return this.get('/admin/profile', { tenantId });
  }

  /**
   * Whether a write repeating a requestId gets its first reply instead of reaching the bureau
   * again: for one tenant, or by default ("*") for every tenant without its own. Off unless set.
   */
  setRequestIdDedup(enabled: boolean, tenantId = '*'): Promise<RequestIdDedupState> {
    return this.post('/admin/request-id-dedup', { tenantId, enabled });
  }
  getRequestIdDedup(tenantId = '*'): Promise<RequestIdDedupState> {
    return this.get('/admin/request-id-dedup', { tenantId });
  }

  // Faults (docs/sandbox.md, "Faults"). Each setFaults call replaces the tenant's faults.
  setFaults(faults: FaultSettingsInput, tenantId = 'devbiz'): Promise<FaultSettings & { tenantId: string }> {
    return this.post('/admin/faults', { tenantId, ...faults });
  }
  clearFaults(tenantId = 'devbiz'): Promise<FaultSettings & { tenantId: string }> {
    return this.setFaults({}, tenantId);
  }
  getFaults(tenantId = 'devbiz'): Promise<FaultSettings & { tenantId: string }> {
    return this.get('/admin/faults', { tenantId });
  }
  /** Faults served to the tenant so far, counted across sandbox restarts. */
  faultsServed(tenantId = 'devbiz'): Promise<FaultsServed> {
    return this.get('/admin/faults/served', { tenantId });
  }
  /** Every access token of the tenant expires now: its next business call answers 1002. */
  expireTokens(tenantId = 'devbiz'): Promise<{ tenantId: string; expired: number }> {
    return this.post('/admin/faults/expire-tokens', { tenantId });
  }
  /** The bureau login lapses (one taxNo or all): selection answers 36 until taxLogin. */
  expireBureauLogins(taxNo?: string): Promise<{ taxNo: string | null; expired: number }> {
    return this.post('/admin/faults/expire-bureau-logins', taxNo === undefined ? {} : { taxNo });
  }
  /** Gateway requests per second for the tenant; null lifts the quota. Over it: errorCode 4290. */
  setQuota(quota: QuotaSettings, tenantId = 'devbiz'): Promise<QuotaSettings & { tenantId: string }> {
    return this.post('/admin/quota', { tenantId, ...quota });
  }
  getQuota(tenantId = 'devbiz'): Promise<QuotaSettings & { tenantId: string }> {
    return this.get('/admin/quota', { tenantId });
  }
  setTaskLatency(body: TaskLatencyBody): Promise<{ kind: string; distribution: LatencyDistribution }> {
    return this.post('/admin/task-latency', body);
  }
  getTaskLatency(): Promise<TaskLatencies> {
    return this.get('/admin/task-latency');
  }
  /** The URL of the sandbox's webhook receiver `name` (a notification channel for tests). */
  webhookUrl(name: string): string {
    return `${this.http.defaults.baseURL}/webhooks/${encodeURIComponent(name)}`;
  }
  /** Makes the webhook receiver `name` answer 503 (a chat platform down) until called with false. */
  async setWebhookFailing(name: string, failing: boolean): Promise<void> {
    await this.post('/admin/webhooks/failing', { name, failing });
  }
  /** Notices the webhook receiver got, oldest first; only those posted to `name` when given. */
  webhooks(name?: string): Promise<ReceivedWebhook[]> {
    return this.get('/admin/webhooks', name === undefined ? {} : { name });
  }
  /** The sandbox's robot webhook URL of a platform (WeCom key, DingTalk access_token, Feishu hook token). */
  robotUrl(platform: RobotPlatform, token: string): string {
    const base = this.http.defaults.baseURL;
    const t = encodeURIComponent(token);
    if (platform === 'wecom') return `${base}/wecom/cgi-bin/webhook/send?key=${t}`;
    if (platform === 'dingtalk') return `${base}/dingtalk/robot/send?access_token=${t}`;
    return `${base}/feishu/open-apis/bot/v2/hook/${t}`;
  }
  /** Makes the robot a signing one with `secret` (null: it signs nothing again). */
  async setRobotSecret(platform: RobotPlatform, token: string, secret: string | null): Promise<void> {
    await this.post('/admin/robots', { platform, token, secret });
  }
  /** Messages the sandbox's robots accepted, oldest first. */
  robotMessages(filter: { platform?: RobotPlatform; token?: string } = {}): Promise<RobotMessage[]> {
    return this.get('/admin/robots/messages', filter);
  }
  /** The sandbox's OpenAPI document. */
  openApi(): Promise<Record<string, unknown>> {
    return this.get('/openapi.json');
  }
}
