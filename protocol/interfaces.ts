import { z } from 'zod';
import { ACCOUNT_STATUSES, BOUND_BILL_TYPES, DATA_SOURCES, STATISTIC_STATUSES } from './codes.js';
import { Money } from './money.js';
import { IsoDate, TaxPeriod } from './period.js';
import { TaxNo } from './taxNo.js';

/**
 * Every business interface of the invoice cloud, defined once: its interfaceCode, the seed
 * section it comes from, and the zod schemas of the decoded request and reply `data`. The typed
 * client (activities/) and the sandbox (simulator/) are both derived from this table.
 *
 * The seed fixes the request field names; it shows no successful reply for 4.04, 4.06, 4.07,
 * 4.09 or 4.11, so those reply fields are our assumptions (docs/assumptions.md).
 */

// The seed mixes numbers and numeric strings ("asyncFlag": "1" but "authenticateFlag": 0).
// Requests accept either form for flags; the client sends the seed's own form.
const flag = <T extends readonly [string, ...string[]]>(values: T) =>
  z
    .union([z.string(), z.number()])
    .transform((v) => String(v))
    .pipe(z.enum(values));
const positiveInt = z.union([z.string(), z.number()]).pipe(z.coerce.number<string | number>().int().positive());
const TaskNo = z.string().regex(/^[0-9a-f]{32}$/, 'taskNo must be 32 hex characters');
const DateTime = z.string().regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, 'time must be YYYY-MM-DD HH:mm:ss');
const StatisticStatusSchema = z.enum(STATISTIC_STATUSES);

export const TaxNoOnly = z.object({ taxNo: TaxNo });
export const AsyncTaskAccepted = z.object({ asyncFlag: z.string(), taskNo: TaskNo });
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

/** DESIGN.md §4: purpose 2 (not deduct) needs each line's notDeductibleType; purpose 5 a reason. */
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

export const SelectResultLine = z.object({
  invoiceCode: z.string(),
  invoiceNo: z.string(),
  resultCode: z.number().int(),
  resultMsg: z.string(),
});
export type SelectResultLine = z.infer<typeof SelectResultLine>;

export const InvoiceSelectQueryRequest = TaskQuery.extend({
  pageNo: positiveInt.default(1),
  pageSize: positiveInt.pipe(z.number().max(500)).default(50),
});
export const InvoiceSelectQueryReply = z.object({
  taskNo: TaskNo,
  total: z.number().int().nonnegative(),
  pageNo: z.number().int().positive(),
  pageSize: z.number().int().positive(),
  successCount: z.number().int().nonnegative(),
  failCount: z.number().int().nonnegative(),
  invoices: z.array(SelectResultLine),
});
export type InvoiceSelectQueryReply = z.infer<typeof InvoiceSelectQueryReply>;

/**
 * 进项表头归集 (invoiceDown): pull the bureau's invoices of a date range into the pool. The seed
 * names the step only; codes and fields are assumptions (docs/assumptions.md).
 */
export const MAX_DOWNLOAD_DAYS = 366;
export const InvoiceDownRequest = z
  .object({
    taxNo: TaxNo,
    startDate: IsoDate,
    endDate: IsoDate,
    invoiceType: z
      .string()
      .regex(/^\d+(,\d+)*$/, 'invoiceType must be a code or a comma list of codes')
      .optional(),
    asyncFlag: flag(['0', '1']).default('1'),
  })
  .refine((r) => r.endDate >= r.startDate, { message: 'endDate must not be before startDate', path: ['endDate'] })
  .refine((r) => Date.parse(r.endDate) - Date.parse(r.startDate) < MAX_DOWNLOAD_DAYS * 86_400_000, {
    message: `the date range spans at most ${MAX_DOWNLOAD_DAYS} days`,
    path: ['endDate'],
  });
