import {
  GatewayCode,
  NO_STATISTIC_TASK_MESSAGE,
  PERIOD_CHANGE_UNSUPPORTED_MESSAGE,
  StatisticStatus,
} from '../../protocol/codes.js';
import type { InterfaceCode, ParsedRequestOf, ReplyOf } from '../../protocol/interfaces.js';
import { sumMoney } from '../../protocol/money.js';
import { addMonths, shanghaiMonth } from '../../protocol/period.js';
import type { ProtocolProfile } from '../../protocol/profile.js';
import type {
  Bureau,
  ConfirmTaskResult,
  SelectAction,
  SelectTaskRequest,
  StatisticTaskResult,
} from '../bureau/bureau.js';
import { accountingHandlers } from '../accounting/handlers.js';
import { GatewayError } from '../errors.js';
import { poolHandlers } from './poolHandlers.js';
import { gxrqfw, selectResultPage, skssq, statisticObject } from './replies.js';
import { ledgerAccepted, noSuchTask, settledTask, type WriteArrival } from './taskHelpers.js';
import type { Store, Task, Taxpayer } from '../store.js';

/** What a handler sees: the taxpayer (already in the tenant and caught up) and the request's identity. */
export interface HandlerContext {
  bureau: Bureau;
  store: Store;
  taxpayer: Taxpayer;
  requestId: string;
  now: number;
  /** The tenant's protocol profile (select flag, statistic categories, ...). */
  profile: ProtocolProfile;
  /** The request's facts as the ledger keeps them (period and statistic status at arrival). */
  arrival: WriteArrival;
}

export type Handler<C extends InterfaceCode> = (req: ParsedRequestOf<C>, ctx: HandlerContext) => ReplyOf<C>;

/** A generated (or generating) statistic must be revoked before the period can change. */
const GENERATED: readonly StatisticStatus[] = [
  StatisticStatus.Generating,
  StatisticStatus.Generated,
  StatisticStatus.GeneratedOutsideWindow,
];

const violated = (message: string) => new GatewayError(GatewayCode.BusinessRuleViolated, message);

/** A settled generate/revoke or confirm task the bureau refused: an error envelope with its message. */
function refusedTask(task: Task): void {
  const result = task.result as StatisticTaskResult | ConfirmTaskResult;
  if (!result.success) throw violated(result.resultMsg);
}

