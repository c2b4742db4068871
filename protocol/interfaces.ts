import { z } from 'zod';
import { ACCOUNT_STATUSES, BOUND_BILL_TYPES, DATA_SOURCES } from './codes.js';
import { Money } from './money.js';
import { IsoDate, TaxPeriod } from './period.js';
import { TaxNo } from './taxNo.js';

/**
 * Every business interface of the invoice cloud, defined once: its interfaceCode, the seed
 * section it comes from, and the zod schemas of the decoded request and reply `data`. The typed
 * client (activities/) and the sandbox (simulator/) are both derived from this table.
 *
 * The seed fixes the request field names. Replies follow Kingdee's 旗舰版 reference and backend
 * code where they are known (docs/protocol.md gives each shape and its evidence) and are read
 * tolerantly: unknown fields are kept and ignored, numbers and booleans may come as strings, and
 * only the fields a decision needs are required.
 */

// The seed mixes numbers and numeric strings ("asyncFlag": "1" but "authenticateFlag": 0).
// Requests accept either form for flags; the client sends authenticateFlag as a number (as
// documented and as the seed does) and the other flags as strings.
const flag = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .union([z.string(), z.number()])
    .transform((v) => String(v))
    .pipe(z.enum(values));
const positiveInt = z.union([z.string(), z.number()]).pipe(z.coerce.number<string | number>().int().positive());
const TaskNo = z.string().regex(/^[0-9a-f]{32}$/, 'taskNo must be 32 hex characters');

// Tolerant readers for replies (docs/protocol.md): a value may come as a string or a number, a
// boolean as true or "true"; unknown fields are kept (z.looseObject) so drift can be reported.
const text = z.union([z.string(), z.number()]).transform((v) => String(v));
const count = z
  .union([z.number(), z.string().regex(/^\d+$/, 'must be a whole number')])
  .pipe(z.coerce.number<string | number>().int().nonnegative());
const truth = z.union([z.boolean(), z.enum(['true', 'false'])]).transform((v) => v === true || v === 'true');
const amount = z
  .union([z.string(), z.number()])
  .transform((v) => String(v))
  .pipe(Money);

export const TaxNoOnly = z.object({ taxNo: TaxNo });
/** An asynchronous write accepted: its task number (asyncFlag echoes the request's, when sent). */
export const AsyncTaskAccepted = z.looseObject({ asyncFlag: text.optional(), taskNo: z.string().min(1) });
export const TaskQuery = z.object({ taxNo: TaxNo, taskNo: TaskNo });

/** 4.05 invoice line. invoiceType may be one code or a comma list (the seed sends "4,27,28,29"). */
export const SelectInvoiceLine = z.object({
  salerName: z.string(),
  salerTaxNo: z.string(),
  invoiceType: z.string().regex(/^\d+(,\d+)*$/, 'invoiceType must be a code or a comma list of codes'),
  invoiceCode: z.string(),
  invoiceNo: z.string().min(1, 'invoiceNo is required'),
  etaxInvoiceNo: z.string(),
  invoiceDate: IsoDate,
  invoiceAmount: Money,
  effectiveTaxAmount: Money,
  totalTaxAmount: Money,
  notDeductibleType: z.string(),
});
export type SelectInvoiceLine = z.infer<typeof SelectInvoiceLine>;

export const MAX_INVOICES_PER_BATCH = 2000;

export const InvoiceSelectRequest = z
  .object({
    taxNo: TaxNo,
    billType: z.string(),
    authenticateFlag: flag(['0', '1']),
    deductionPurpose: flag(['1', '2', '3', '5']),
    asyncFlag: flag(['0', '1']),
    /** Why, for deductionPurpose 5 (assumption: the seed names purpose 5 but not its field). */
    reason: z.string().optional(),
    invoices: z
      .array(SelectInvoiceLine)
      .min(1, 'invoices must not be empty')
      .max(MAX_INVOICES_PER_BATCH, `at most ${MAX_INVOICES_PER_BATCH} invoices per batch`),
  })
  .superRefine(purposeRequirements);