export const InvoiceDownQueryReply = z.object({
  taskNo: TaskNo,
  success: z.boolean(),
  resultMsg: z.string(),
  startDate: IsoDate,
  endDate: IsoDate,
  /** Invoices the bureau holds in the range. */
  total: z.number().int().nonnegative(),
  /** Of those, how many were new to the pool. */
  added: z.number().int().nonnegative(),
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
export const PreSelectReply = z.object({
  taxNo: TaxNo,
  /** Pre-selected invoices now waiting for confirmation (this call's and earlier ones). */
  pendingCount: z.number().int().nonnegative(),
  invoices: z.array(SelectResultLine),
});
export type PreSelectReply = z.infer<typeof PreSelectReply>;
export const PreSelectConfirmRequest = z.object({ taxNo: TaxNo, asyncFlag: flag(['0', '1']) });
export const PreSelectConfirmReply = AsyncTaskAccepted.extend({
  /** Invoices this confirmation sends (at most one bureau batch). */
  count: z.number().int().nonnegative(),
  /** Still pre-selected after it (confirm again for them). */
  remaining: z.number().int().nonnegative(),
});

export const TaxperiodQueryReply = z.object({
  taxNo: TaxNo,
  taxPeriod: TaxPeriod,
  deductionDeadline: IsoDate,
  statisticStatus: StatisticStatusSchema,
  periodChangeSupported: z.boolean(),
});
export type TaxperiodQueryReply = z.infer<typeof TaxperiodQueryReply>;

export const StatisticItem = z.object({
  invoiceType: z.number().int(),
  deductibleCount: z.number().int().nonnegative(),
  deductibleAmount: Money,
  deductibleTax: Money,
  notDeductibleCount: z.number().int().nonnegative(),
  notDeductibleAmount: Money,
  notDeductibleTax: Money,
});
export type StatisticItem = z.infer<typeof StatisticItem>;

export const StatisticQueryReply = z.object({
  statisticPeriod: TaxPeriod,
  taxPeriod: TaxPeriod,
  deductionDeadline: IsoDate,
  updateTime: DateTime,
  statisticStatus: StatisticStatusSchema,
  items: z.array(StatisticItem),
});
export type StatisticQueryReply = z.infer<typeof StatisticQueryReply>;

export const StatisticCreateRequest = z.object({
  taxNo: TaxNo,
  operateType: flag(['1', '2']),
  asyncFlag: flag(['0', '1']),
});
export const StatisticTaskReply = z.object({
  taskNo: TaskNo,
  success: z.boolean(),
  statisticStatus: StatisticStatusSchema,
  resultMsg: z.string(),
});
export const StatisticCreateQueryReply = StatisticTaskReply.extend({ operateType: z.enum(['1', '2']) });
export type StatisticCreateQueryReply = z.infer<typeof StatisticCreateQueryReply>;

export const StatisticConfirmRequest = z.object({
  taxNo: TaxNo,
  password: z.string().min(1, 'password is required'),
  asyncFlag: flag(['0', '1']),
});
export const StatisticConfirmQueryReply = StatisticTaskReply.extend({ confirmTime: z.string() });
export type StatisticConfirmQueryReply = z.infer<typeof StatisticConfirmQueryReply>;

export const TaxperiodChangeRequest = z.object({
  taxNo: TaxNo,
  taxPeriod: TaxPeriod,
  status: z.union([z.string(), z.number()]).pipe(z.coerce.number<string | number>().int()),
});
export const TaxperiodChangeReply = z.object({ taxNo: TaxNo, taxPeriod: TaxPeriod });

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
  selectStatus: z.enum(['0', '1']), // 0 not selected, 1 selected
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
  selectStatus: z.enum(['0', '1']).optional(),
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
    reply: z.object({ loginType: z.string() }),
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
    reply: AsyncTaskAccepted,
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
    reply: StatisticQueryReply,
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
    reply: StatisticCreateQueryReply,
  }),
  statisticConfirm: define({
    interfaceCode: 'statisticConfirm',
    section: '4.10',
    title: '确认统计表',
    request: StatisticConfirmRequest,
    reply: AsyncTaskAccepted,
  }),
  // 4.11: the seed sends statisticCreateQuery with the confirm taskNo and gets 2002; the
  // confirm-result query's own code is not shown. We call it statisticConfirmQuery (assumption).
  statisticConfirmQuery: define({
    interfaceCode: 'statisticConfirmQuery',
    section: '4.11',
    title: '确认统计表结果查询',
    request: TaskQuery,
    reply: StatisticConfirmQueryReply,
  }),
  taxperiodChange: define({
    interfaceCode: 'taxperiodChange',
    section: '4.12',
    title: '变更税款所属期',
    request: TaxperiodChangeRequest,
    reply: TaxperiodChangeReply,
  }),
  // 进项表头归集 and pre-selection (补充说明 1): codes and fields are ours (docs/assumptions.md).
  invoiceDown: define({
    interfaceCode: 'invoiceDown',
    section: '异构对接说明 1',
    title: '进项表头归集',
    request: InvoiceDownRequest,
    reply: AsyncTaskAccepted,
  }),
  invoiceDownQuery: define({
    interfaceCode: 'invoiceDownQuery',
    section: '异构对接说明 1',
    title: '进项表头归集结果查询',
    request: TaskQuery,
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
  // Step 1 of the flow (全票池查询): the seed names the step but not the interface (assumption).
  invoicePoolQuery: define({
    interfaceCode: 'invoicePoolQuery',
    section: '异构对接说明 1',
    title: '全票池发票查询',
    request: InvoicePoolQueryRequest,
    reply: InvoicePoolQueryReply,
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

/** Zod issues rendered as "field: message; field: message". */
export function describeZodError(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}