export const handlers: { [C in InterfaceCode]: Handler<C> } = {
  taxLogin: (_req, ctx) => {
    ctx.store.taxpayers.setLastLogin(ctx.taxpayer.taxNo, ctx.now);
    ledgerAccepted(ctx, 'taxLogin', '', [], 'ok');
    return { loginType: '1' };
  },

  taxperiodQuery: (_req, { bureau, taxpayer, now }) => ({
    taxNo: taxpayer.taxNo,
    taxPeriod: taxpayer.taxPeriod,
    skssq: skssq(bureau, taxpayer, taxpayer.taxPeriod, now),
    gxrqfw: gxrqfw(taxpayer.taxPeriod),
    allowChangeSsqBySeason: taxpayer.periodChangeSupported,
  }),

  invoiceSelect: (req, ctx) => {
    const action: SelectAction = ctx.arrival.selectAction || 'select';
    const request: SelectTaskRequest = {
      payload: req,
      action,
      // Without soft-certificate mode the cloud cannot log in to the bureau: every line answers 36.
      loggedIn: ctx.taxpayer.softCertificate && ctx.bureau.isLoggedIn(ctx.taxpayer, ctx.now),
    };
    const task = ctx.bureau.createTask(ctx.taxpayer.taxNo, 'select', ctx.taxpayer.taxPeriod, request);
    ledgerAccepted(ctx, 'invoiceSelect', task.taskNo);
    // The bureau always answers asynchronously here, whatever asyncFlag asked for.
    return { asyncFlag: '1', taskNo: task.taskNo, success: [], fail: [] };
  },

  invoiceSelectQuery: (req, ctx) => {
    return selectResultPage(settledTask(ctx, req.taskNo, 'select', noSuchTask(req.taskNo)), req);
  },

  statisticQuery: (_req, ctx) => statisticObject(ctx, ctx.taxpayer.taxPeriod),

  statisticCreate: (req, ctx) => {
    const { taxNo, taxPeriod } = ctx.taxpayer;
    if (ctx.bureau.statisticStatus(taxNo, taxPeriod) === StatisticStatus.Confirmed) {
      throw violated(`所属期${taxPeriod}统计表已确认，不可生成或撤销统计表`);
    }
    if (req.operateType === '1')
      ctx.store.taxpayers.setStatistic(taxNo, taxPeriod, StatisticStatus.Generating, ctx.now);
    const task = ctx.bureau.createTask(taxNo, 'statistic', taxPeriod, req, req.operateType);
    ledgerAccepted(ctx, 'statisticCreate', task.taskNo);
    return { asyncFlag: '1', taskNo: task.taskNo };
  },

  statisticCreateQuery: (req, ctx) => {
    // Seed 4.11: any taskNo that is not a generate/revoke task (a confirm taskNo included) is 2002.
    const task = settledTask(
      ctx,
      req.taskNo,
      'statistic',
      () => new GatewayError(GatewayCode.NoSuchStatisticTask, NO_STATISTIC_TASK_MESSAGE),
    );
    refusedTask(task);
    return { taskNo: task.taskNo, ...statisticObject(ctx, task.period) };
  },

  statisticConfirm: (req, ctx) => {
    const { taxNo, taxPeriod, confirmPassword } = ctx.taxpayer;
    if (shanghaiMonth(new Date(ctx.now)) <= taxPeriod) {
      throw new GatewayError(GatewayCode.ConfirmationNotOpen, '未到统计确认时间');
    }
    if (req.password !== confirmPassword) throw violated('确认密码错误');
    const status = ctx.bureau.statisticStatus(taxNo, taxPeriod);
    if (status !== StatisticStatus.Generated) {
      throw violated(`所属期${taxPeriod}统计表状态为${status}，只有已生成(02)的统计表可以确认`);
    }
    const task = ctx.bureau.createTask(taxNo, 'confirm', taxPeriod, { asyncFlag: req.asyncFlag });
    ledgerAccepted(ctx, 'statisticConfirm', task.taskNo);
    return { asyncFlag: '1', taskNo: task.taskNo };
  },

  // Served only under the wire code a tenant's profile names (confirmation.kind 'result-interface').
  statisticConfirmResult: (req, ctx) => {
    const task = settledTask(ctx, req.taskNo, 'confirm', noSuchTask(req.taskNo));
    refusedTask(task);
    return { taskNo: task.taskNo, ...statisticObject(ctx, task.period) };
  },

  // The seed's `status` field (it sends 1) has no documented meaning; it is accepted and ignored.
  taxperiodChange: (req, ctx) => {
    const { taxNo, taxPeriod } = ctx.taxpayer;
    if (!ctx.taxpayer.periodChangeSupported) {
      throw new GatewayError(GatewayCode.PeriodChangeUnsupported, PERIOD_CHANGE_UNSUPPORTED_MESSAGE);
    }
    const target = req.taxPeriod;
    const changed = (period: string) => ({
      taxNo,
      taxPeriod: period,
      allowChangeSsqBySeason: ctx.taxpayer.periodChangeSupported,
    });
    if (target === taxPeriod) return changed(taxPeriod);
    const month = shanghaiMonth(new Date(ctx.now));
    if (target !== addMonths(taxPeriod, 1) && target !== addMonths(taxPeriod, -1)) {
      throw violated(`每次只能变更一个月：当前所属期${taxPeriod}，目标所属期${target}`);
    }
    if (target > month) throw violated(`不能变更到未来的所属期${target}`);
    if (target < addMonths(month, -12)) throw violated(`最多只能变更到12个月以内的所属期，${target}已超出范围`);
    if (ctx.bureau.statisticStatus(taxNo, target) === StatisticStatus.Confirmed) {
      throw violated(`所属期${target}已确认（已申报），不可变更到该所属期`);
    }
    if (GENERATED.includes(ctx.bureau.statisticStatus(taxNo, taxPeriod))) {
      throw violated(`当前所属期${taxPeriod}已生成统计表，请先撤销统计表再变更所属期`);
    }
    ctx.bureau.setPeriod(taxNo, target, ctx.now);
    ledgerAccepted(ctx, 'taxperiodChange', '', [], `ok ${taxPeriod} -> ${target}`);
    return changed(target);
  },

  // 4.18: invoices selected for export-tax refund (deductionPurpose 3) in the period, counted by
  // the documented statInvoiceType: "04" for customs payment receipts, "01" for every other type
  // (the split is the sandbox's reading; docs/assumptions.md).
  exportRebateStatisticQuery: (req, { store, taxpayer }) => {
    const period = req.taxPeriod ?? taxpayer.taxPeriod;
    const refunds = store.invoices
      .query(taxpayer.taxNo, { selectStatus: '1' }, 1_000_000, 0)
      .rows.filter((i) => i.selectPurpose === '3' && i.selectPeriod === period);
    const groups = new Map<string, string[]>();
    for (const i of refunds) {
      const type = i.invoiceType === 21 ? '04' : '01';
      groups.set(type, [...(groups.get(type) ?? []), i.effectiveTax || i.taxAmount]);
    }
    return {
      statInfoArr: [...groups].map(([statInvoiceType, taxes]) => ({
        statInvoiceType,
        num: taxes.length,
        totalTaxAmount: sumMoney(taxes),
      })),
    };
  },

  // selectStatus 5 (勾选中): the invoice is in a select task that has not settled (computed at read time).
  invoicePoolQuery: (req, { bureau, store, taxpayer }) => {
    const filter = {
      inProgress: bureau.selectingInvoices(taxpayer.taxNo),
      ...(req.invoiceDateStart ? { invoiceDateStart: req.invoiceDateStart } : {}),
      ...(req.invoiceDateEnd ? { invoiceDateEnd: req.invoiceDateEnd } : {}),
      ...(req.invoiceType ? { invoiceTypes: req.invoiceType.split(',').map(Number) } : {}),
      ...(req.selectStatus ? { selectStatus: req.selectStatus } : {}),
      ...(req.dataSource ? { dataSources: req.dataSource.split(',') } : {}),
      ...(req.boundBillType ? { boundBillTypes: req.boundBillType.split(',') } : {}),
      ...(req.accountStatus ? { accountStatus: req.accountStatus } : {}),
      ...(req.accountPeriod ? { accountPeriod: req.accountPeriod } : {}),
    };
    const { total, rows } = store.invoices.query(taxpayer.taxNo, filter, req.pageSize, (req.pageNo - 1) * req.pageSize);
    return {
      total,
      pageNo: req.pageNo,
      pageSize: req.pageSize,
      invoices: rows.map(({ selectPurpose: _p, effectiveTax: _e, ...invoice }) => invoice),
    };
  },

  ...poolHandlers,
  ...accountingHandlers,
};

/**
 * Writes whose replies are kept per (taxNo, interfaceCode, requestId) when the tenant's requestId
 * de-duplication setting is on (Settings.deduplicatesRequestIds; off by default).
 */
export const IDEMPOTENT_WRITES: readonly InterfaceCode[] = [
  'invoiceSelect',
  'statisticCreate',
  'statisticConfirm',
  'taxperiodChange',
  'invoiceDown',
  'preSelect',
  'preSelectConfirm',
  'invoiceAccount',
];

/** Writes the ledger records when they reach their handler, accepted or refused. */
export const LEDGERED_WRITES: readonly InterfaceCode[] = ['taxLogin', ...IDEMPOTENT_WRITES];

/** Statistic interfaces need the taxpayer's soft-certificate mode (seed 4.07/4.09). */
export const SOFT_CERTIFICATE_REQUIRED: readonly InterfaceCode[] = [
  'statisticQuery',
  'statisticCreate',
  'statisticCreateQuery',
  'statisticConfirm',
  'statisticConfirmResult',
];