/** Purpose 2 (not deduct) needs each line's notDeductibleType; purpose 5 a reason (docs/assumptions.md). */
function purposeRequirements(
  r: { deductionPurpose: string; reason?: string | undefined; invoices: { notDeductibleType: string }[] },
  ctx: z.RefinementCtx,
): void {
  if (r.deductionPurpose === '2') {
    r.invoices.forEach((line, i) => {
      if (line.notDeductibleType.trim() === '') {
        ctx.addIssue({
          code: 'custom',
          path: ['invoices', i, 'notDeductibleType'],
          message: 'notDeductibleType is required when deductionPurpose is 2',
        });
      }
    });
  }
  if (r.deductionPurpose === '5' && !r.reason?.trim()) {
    ctx.addIssue({ code: 'custom', path: ['reason'], message: 'reason is required when deductionPurpose is 5' });
  }
}

/**
 * One invoice's outcome in a select reply (4.05 / 4.06): selectResult "1" is success (also for an
 * invoice already selected); anything else is a failure whose description is shown verbatim.
 */
export const SelectResultItem = z.looseObject({
  invoiceCode: text.default(''),
  invoiceNo: text.default(''),
  etaxInvoiceNo: text.optional(),
  invoiceDate: z.string().optional(),
  effectiveTaxAmount: amount.optional(),
  taxPeriod: text.optional(),
  selectDate: z.string().optional(),
  selectResult: text,
  description: z.string().default(''),
});
export type SelectResultItem = z.infer<typeof SelectResultItem>;
const ResultLists = {
  success: z.array(SelectResultItem).default([]),
  fail: z.array(SelectResultItem).default([]),
};

/** 4.05's reply: a task number when asynchronous, or the per-invoice results at once. */
export const InvoiceSelectReply = z
  .looseObject({ asyncFlag: text.optional(), taskNo: z.string().min(1).optional(), ...ResultLists })
  .refine((r) => r.taskNo !== undefined || r.success.length + r.fail.length > 0, {
    message: 'neither a taskNo nor any per-invoice result',
    path: ['taskNo'],
  });
export type InvoiceSelectReply = z.infer<typeof InvoiceSelectReply>;

export const InvoiceSelectQueryRequest = TaskQuery.extend({
  pageNo: positiveInt.default(1),
  pageSize: positiveInt.pipe(z.number().max(500)).default(50),
});
/** 4.06's reply: one page of per-invoice results (`total`, when sent, counts both lists). */
export const InvoiceSelectQueryReply = z.looseObject({
  taskNo: z.string().optional(),
  total: count.optional(),
  pageNo: count.optional(),
  pageSize: count.optional(),
  ...ResultLists,
});
export type InvoiceSelectQueryReply = z.infer<typeof InvoiceSelectQueryReply>;

/**
 * 进项表头归集 (invoiceDown / invoiceDownQuery): the bureau's input invoices, collected into the pool
 * and listed page by page. The requests are Kingdee's (KB: codes and fields); the meaning of
 * searchOpt's fields beyond their names and the whole reply of invoiceDownQuery are OUR ASSUMPTION
 * (docs/protocol.md, docs/assumptions.md), read tolerantly like every reply.
 */
export const MAX_DOWNLOAD_DAYS = 366;
/** Invoices per invoiceDownQuery page (Kingdee's notes name 200). */
export const DOWNLOAD_PAGE_SIZE = 200;
const codes = (field: string) => z.string().regex(/^\d+(,\d+)*$/, `${field} must be a code or a comma list of codes`);
export const InvoiceDownSearchOpt = z
  .object({
    /** The period the invoices are selectable for, or were selected for (our reading). */
    taxPeriod: TaxPeriod.optional(),
    invoiceCode: z.string().optional(),
    invoiceNo: z.string().optional(),
    salerTaxNo: z.string().optional(),
    /** Pool flags (0 未勾选, 1 已勾选, 2 勾选认证, 3 扫描认证, 4 预勾选, 5 勾选中), a comma list. */
    authenticateFlags: codes('authenticateFlags').optional(),
    invoiceStatus: codes('invoiceStatus').optional(),
    invoiceType: codes('invoiceType').optional(),
    /** Invoice dates (开票日期), YYYY-MM-DD (our reading of the format). */
    startTime: IsoDate.optional(),
    endTime: IsoDate.optional(),
  })
  .refine((o) => !o.startTime || !o.endTime || o.endTime >= o.startTime, {
    message: 'endTime must not be before startTime',
    path: ['endTime'],
  })
  .refine(
    (o) =>
      !o.startTime || !o.endTime || Date.parse(o.endTime) - Date.parse(o.startTime) < MAX_DOWNLOAD_DAYS * 86_400_000,
    { message: `the date range spans at most ${MAX_DOWNLOAD_DAYS} days`, path: ['endTime'] },
  );
