import { Decimal } from 'decimal.js';
import { SelectResultCode, StatisticStatus } from '../../protocol/codes.js';
import type { ReplyOf, SelectInvoiceLine } from '../../protocol/interfaces.js';
import { defaultFilingDeadline, lastDayOfPeriod, shanghaiMonth } from '../../protocol/period.js';
import type { ProtocolProfile } from '../../protocol/profile.js';
import {
  selectAction,
  type Bureau,
  type SelectResultLine,
  type SelectTaskRequest,
  type SelectTaskResult,
  type TypeStatistic,
} from '../bureau/bureau.js';
import { formatShanghaiTime } from '../bureau/calendar.js';
import type { Store, Task, Taxpayer } from '../store.js';

/**
 * The reply layer: the bureau's internal state (numeric per-invoice result codes, per-type
 * statistic sums, stored statistic status) in the shapes Kingdee documents (docs/protocol.md):
 * per-invoice items with a string `selectResult` in `success` / `fail`, and the statistic object
 * (createTjbbStatus, skssq, gxrqfw, tjInfoArr/tjInfo by bureau category).
 */

type ResultItem = ReplyOf<'invoiceSelectQuery'>['success'][number];
type StatisticObjectReply = ReplyOf<'statisticQuery'>;
type StatisticRow = NonNullable<StatisticObjectReply['tjInfoArr']>[number];

/** The first invoice date the sandbox lets select (it has no age limit): the start of gxrqfw. */
export const FIRST_SELECTABLE_DATE = '20170101';
/** The total row of tjInfoArr / tjInfo. */
export const TOTAL_CATEGORY = '99';

/** Internal result code → documented selectResult, and a description where the internal message is not it. */
const DOCUMENTED: Record<number, { selectResult: string; description?: string }> = {
  [SelectResultCode.Ok]: { selectResult: '1' },
  [SelectResultCode.AlreadySelected]: { selectResult: '1', description: '发票已勾选' },
  [SelectResultCode.NoSuchInvoice]: { selectResult: '2' },
  [SelectResultCode.Abnormal]: { selectResult: '3' },
  [SelectResultCode.AlreadyCertified]: { selectResult: '4' },
  [SelectResultCode.Void]: { selectResult: '11' },
  [SelectResultCode.RedFlushed]: { selectResult: '12' },
  [SelectResultCode.OutOfControl]: { selectResult: '15' },
  [SelectResultCode.RedLetterInvoice]: { selectResult: '16' },
  [SelectResultCode.PeriodLocked]: { selectResult: '20' },
  [SelectResultCode.NotCurrentPeriod]: {
    selectResult: '10',
    description: '发票开票日期不在可勾选日期范围内（非当期发票）',
  },
  [SelectResultCode.Overdue]: { selectResult: '10', description: '发票已逾期，开票日期不在可勾选日期范围内' },
  [SelectResultCode.InvalidEffectiveTax]: { selectResult: '8', description: '勾选失败：有效抵扣税额不合法' },
  [SelectResultCode.Selecting]: { selectResult: '8', description: '发票勾选中，请稍后再查询' },
  [SelectResultCode.BureauLoginFailed]: { selectResult: '8', description: '税局登录失败，请重新登录税局后再勾选' },
};
/** selectResult for an internal code without a documented counterpart: 8, the selection-error fallback. */
const FALLBACK_RESULT = '8';

/** The documented selectResult and description of an internal verdict. */
export function documentedResult(resultCode: number, resultMsg: string): { selectResult: string; description: string } {
  const d = DOCUMENTED[resultCode];
  return { selectResult: d?.selectResult ?? FALLBACK_RESULT, description: d?.description ?? resultMsg };
}

export interface ItemFacts {
  /** The request's line for the invoice (its date, effective tax, 数电 number). */
  line?: SelectInvoiceLine | undefined;
  taxPeriod?: string | undefined;
  /** When the invoice was selected by this request (Beijing "YYYY-MM-DD HH:mm:ss"). */
  selectDate?: string | undefined;
}

