/**
 * Codes of the invoice cloud and the bureau. Values seen in the integration guide's samples are
 * marked (seed); the rest are the sandbox's own or our assumptions (docs/assumptions.md). The
 * client recognises replies through the protocol profile, not through these constants.
 */
import { codeSet, codesOf } from './codeSet.js';

/** Gateway-level errorCode values of the business envelope. */
export const GatewayCode = {
  Ok: '0000', // (seed) 请求成功; the profile's successCodes decide what the client accepts
  PeriodChangeUnsupported: '0201', // (seed) 4.12: 非新电子平台或者乐企通道，不支持变更属期。
  NoSuchStatisticTask: '2002', // (seed) 4.11: 未查询到“生成统计表”或“撤销统计表”相关任务…
  TaxpayerNotAvailable: '1130', // (seed) taxNo not in tenant / 没有开启软证书模式
  TaskProcessing: '6910', // (seed) 异步任务处理中，请稍后再查询。
  // The sandbox's own codes: nothing documents them (a real tenant's are recognised by the profile).
  InvalidRequest: '1001', // request body or decoded data failed validation
  TokenInvalid: '1002', // access_token missing, unknown or expired
  UnknownInterface: '1003', // interfaceCode not served
  NoSuchTask: '2001', // taskNo unknown for select / confirm result queries
  BusinessRuleViolated: '3001', // the bureau refused the operation (message says why)
  ConfirmationNotOpen: '3002', // 未到统计确认时间: confirmation opens when the period's month ends
  QuotaExceeded: '4290', // tenant request quota exhausted
  InternalError: '9999',
} as const;
export type GatewayCode = (typeof GatewayCode)[keyof typeof GatewayCode];

/** Per-invoice result codes of a selection task (4.06), each with the bureau's message. */
const SELECT_RESULTS = codeSet({
  Ok: [1, '勾选成功'],
  NoSuchInvoice: [2, '发票不存在'],
  Abnormal: [3, '发票状态异常'],
  AlreadyCertified: [4, '发票已认证'],
  Overdue: [5, '发票已逾期'],
  Void: [11, '发票已作废'],
  RedFlushed: [12, '发票已红冲'],
  OutOfControl: [15, '发票已失控'],
  RedLetterInvoice: [16, '红字发票不允许勾选'],
  InvalidEffectiveTax: [18, '有效抵扣税额不合法'],
  AlreadySelected: [19, '发票已勾选'],
  PeriodLocked: [20, '当前所属期已生成统计表，已锁定勾选'],
  NotCurrentPeriod: [24, '非当期发票'],
  Selecting: [35, '发票勾选中'],
  BureauLoginFailed: [36, '税局登录失败'],
});
export const SelectResultCode = SELECT_RESULTS.codes;
export type SelectResultCode = (typeof SelectResultCode)[keyof typeof SelectResultCode];
export const SELECT_RESULT_MESSAGES = SELECT_RESULTS.labels;

/** Statistic table status (统计表状态, createTjbbStatus; docs/protocol.md). */
export const StatisticStatus = {
  NotGenerated: '01',
  Generating: '21',
  /** Generated and confirmable. */
  Generated: '02',
  NothingSelected: '22',
  GeneratedOutsideWindow: '03',
  /** Generated, not confirmable (yet): e.g. before the period's month has ended. */
  GeneratedNotConfirmable: '04',
  Confirmed: '05',
} as const;
export type StatisticStatus = (typeof StatisticStatus)[keyof typeof StatisticStatus];
export const STATISTIC_STATUSES = Object.values(StatisticStatus) as [StatisticStatus, ...StatisticStatus[]];