export const InvoiceDownRequest = z.object({
  taxNo: TaxNo,
  asyncFlag: flag(['0', '1']).default('1'),
  searchOpt: InvoiceDownSearchOpt.default({}),
});
export const InvoiceDownQueryRequest = TaskQuery.extend({
  /** Whether the collected invoices are saved into the pool (our reading: "1" save). */
  saveFlag: flag(['0', '1']).default('1'),
  pageNo: positiveInt.default(1),
  pageSize: positiveInt.pipe(z.number().max(DOWNLOAD_PAGE_SIZE)).default(DOWNLOAD_PAGE_SIZE),
});

/** A date as YYYY-MM-DD, also read from "YYYY-MM-DD HH:mm:ss" or "YYYYMMDD". */
const dateText = text
  .transform((v) => (/^\d{8}$/.test(v) ? `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}` : v.slice(0, 10)))
  .pipe(IsoDate);

/**
 * One invoice of invoiceDownQuery (OUR ASSUMPTION; field names of Kingdee's invoice item and Kingdee's data
 * model): totalTaxAmount is the tax (税额) and totalAmount the total (价税合计) as in that model;
 * authenticateFlag the pool's flag; taxPeriod the period a selected invoice was selected for.
 */
export const DownloadedInvoice = z.looseObject({
  invoiceType: text.pipe(z.string().regex(/^\d+$/, 'invoiceType must be a code')),
  invoiceCode: text.default(''),
  invoiceNo: text.pipe(z.string().min(1, 'invoiceNo is required')),
  etaxInvoiceNo: text.default(''),
  invoiceDate: dateText,
  salerTaxNo: text.default(''),
  salerName: z.string().default(''),
  invoiceAmount: amount,
  totalTaxAmount: amount,
  totalAmount: amount.optional(),
  effectiveTaxAmount: amount.optional(),
  invoiceStatus: text.default('0'),
  authenticateFlag: text.default('0'),
  taxPeriod: text.optional(),
});
export type DownloadedInvoice = z.infer<typeof DownloadedInvoice>;

/** invoiceDownQuery's reply (OUR ASSUMPTION): one page of the task's invoices; without total, a short page is the last. */
export const InvoiceDownQueryReply = z.looseObject({
  taskNo: z.string().optional(),
  total: count.optional(),
  pageNo: count.optional(),
  pageSize: count.optional(),
  invoices: z.array(DownloadedInvoice),
});
export type InvoiceDownQueryReply = z.infer<typeof InvoiceDownQueryReply>;

/**
 * 预勾选 / 预勾选确认 / 预勾选确认结果查询 (补充说明 1): the cloud keeps a pre-selection list that one
 * confirmation sends to the bureau. Codes and fields are assumptions (docs/assumptions.md).
 */
export const PreSelectRequest = z
  .object({
    taxNo: TaxNo,
    deductionPurpose: flag(['1', '2', '3', '5']),
    reason: z.string().optional(),
    invoices: z
      .array(SelectInvoiceLine)
      .min(1, 'invoices must not be empty')
      .max(MAX_INVOICES_PER_BATCH, `at most ${MAX_INVOICES_PER_BATCH} invoices per batch`),
  })
  .superRefine(purposeRequirements);