/** One per-invoice result item (4.05 / 4.06 / pre-selection) from an internal verdict. */
export function resultItem(verdict: SelectResultLine, facts: ItemFacts = {}): ResultItem {
  const { line } = facts;
  return {
    invoiceCode: verdict.invoiceCode,
    invoiceNo: verdict.invoiceNo,
    ...(line?.etaxInvoiceNo ? { etaxInvoiceNo: line.etaxInvoiceNo } : {}),
    ...(line ? { invoiceDate: line.invoiceDate, effectiveTaxAmount: line.effectiveTaxAmount } : {}),
    ...(facts.taxPeriod ? { taxPeriod: facts.taxPeriod } : {}),
    ...(facts.selectDate ? { selectDate: facts.selectDate } : {}),
    ...documentedResult(verdict.resultCode, verdict.resultMsg),
  };
}

/** Successes ("1") in `success`, everything else in `fail`, each in the order given. */
export function splitResults(items: ResultItem[]): { success: ResultItem[]; fail: ResultItem[] } {
  return { success: items.filter((i) => i.selectResult === '1'), fail: items.filter((i) => i.selectResult !== '1') };
}

/** The per-invoice items of a settled select task, in request order. */
export function selectTaskItems(task: Task): ResultItem[] {
  const request = task.request as SelectTaskRequest;
  const result = task.result as SelectTaskResult;
  const selecting = selectAction(request) === 'select';
  const taxPeriod = result.period ?? task.period;
  const selectDate = task.settledAt === null ? undefined : formatShanghaiTime(task.settledAt);
  return result.lines.map((verdict, i) =>
    resultItem(verdict, {
      line: request.payload.invoices[i],
      taxPeriod,
      selectDate: selecting && verdict.resultCode === SelectResultCode.Ok ? selectDate : undefined,
    }),
  );
}

/** One page (4.06 pageNo/pageSize) over all lines of a settled select task; `total` counts both lists. */
export function selectResultPage(
  task: Task,
  page: { pageNo: number; pageSize: number },
): ReplyOf<'invoiceSelectQuery'> {
  const items = selectTaskItems(task);
  const start = (page.pageNo - 1) * page.pageSize;
  return {
    taskNo: task.taskNo,
    total: items.length,
    pageNo: page.pageNo,
    pageSize: page.pageSize,
    ...splitResults(items.slice(start, start + page.pageSize)),
  };
}

const compact = (isoDate: string) => isoDate.replaceAll('-', '');

/** The period's deadline: the taxpayer's own for its current period, else the default one. */
function deadlineOf(bureau: Bureau, tp: Taxpayer, period: string): string {
  return period === tp.taxPeriod ? bureau.deadline(tp) : defaultFilingDeadline(period);
}

/** `skssq`: "<period>;<deadline YYYYMMDD>;<the sandbox clock's calendar month>". */
export function skssq(bureau: Bureau, tp: Taxpayer, period: string, now: number): string {
  return `${period};${compact(deadlineOf(bureau, tp, period))};${shanghaiMonth(new Date(now))}`;
}

/** `gxrqfw`: invoice dates that may be selected for the period (no age limit in the sandbox). */
export function gxrqfw(period: string): string {
  return `${FIRST_SELECTABLE_DATE}-${compact(lastDayOfPeriod(period))}`;
}

/**
 * tjInfoArr: the per-type sums grouped into the bureau's categories by the profile's
 * statisticCategories (types without a category count only in the total), in category order,
 * then the total row "99" over every type. Amounts with 2 decimals.
 */
