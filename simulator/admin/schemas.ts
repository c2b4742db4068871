import { z } from 'zod';
import { ACCOUNT_STATUSES, BOUND_BILL_TYPES, DATA_SOURCES } from '../../protocol/codes.js';
import { Money } from '../../protocol/money.js';
import { IsoDate, TaxPeriod } from '../../protocol/period.js';
import { TaxNo } from '../../protocol/taxNo.js';
import { ProtocolProfile } from '../../protocol/profile.js';
import type { TypeStatistic } from '../bureau/bureau.js';
import type { LedgerEntry } from '../store.js';

/** Bodies of the admin API. Shared by the admin plugin (validation) and SandboxAdmin (types). */

const IsoInstant = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date-time');

export const SeedDemoBody = z.object({
  taxPeriod: TaxPeriod.optional(),
  now: IsoInstant.optional(),
  invoicesPerTaxpayer: z.number().int().min(0).max(5000).optional(),
  seed: z.number().int().optional(),
  reset: z.boolean().optional(),
});
export type SeedDemoBody = z.input<typeof SeedDemoBody>;

export const SetClockBody = z.object({ now: IsoInstant });
export type SetClockBody = z.input<typeof SetClockBody>;

const Ms = z.number().int().min(0);
export const TaskDelaysBody = z.object({
  selectMs: Ms.optional(),
  statisticMs: Ms.optional(),
  confirmMs: Ms.optional(),
  downloadMs: Ms.optional(),
});
export type TaskDelaysBody = z.input<typeof TaskDelaysBody>;

export const AuthSettingsBody = z.object({ accessTokenTtlMs: Ms.optional(), appTokenTtlMs: Ms.optional() });
export type AuthSettingsBody = z.input<typeof AuthSettingsBody>;

export const TenantEncodingBody = z
  .object({
    tenantId: z.string().default('devbiz'),
    kind: z.enum(['base64', 'aes-gcm']),
    password: z.string().default(''),
  })
  .refine((b) => b.kind === 'base64' || b.password.length > 0, {
    message: 'password is required for aes-gcm',
    path: ['password'],
  });
export type TenantEncodingBody = z.input<typeof TenantEncodingBody>;

export const TaxpayerBody = z.object({
  taxNo: TaxNo,
  name: z.string().min(1),
  softCertificate: z.boolean(),
  periodChangeSupported: z.boolean(),
  taxPeriod: TaxPeriod,
  confirmPassword: z.string().min(1),
  tenantId: z.string().min(1).default('devbiz'),
});
export type TaxpayerBody = z.input<typeof TaxpayerBody>;

export const InvoiceInput = z.object({
  invoiceType: z.number().int(),
  invoiceCode: z.string().default(''),
  invoiceNo: z.string().min(1),
  etaxInvoiceNo: z.string().default(''),
  invoiceDate: IsoDate,
  salerName: z.string().default(''),
  salerTaxNo: z.string().default(''),
  invoiceAmount: Money,
  taxAmount: Money,
  totalAmount: Money.optional(),
  invoiceStatus: z.number().int().default(0),
  agricultural: z.boolean().default(false),
  selectStatus: z.enum(['0', '1']).default('0'),
  selectPeriod: z.string().default(''),
  dataSource: z.enum(DATA_SOURCES).default('1'),
  boundBillType: z.enum(BOUND_BILL_TYPES).default('0'),
  boundBillNo: z.string().default(''),
  accountStatus: z.enum(ACCOUNT_STATUSES).default('0'),
  accountPeriod: z.string().default(''),
});
export type InvoiceInput = z.input<typeof InvoiceInput>;
export const AddInvoicesBody = z.object({ invoices: z.array(InvoiceInput).min(1) });
export type AddInvoicesBody = z.input<typeof AddInvoicesBody>;

export const GenerateInvoicesBody = z.object({
  count: z.number().int().min(1).max(5000),
  seed: z.number().int(),
  period: TaxPeriod,
});
export type GenerateInvoicesBody = z.input<typeof GenerateInvoicesBody>;

export const LedgerQuery = z.object({
  taxNo: z.string().optional(),
  interfaceCode: z.string().optional(),
  /** 'true': also the write requests the bureau refused (by default only accepted writes). */
  includeRefused: z.enum(['true', 'false']).optional(),
});
export type LedgerQuery = z.input<typeof LedgerQuery>;

export const StatisticQuery = z.object({ period: TaxPeriod.optional() });

/** A tenant, or "*" (the default) for every tenant without a profile of its own. */
const ProfileTenant = z.string().min(1).default('*');
/** The protocol profile the sandbox speaks to a tenant (protocol/profile.ts; omitted settings take the defaults). */
export const ProfileBody = z.object({ tenantId: ProfileTenant, profile: ProtocolProfile });
export type ProfileBody = z.input<typeof ProfileBody>;
export const ProfileQuery = z.object({ tenantId: ProfileTenant });
export type ProfileQuery = z.input<typeof ProfileQuery>;
export interface ProfileState {
  tenantId: string;
  /** The profile in force for the tenant (its own, else the one for "*", else the defaults). */
  profile: ProtocolProfile;
}
export type StatisticQuery = z.input<typeof StatisticQuery>;

/** Whether repeated requestIds of writes are answered from the first reply, per tenant or "*" (every tenant without its own). */
export const RequestIdDedupBody = z.object({ tenantId: ProfileTenant, enabled: z.boolean() });
export type RequestIdDedupBody = z.input<typeof RequestIdDedupBody>;
export const RequestIdDedupQuery = z.object({ tenantId: ProfileTenant });
export type RequestIdDedupQuery = z.input<typeof RequestIdDedupQuery>;
export interface RequestIdDedupState {
  tenantId: string;
  /** The setting in force for the tenant (its own, else the one for "*", else off). */
  enabled: boolean;
}

export interface TaxpayerSummary {
  taxNo: string;
  name: string;
  tenantId: string;
  softCertificate: boolean;
  periodChangeSupported: boolean;
  taxPeriod: string;
  deductionDeadline: string;
  statisticStatus: string;
  invoiceCount: number;
  selectedCount: number;
  unselectedCount: number;
  confirmedPeriods: string[];
  lastLoginAt: string | null;
}

/** A write request that reached the bureau (see LedgerEntry in simulator/stores/ledgerStore.ts); `time` is sandbox time. */
export type LedgerRecord = Omit<LedgerEntry, 'time'> & { time: string };

/** A period's statistic table as the bureau holds it: its stored status and per 发票云 invoice type sums. */
export interface StatisticRecord {
  taxNo: string;
  period: string;
  statisticStatus: string;
  confirmedAt: string | null;
  items: TypeStatistic[];
}

/** Injected faults the sandbox served to a tenant since its database was created (survives restarts). */
export interface FaultsServed {
  tenantId: string;
  http5xx: number;
  hang: number;
  reset: number;
  corrupt: number;
  slow: number;
  /** Replies lost (5xx, hang, reset) after the request was processed and committed. */
  lostAfterProcessing: number;
  /**
   * Of those, writes answered success (done now, or before under the same requestId with
   * de-duplication on); the client never heard.
   */
  writesLostAfterProcessing: number;
  /** Those writes by interfaceCode (a business reply's interface as the client named it). */
  writesLostByInterface: Record<string, number>;
}

export interface ClockState {
  now: string;
  offsetMs: number;
}