export const PreSelectReply = z.looseObject({
  taxNo: z.string().optional(),
  /** Pre-selected invoices now waiting for confirmation (this call's and earlier ones). */
  pendingCount: count,
  ...ResultLists,
});
export type PreSelectReply = z.infer<typeof PreSelectReply>;
export const PreSelectConfirmRequest = z.object({ taxNo: TaxNo, asyncFlag: flag(['0', '1']) });
export const PreSelectConfirmReply = AsyncTaskAccepted.extend({
  /** Invoices this confirmation sends (at most one bureau batch). */
  count: z.number().int().nonnegative(),
  /** Still pre-selected after it (confirm again for them). */
  remaining: z.number().int().nonnegative(),
});

/** `skssq`: "YYYYMM;YYYYMMDD;YYYYMM" (period; its deadline, our reading; the calendar month). */
const Skssq = z.string().regex(/^\d{6}(;\d{8})?(;\d{6})?;?$/, 'skssq must look like "YYYYMM;YYYYMMDD;YYYYMM"');
/** `gxrqfw`: "YYYYMMDD-YYYYMMDD", the invoice dates that may be selected. */
const Gxrqfw = z.string().regex(/^\d{8}-\d{8}$/, 'gxrqfw must look like "YYYYMMDD-YYYYMMDD"');

/** 4.04's reply: the current period, as `taxPeriod` or as the first part of `skssq`. */
export const TaxperiodQueryReply = z
  .looseObject({
    taxNo: z.string().optional(),
    taxPeriod: TaxPeriod.optional(),
    skssq: Skssq.optional(),
    gxrqfw: Gxrqfw.optional(),
    allowChangeSsqBySeason: truth.optional(),
  })
  .refine((r) => r.taxPeriod !== undefined || r.skssq !== undefined, {
    message: 'neither taxPeriod nor skssq names the current period',
    path: ['taxPeriod'],
  });
export type TaxperiodQueryReply = z.infer<typeof TaxperiodQueryReply>;

/** One row of the statistic table (tjInfoArr): a bureau category, or "99" for the total. */
export const StatisticRow = z.looseObject({
  invoiceType: text,
  deductibleNum: count,
  deductibleAmount: amount,
  deductibleTax: amount,
  unDeductibleNum: count.default(0),
  unDeductibleAmount: amount.default('0.00'),
  unDeductibleTax: amount.default('0.00'),
});
export type StatisticRow = z.infer<typeof StatisticRow>;

/**
 * The statistic object (统计表) of 4.07 and 4.09: status in createTjbbStatus (protocol/codes.ts),
 * rows in tjInfoArr, or packed in tjInfo ("type=num=amount=tax=num=amount=tax;...") when absent.
 */
export const StatisticObject = z.looseObject({
  /** 4.09 may echo the task it answers. */
  taskNo: z.string().optional(),
  taxPeriod: TaxPeriod.optional(),
  skssq: Skssq.optional(),
  gxrqfw: Gxrqfw.optional(),
  updateTime: z.string().optional(),
  createTjbbStatus: text.pipe(z.string().regex(/^\d{1,2}$/, 'createTjbbStatus must be a status code like "02"')),
  isAllowQxTj: truth.optional(),
  isAllowQrtj: truth.optional(),
  allowChangeSsqBySeason: truth.optional(),
  tjInfo: z.string().optional(),
  tjInfoArr: z.array(StatisticRow).optional(),
});
export type StatisticObject = z.infer<typeof StatisticObject>;

/** A statistic row as the product works with it: a bureau category and its figures. */
export interface StatisticItem {
  /** The bureau's statistic category ("01" special invoices, "03" motor vehicle, ...). */
  category: string;
  deductibleCount: number;
  deductibleAmount: string;
  deductibleTax: string;
  notDeductibleCount: number;
  notDeductibleAmount: string;
  notDeductibleTax: string;
}