export function statisticRows(
  types: readonly TypeStatistic[],
  categories: ProtocolProfile['statisticCategories'],
): StatisticRow[] {
  const zero = () => ({ dn: 0, da: new Decimal(0), dt: new Decimal(0), un: 0, ua: new Decimal(0), ut: new Decimal(0) });
  type Acc = ReturnType<typeof zero>;
  const add = (acc: Acc, t: TypeStatistic) => {
    acc.dn += t.deductibleCount;
    acc.da = acc.da.plus(t.deductibleAmount);
    acc.dt = acc.dt.plus(t.deductibleTax);
    acc.un += t.notDeductibleCount;
    acc.ua = acc.ua.plus(t.notDeductibleAmount);
    acc.ut = acc.ut.plus(t.notDeductibleTax);
  };
  const byCategory = new Map<string, Acc>();
  const total = zero();
  for (const t of types) {
    add(total, t);
    const category = categories[String(t.invoiceType)];
    if (category === undefined) continue;
    const acc = byCategory.get(category) ?? zero();
    byCategory.set(category, acc);
    add(acc, t);
  }
  const row = (invoiceType: string, a: Acc): StatisticRow => ({
    invoiceType,
    deductibleNum: a.dn,
    deductibleAmount: a.da.toFixed(2),
    deductibleTax: a.dt.toFixed(2),
    unDeductibleNum: a.un,
    unDeductibleAmount: a.ua.toFixed(2),
    unDeductibleTax: a.ut.toFixed(2),
  });
  return [
    ...[...byCategory.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([c, a]) => row(c, a)),
    row(TOTAL_CATEGORY, total),
  ];
}

/** tjInfo: the rows packed "type=dkNum=dkAmount=dkTax=bdkNum=bdkAmount=bdkTax;..." */
export function packRows(rows: readonly StatisticRow[]): string {
  return rows
    .map((r) =>
      [
        r.invoiceType,
        r.deductibleNum,
        r.deductibleAmount,
        r.deductibleTax,
        r.unDeductibleNum,
        r.unDeductibleAmount,
        r.unDeductibleTax,
      ].join('='),
    )
    .join(';');
}

/**
 * The status reported for a stored one: a table generated inside the filing window (02) is 04,
 * not confirmable, while the period's own month has not ended on the sandbox clock.
 */
export function reportedStatus(stored: string, period: string, now: number): string {
  if (stored === StatisticStatus.Generated && shanghaiMonth(new Date(now)) <= period)
    return StatisticStatus.GeneratedNotConfirmable;
  return stored;
}

const REVOCABLE: readonly string[] = [
  StatisticStatus.Generated,
  StatisticStatus.GeneratedOutsideWindow,
  StatisticStatus.GeneratedNotConfirmable,
];

export interface StatisticContext {
  bureau: Bureau;
  store: Store;
  taxpayer: Taxpayer;
  now: number;
  profile: ProtocolProfile;
}

/** The statistic object (4.07 / 4.09 / a tenant's confirm-result interface) of one period of the taxpayer. */
export function statisticObject(ctx: StatisticContext, period: string): StatisticObjectReply {
  const { bureau, store, taxpayer, now } = ctx;
  const stat = store.taxpayers.getStatistic(taxpayer.taxNo, period);
  const status = reportedStatus(stat?.status ?? StatisticStatus.NotGenerated, period, now);
  const rows = statisticRows(bureau.statisticItems(taxpayer.taxNo, period), ctx.profile.statisticCategories);
  // A generate, revoke or confirm task not settled yet: neither revoking nor confirming is allowed
  // now (the sandbox's reading of isAllowQxTj / isAllowQrtj); the status stays the bureau's.
  const busy = store.tasks.hasUnsettledTask(taxpayer.taxNo, period, ['statistic', 'confirm']);
  return {
    taxPeriod: period,
    skssq: skssq(bureau, taxpayer, period, now),
    gxrqfw: gxrqfw(period),
    updateTime: formatShanghaiTime(stat?.updatedAt ?? now),
    createTjbbStatus: status,
    isAllowQxTj: !busy && REVOCABLE.includes(status),
    isAllowQrtj: !busy && status === StatisticStatus.Generated,
    allowChangeSsqBySeason: taxpayer.periodChangeSupported,
    tjInfoArr: rows,
    tjInfo: packRows(rows),
  };
}