const STATISTIC_STATUS_TEXT: Record<StatisticStatus, string> = {
  '01': 'not generated 未生成',
  '21': 'generating 生成中',
  '02': 'generated, confirmable 已生成',
  '22': 'nothing selected 无勾选数据',
  '03': 'generated outside the filing window, regenerate 非申报期生成',
  '04': 'generated, not confirmable yet 已生成（暂不可确认）',
  '05': 'confirmed 已确认',
};
/** A statistic status (createTjbbStatus) for people: English and Chinese; '' for a status nobody documented. */
export function describeStatisticStatus(status: string): string {
  return (STATISTIC_STATUS_TEXT as Record<string, string>)[status] ?? '';
}

/**
 * Kingdee invoice types (发票类型), each with its name and when it is deductible: special invoices,
 * vehicle, toll, customs and the all-electronic tickets in their own right; ordinary invoices only
 * for agricultural products (农产品).
 */
const INVOICE_TYPES = {
  ElectronicOrdinary: { code: 1, name: '增值税电子普通发票', deductible: 'agricultural-only' },
  ElectronicSpecial: { code: 2, name: '增值税电子专用发票', deductible: 'always' },
  PaperOrdinary: { code: 3, name: '增值税普通发票（纸质）', deductible: 'agricultural-only' },
  PaperSpecial: { code: 4, name: '增值税专用发票（纸质）', deductible: 'always' },
  MotorVehicle: { code: 12, name: '机动车销售统一发票', deductible: 'always' },
  TollElectronic: { code: 15, name: '通行费电子发票', deductible: 'always' },
  CustomsPayment: { code: 21, name: '海关缴款书', deductible: 'always' },
  AllElectronicOrdinary: { code: 26, name: '数电票（普通发票）', deductible: 'agricultural-only' },
  AllElectronicSpecial: { code: 27, name: '数电票（增值税专用发票）', deductible: 'always' },
  AllElectronicAirItinerary: { code: 28, name: '数电票（航空运输电子客票行程单）', deductible: 'always' },
  AllElectronicRailway: { code: 29, name: '数电票（铁路电子客票）', deductible: 'always' },
  AllElectronicMotorVehicle: { code: 83, name: '数电发票（机动车销售统一发票）', deductible: 'always' },
} as const satisfies Record<string, { code: number; name: string; deductible: 'always' | 'agricultural-only' }>;
const INVOICE_TYPE_LIST = Object.values(INVOICE_TYPES);

export const InvoiceType = codesOf(INVOICE_TYPES);
export type InvoiceType = (typeof InvoiceType)[keyof typeof InvoiceType];

export const INVOICE_TYPE_NAMES = Object.fromEntries(INVOICE_TYPE_LIST.map((t) => [t.code, t.name])) as Record<
  InvoiceType,
  string
>;

/** The name of an invoice type code, or undefined for a code not in InvoiceType. */
export function invoiceTypeName(code: number): string | undefined {
  return (INVOICE_TYPE_NAMES as Record<number, string>)[code];
}

/** Types deductible in their own right. */
export const ALWAYS_DEDUCTIBLE_TYPES: readonly number[] = INVOICE_TYPE_LIST.filter(
  (t) => t.deductible === 'always',
).map((t) => t.code);
/** Ordinary invoices: deductible only for agricultural products (农产品). */
export const AGRICULTURAL_ONLY_TYPES: readonly number[] = INVOICE_TYPE_LIST.filter(
  (t) => t.deductible === 'agricultural-only',
).map((t) => t.code);

/** Invoice status (发票状态). Only Normal and PartlyRedFlushed can be selected. */
export const InvoiceStatus = {
  Normal: 0,
  OutOfControl: 1,
  Void: 2,
  RedFlushed: 3,
  Abnormal: 4,
  PartlyRedFlushed: 7,
} as const;
export type InvoiceStatus = (typeof InvoiceStatus)[keyof typeof InvoiceStatus];
export const SELECTABLE_INVOICE_STATUSES: readonly number[] = [0, 7];

/** deductionPurpose of 4.05. */
export const DeductionPurpose = { Deduct: '1', NotDeduct: '2', Refund: '3' } as const;

/** operateType of 4.08. */
export const StatisticOperation = { Generate: '1', Revoke: '2' } as const;