/** The statistic as activities hand it to workflows (rules/statisticObject.ts reads it). */
export interface StatisticQueryReply {
  statisticPeriod: string;
  taxPeriod: string;
  deductionDeadline: string;
  updateTime: string;
  statisticStatus: string;
  /** isAllowQrtj: confirming is allowed now (absent when the bureau did not say). */
  confirmable?: boolean;
  /** isAllowQxTj: revoking is allowed now. */
  revocable?: boolean;
  /** The category rows, without the total row. */
  items: StatisticItem[];
  /** The bureau's own total row ("99"), when it sent one. */
  total?: StatisticItem;
}

export const StatisticCreateRequest = z.object({
  taxNo: TaxNo,
  operateType: flag(['1', '2']),
  asyncFlag: flag(['0', '1']),
});

export const StatisticConfirmRequest = z.object({
  taxNo: TaxNo,
  password: z.string().min(1, 'password is required'),
  asyncFlag: flag(['0', '1']),
});

export const TaxperiodChangeRequest = z.object({
  taxNo: TaxNo,
  taxPeriod: TaxPeriod,
  status: z.union([z.string(), z.number()]).pipe(z.coerce.number<string | number>().int()),
});
export const TaxperiodChangeReply = z.looseObject({
  taxNo: z.string().optional(),
  taxPeriod: TaxPeriod.optional(),
  allowChangeSsqBySeason: truth.optional(),
});

/** A pool invoice (全票池) as the pool query returns it. */
export const PoolInvoice = z.object({
  invoiceType: z.number().int(),
  invoiceCode: z.string(),
  invoiceNo: z.string(),
  etaxInvoiceNo: z.string(),
  invoiceDate: IsoDate,
  salerName: z.string(),
  salerTaxNo: z.string(),
  invoiceAmount: Money,
  taxAmount: Money,
  totalAmount: Money,
  invoiceStatus: z.number().int(),
  agricultural: z.boolean(),
  // 0 not selected, 1 selected, 5 勾选中 (in a select task not settled yet: the sandbox's reading
  // of the pool flag authenticateFlag 5)
  selectStatus: z.enum(['0', '1', '5']),
  selectPeriod: z.string(), // the period it was selected for, '' when not selected
  // Pool dimensions (补充说明 2; codes are assumptions, protocol/codes.ts).
  dataSource: z.enum(DATA_SOURCES),
  boundBillType: z.enum(BOUND_BILL_TYPES),
  boundBillNo: z.string(), // '' when boundBillType is 0 (none)
  accountStatus: z.enum(ACCOUNT_STATUSES),
  accountPeriod: z.string(), // the accounting period it was booked into, '' when not booked
});
export type PoolInvoice = z.infer<typeof PoolInvoice>;

/** A comma list of codes from `values`, e.g. "1,2" (pool query filters). */
const codeList = <T extends readonly [string, ...string[]]>(field: string, values: T) =>
  z
    .string()
    .refine(
      (v) => v.split(',').every((c) => (values as readonly string[]).includes(c)),
      `${field} must be a comma list of ${values.join('/')}`,
    );

export const InvoicePoolQueryRequest = z.object({
  taxNo: TaxNo,
  invoiceDateStart: IsoDate.optional(),
  invoiceDateEnd: IsoDate.optional(),
  invoiceType: z
    .string()
    .regex(/^\d+(,\d+)*$/)
    .optional(),
  selectStatus: z.enum(['0', '1', '5']).optional(),
  dataSource: codeList('dataSource', DATA_SOURCES).optional(),
  boundBillType: codeList('boundBillType', BOUND_BILL_TYPES).optional(),
  accountStatus: z.enum(ACCOUNT_STATUSES).optional(),
  accountPeriod: TaxPeriod.optional(),
  pageNo: positiveInt.default(1),
  pageSize: positiveInt.pipe(z.number().max(1000)).default(100),
});
export const InvoicePoolQueryReply = z.object({
  total: z.number().int().nonnegative(),
  pageNo: z.number().int().positive(),
  pageSize: z.number().int().positive(),
  invoices: z.array(PoolInvoice),
});
export type InvoicePoolQueryReply = z.infer<typeof InvoicePoolQueryReply>;

