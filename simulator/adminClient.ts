import axios, { type AxiosInstance } from 'axios';
import type { PoolInvoice } from '../protocol/interfaces.js';
import type {
  AddInvoicesBody,
  AuthSettingsBody,
  ClockState,
  GenerateInvoicesBody,
  LedgerQuery,
  LedgerRecord,
  SeedDemoBody,
  TaskDelaysBody,
  TaxpayerBody,
  TaxpayerSummary,
  TenantEncodingBody,
} from './admin/schemas.js';

export type { ClockState, LedgerRecord, TaxpayerSummary };

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
  getTaxpayer(taxNo: string): Promise<TaxpayerSummary> {
    return this.get(`/admin/taxpayers/${encodeURIComponent(taxNo)}`);
  }
  ledger(query: LedgerQuery = {}): Promise<LedgerRecord[]> {
    return this.get('/admin/ledger', query);
  }
}
