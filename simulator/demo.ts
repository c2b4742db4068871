import type { PoolInvoice } from '../protocol/interfaces.js';
import type { TaskKind, Tenant } from './store.js';

/** The demo tenant: the integration guide's sample credentials, so its samples replay as they stand. */
export const DEMO_TENANT: Tenant = {
  tenantId: 'devbiz',
  tenantNo: '5368720388',
  accountId: '1534920374578620490',
  appId: 'CASHINV',
  appSecret: '12345678',
  user: '13825207590',
  userType: 'Mobile',
  businessSystemCode: 'yhtest',
  encoding: 'base64',
  aesPassword: '',
};

/** The seed's 4.10 sample password. */
export const DEMO_CONFIRM_PASSWORD = '1234567';

export const DEMO_TAXPAYERS = [
  {
    taxNo: '91440300591872133B',
    name: '深圳市金蝶示例科技有限公司',
    softCertificate: true,
    periodChangeSupported: true,
  },
  // Seed 4.12: its channel answers 0201 to taxperiodChange.
  { taxNo: '91440300MA5G9GK78Y', name: '深圳市示例贸易有限公司', softCertificate: true, periodChangeSupported: false },
  {
    taxNo: '91440300MA5DC6QB6G',
    name: '深圳市示例软证书未开通有限公司',
    softCertificate: false,
    periodChangeSupported: true,
  },
] as const;

export const SEED_SAMPLE_TAX_NO = '91440300MA5G9GK78Y';

/** The invoice of the seed's 4.05 sample (it sends invoiceType "4,27,28,29"; the pool says 27). */
export const SEED_SAMPLE_INVOICE: PoolInvoice = {
  invoiceType: 27,
  invoiceCode: '',
  invoiceNo: '23442000000164214335',
  etaxInvoiceNo: '',
  invoiceDate: '2023-08-16',
  salerName: '深圳市示例供应商有限公司',
  salerTaxNo: '91440300591872133B',
  invoiceAmount: '235.64',
  taxAmount: '2.36',
  totalAmount: '238.00',
  invoiceStatus: 0,
  agricultural: false,
  selectStatus: '0',
  selectPeriod: '',
  dataSource: '1',
  boundBillType: '4',
  boundBillNo: 'FK202308000001',
  accountStatus: '0',
  accountPeriod: '',
};

/**
 * The taskNos the seed's replies show (4.05, 4.08, 4.10). The demo taxpayer's first task of each
 * kind takes them, so the seed's result-query samples (4.06, 4.09, 4.11) replay verbatim.
 */
export const SEED_TASK_NOS: readonly { kind: TaskKind; taskNo: string }[] = [
  { kind: 'select', taskNo: '389d8907ea8e49bf8cdcc81b6731e766' },
  { kind: 'statistic', taskNo: 'b3c8b84b892a4423ae0747c81b6fd8b9' },
  { kind: 'confirm', taskNo: 'd1902f3072db4441a3d7d990709f8cfb' },
];