/** Accounting (入账, 补充说明 2): the seed defines no interface, so all of this is assumed. */
export const AccountInvoiceLine = z.object({
  invoiceCode: z.string(),
  invoiceNo: z.string().min(1, 'invoiceNo is required'),
  accountPeriod: TaxPeriod,
});
export type AccountInvoiceLine = z.infer<typeof AccountInvoiceLine>;

export const MAX_INVOICES_PER_ACCOUNT_BATCH = 500;

export const InvoiceAccountRequest = z.object({
  taxNo: TaxNo,
  asyncFlag: flag(['0', '1']),
  invoices: z
    .array(AccountInvoiceLine)
    .min(1, 'invoices must not be empty')
    .max(MAX_INVOICES_PER_ACCOUNT_BATCH, `at most ${MAX_INVOICES_PER_ACCOUNT_BATCH} invoices per batch`),
});

export const AccountResultLine = AccountInvoiceLine.extend({
  resultCode: z.number().int(),
  resultMsg: z.string(),
});
export type AccountResultLine = z.infer<typeof AccountResultLine>;

export const InvoiceAccountQueryReply = z.object({
  taskNo: TaskNo,
  total: z.number().int().nonnegative(),
  successCount: z.number().int().nonnegative(),
  failCount: z.number().int().nonnegative(),
  invoices: z.array(AccountResultLine),
});
export type InvoiceAccountQueryReply = z.infer<typeof InvoiceAccountQueryReply>;

interface InterfaceDefinition<Req extends z.ZodType, Rep extends z.ZodType> {
  interfaceCode: string;
  section: string;
  title: string;
  request: Req;
  reply: Rep;
}
const define = <Req extends z.ZodType, Rep extends z.ZodType>(d: InterfaceDefinition<Req, Rep>) => d;