/** Seed message for a taxNo outside the tenant (4.04 sample). */
export function taxNoNotInTenantMessage(taxNo: string, tenantNo: string): string {
  return `税号:${taxNo},不在租户:${tenantNo} 范围内`;
}
/** Seed message for a taxpayer without soft-certificate mode (4.07 sample). */
export function softCertificateOffMessage(taxNo: string): string {
  return `税号:${taxNo},没有开启软证书模式`;
}
export const TASK_PROCESSING_MESSAGE = '异步任务处理中，请稍后再查询。'; // (seed) 4.06
export const NO_STATISTIC_TASK_MESSAGE =
  '未查询到“生成统计表”或“撤销统计表”相关任务，请确认“请求任务号”或“接口类型”是否正确。'; // (seed) 4.11
export const PERIOD_CHANGE_UNSUPPORTED_MESSAGE = '非新电子平台或者乐企通道，不支持变更属期。'; // (seed) 4.12
export const OK_MESSAGE = '请求成功'; // (seed)

/*
 * Pool dimensions (补充说明 2, 业务说明, 异构对接说明 1). The seed names these dimensions but not
 * their codes, so every code below is our assumption (docs/assumptions.md). The keys double as
 * the names used in the auto-accounting rules file and the selection pool filter.
 */

/** Where a pool invoice came from (数据来源). */
const DATA_SOURCE_SET = codeSet({
  BureauDownload: ['1', '税局下载同步 bureau download'],
  Collected: ['2', '进项采集 collected'],
});
export const DataSource = DATA_SOURCE_SET.codes;
export type DataSource = (typeof DataSource)[keyof typeof DataSource];
export const DATA_SOURCES = Object.values(DataSource) as [DataSource, ...DataSource[]];
export const DATA_SOURCE_NAMES = DATA_SOURCE_SET.labels;

/** The business document a pool invoice is bound to (绑定发票的单据类型), 业务说明. */
const BOUND_BILL_TYPE_SET = codeSet({
  None: ['0', '未绑定单据 no document'],
  ExpenseClaim: ['1', '费用报销 expense claim'],
  TravelClaimClientPaid: ['2', '差旅报销-客户付费 travel claim, client-paid'],
  TravelClaimNotClientPaid: ['3', '差旅报销-非客户付费 travel claim, not client-paid'],
  SupplierPayment: ['4', '对供应商付款 supplier payment'],
  ProjectProcurement: ['5', '项目采购 project procurement'],
  Subcontracting: ['6', '服务分包付款 subcontracting payment'],
});
export const BoundBillType = BOUND_BILL_TYPE_SET.codes;
export type BoundBillType = (typeof BoundBillType)[keyof typeof BoundBillType];
export const BOUND_BILL_TYPES = Object.values(BoundBillType) as [BoundBillType, ...BoundBillType[]];
export const BOUND_BILL_TYPE_NAMES = BOUND_BILL_TYPE_SET.labels;

/** Accounting status of a pool invoice (入账状态). */
export const AccountStatus = { NotBooked: '0', Booked: '1' } as const;
export type AccountStatus = (typeof AccountStatus)[keyof typeof AccountStatus];
export const ACCOUNT_STATUSES = Object.values(AccountStatus) as [AccountStatus, ...AccountStatus[]];

/** Per-invoice result codes of an accounting task (invoiceAccountQuery, assumption). */
const ACCOUNT_RESULTS = codeSet({
  Booked: [1, '入账成功'],
  NoSuchInvoice: [2, '发票不存在'],
  AlreadyBooked: [3, '发票已入账，不可重复入账'],
  NotBookable: [4, '发票状态不允许入账'],
});
export const AccountResultCode = ACCOUNT_RESULTS.codes;
export type AccountResultCode = (typeof AccountResultCode)[keyof typeof AccountResultCode];
export const ACCOUNT_RESULT_MESSAGES = ACCOUNT_RESULTS.labels;