export const interfaces = {
  taxLogin: define({
    interfaceCode: 'taxLogin',
    section: '4.02',
    title: '税局登录',
    request: TaxNoOnly,
    reply: z.looseObject({
      loginType: text,
      needAuth: truth.optional(),
      loginWebUrl: z.string().optional(),
      taxNo: z.string().optional(),
      skssq: Skssq.optional(),
      gxrqfw: Gxrqfw.optional(),
    }),
  }),
  taxperiodQuery: define({
    interfaceCode: 'taxperiodQuery',
    section: '4.04',
    title: '获取税款所属期信息',
    request: TaxNoOnly,
    reply: TaxperiodQueryReply,
  }),
  invoiceSelect: define({
    interfaceCode: 'invoiceSelect',
    section: '4.05',
    title: '发票勾选&撤销勾选',
    request: InvoiceSelectRequest,
    reply: InvoiceSelectReply,
  }),
  invoiceSelectQuery: define({
    interfaceCode: 'invoiceSelectQuery',
    section: '4.06',
    title: '发票勾选结果查询',
    request: InvoiceSelectQueryRequest,
    reply: InvoiceSelectQueryReply,
  }),
  statisticQuery: define({
    interfaceCode: 'statisticQuery',
    section: '4.07',
    title: '当前统计查询',
    request: TaxNoOnly,
    reply: StatisticObject,
  }),
  statisticCreate: define({
    interfaceCode: 'statisticCreate',
    section: '4.08',
    title: '生成&撤销统计表',
    request: StatisticCreateRequest,
    reply: AsyncTaskAccepted,
  }),
  statisticCreateQuery: define({
    interfaceCode: 'statisticCreateQuery',
    section: '4.09',
    title: '生成&撤销统计表结果查询',
    request: TaskQuery,
    reply: StatisticObject,
  }),
  statisticConfirm: define({
    interfaceCode: 'statisticConfirm',
    section: '4.10',
    title: '确认统计表',
    request: StatisticConfirmRequest,
    reply: AsyncTaskAccepted,
  }),
  // 4.11: no confirm-result interface is documented (the seed's sample gets 2002 from
  // statisticCreateQuery). A confirmation is seen as createTjbbStatus 05; a tenant with a result
  // interface of its own names it in the protocol profile, and it answers the statistic object.
  statisticConfirmResult: define({
    interfaceCode: 'statisticConfirmResult',
    section: '4.11',
    title: '确认统计表结果查询（租户自有）',
    request: TaskQuery,
    reply: StatisticObject,
  }),
  taxperiodChange: define({
    interfaceCode: 'taxperiodChange',
    section: '4.12',
    title: '变更税款所属期',
    request: TaxperiodChangeRequest,
    reply: TaxperiodChangeReply,
  }),
  // 进项表头归集: Kingdee's requests (KB), our reply (docs/protocol.md). Pre-selection (补充说明 1):
  // codes and fields are ours (docs/assumptions.md).
  invoiceDown: define({
    interfaceCode: 'invoiceDown',
    section: 'KB 进项表头归集',
    title: '进项表头归集',
    request: InvoiceDownRequest,
    reply: AsyncTaskAccepted,
  }),
  invoiceDownQuery: define({
    interfaceCode: 'invoiceDownQuery',
    section: 'KB 进项表头归集',
    title: '进项表头归集结果查询',
    request: InvoiceDownQueryRequest,
    reply: InvoiceDownQueryReply,
  }),
  preSelect: define({
    interfaceCode: 'preSelect',
    section: '补充说明 1',
    title: '预勾选',
    request: PreSelectRequest,
    reply: PreSelectReply,
  }),
  preSelectConfirm: define({
    interfaceCode: 'preSelectConfirm',
    section: '补充说明 1',
    title: '预勾选确认',
    request: PreSelectConfirmRequest,
    reply: PreSelectConfirmReply,
  }),
  preSelectConfirmQuery: define({
    interfaceCode: 'preSelectConfirmQuery',
    section: '补充说明 1',
    title: '预勾选确认结果查询',
    request: InvoiceSelectQueryRequest,
    reply: InvoiceSelectQueryReply,
  }),
  // A sandbox feature: Kingdee's pool list has REST paths of its own, not found; no
  // invoicePoolQuery exists in any source (docs/protocol.md). Real tenants use another source.
  invoicePoolQuery: define({
    interfaceCode: 'invoicePoolQuery',
    section: '沙箱 sandbox',
    title: '沙箱全票池查询 (sandbox pool query)',
    request: InvoicePoolQueryRequest,
    reply: InvoicePoolQueryReply,
  }),
  // 4.18 出口退税勾选统计 (DOC): read-only; listed so every documented reply reads the same way.
  exportRebateStatisticQuery: define({
    interfaceCode: 'exportRebateStatisticQuery',
    section: '4.18',
    title: '出口退税勾选统计',
    request: z.object({ taxNo: TaxNo, taxPeriod: TaxPeriod.optional(), queryType: z.enum(['0', '1']).optional() }),
    reply: z.looseObject({
      statInfoArr: z.array(z.looseObject({ statInvoiceType: text, num: count, totalTaxAmount: amount })).default([]),
    }),
  }),
  // Auto-accounting (补充说明 2): interface codes and fields are ours (docs/assumptions.md).
  invoiceAccount: define({
    interfaceCode: 'invoiceAccount',
    section: '补充说明 2',
    title: '发票入账',
    request: InvoiceAccountRequest,
    reply: AsyncTaskAccepted,
  }),
  invoiceAccountQuery: define({
    interfaceCode: 'invoiceAccountQuery',
    section: '补充说明 2',
    title: '发票入账结果查询',
    request: TaskQuery,
    reply: InvoiceAccountQueryReply,
  }),
} as const;

export type Interfaces = typeof interfaces;
export type InterfaceCode = keyof Interfaces;
/** What a caller passes (before defaults and coercion). */
export type RequestOf<C extends InterfaceCode> = z.input<Interfaces[C]['request']>;
/** What a handler receives (after parsing). */
export type ParsedRequestOf<C extends InterfaceCode> = z.output<Interfaces[C]['request']>;
export type ReplyOf<C extends InterfaceCode> = z.output<Interfaces[C]['reply']>;

export function isInterfaceCode(code: string): code is InterfaceCode {
  return Object.prototype.hasOwnProperty.call(interfaces, code);
}

export { describeZodError } from './zodErrors.js';
