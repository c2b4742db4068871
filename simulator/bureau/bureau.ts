import { randomBytes } from 'node:crypto';
import { Decimal } from 'decimal.js';
import { SELECT_RESULT_MESSAGES, SelectResultCode, StatisticOperation, StatisticStatus } from '../../protocol/codes.js';
import type { ParsedRequestOf } from '../../protocol/interfaces.js';
import { addMonths, lastDayOfPeriod, likelyCurrentPeriod } from '../../protocol/period.js';
import type { Settings } from '../settings.js';
import {
  invoiceKey,
  type InvoiceIdentity,
  type StoredInvoice,
  type Store,
  type Task,
  type TaskKind,
  type Taxpayer,
} from '../store.js';
import { deadlineDay, formatShanghaiTime, insideFilingWindow, nextRolloverAt } from './calendar.js';
import { PoolStore } from './poolStore.js';
import { evaluateSelectLine, matchPoolInvoice } from './selectRules.js';

/** Bureau login (taxLogin) stays valid this long, in sandbox time. */
export const BUREAU_LOGIN_VALIDITY_MS = 24 * 3600_000;

/** Statuses under which selection is locked (code 20). */
const LOCKED: readonly StatisticStatus[] = [
  StatisticStatus.Generating,
  StatisticStatus.Generated,
  StatisticStatus.GeneratedOutsideWindow,
  StatisticStatus.Confirmed,
];

/**
 * What a select request asks, as the tenant's protocol profile reads its authenticateFlag
 * (profile.selectFlag): select, or cancel a selection.
 */
export type SelectAction = 'select' | 'cancel';

export interface SelectTaskRequest {
  payload: ParsedRequestOf<'invoiceSelect'>;
  /** Select or cancel, as the tenant's profile read authenticateFlag when the request arrived. */
  action?: SelectAction;
  /** Whether the bureau login was valid (and soft-certificate mode on) when the request was accepted. */
  loggedIn: boolean;
  /** Per-line deductionPurpose (a confirmed pre-selection mixes them); default payload's. */
  purposes?: string[];
}
export interface DownloadTaskRequest {
  payload: ParsedRequestOf<'invoiceDown'>;
  loggedIn: boolean;
}
export interface DownloadTaskResult {
  success: boolean;
  resultMsg: string;
  /** Invoices the search found (what invoiceDownQuery lists). */
  total: number;
  /** Of the bureau's invoices collected by the search, how many were new to the pool. */
  added: number;
  /** The search's invoices as they stood when the task settled, for invoiceDownQuery to page through. */
  invoices: DownloadedInvoice[];
}
/** A pool invoice in a download's list; `inProgress` when a select task held it unsettled then (勾选中). */
export type DownloadedInvoice = StoredInvoice & { inProgress?: boolean };
/**
 * The bureau's internal verdict on one invoice of a select task: a numeric result code
 * (protocol/codes.ts SelectResultCode) and its message. The gateway turns it into Kingdee's
 * documented selectResult (simulator/gateway/replies.ts); the ledger, the admin invariants and
 * the chaos invariants read these codes.
 */
export interface SelectResultLine {
  invoiceCode: string;
  invoiceNo: string;
  resultCode: number;
  resultMsg: string;
}
export interface SelectTaskResult {
  lines: SelectResultLine[];
  /** The period the task settled in (absent in tasks settled before it was kept). */
  period?: string;
}
/** Per 发票云 invoice type: what a period's selections deduct (purpose 1) and do not (purpose 2). */
export interface TypeStatistic {
  invoiceType: number;
  deductibleCount: number;
  deductibleAmount: string;
  deductibleTax: string;
  notDeductibleCount: number;
  notDeductibleAmount: string;
  notDeductibleTax: string;
}

/** Select or cancel: the action kept with the task, else the reading of tasks stored before it was kept (1 cancels). */
export function selectAction(request: SelectTaskRequest): SelectAction {
  return request.action ?? (request.payload.authenticateFlag === '1' ? 'cancel' : 'select');
}
export interface StatisticTaskResult {
  success: boolean;
  statisticStatus: StatisticStatus;
  resultMsg: string;
  operateType: '1' | '2';
}
export interface ConfirmTaskResult {
  success: boolean;
  statisticStatus: StatisticStatus;
  resultMsg: string;
  confirmTime: string;
}

/**
 * The tax bureau behind the invoice cloud: per-taxpayer period, statistic and selections, and the
 * asynchronous tasks that change them. Time-driven effects (tasks falling due, the deadline
 * rolling the period over) are applied lazily, in time order, by catchUp.
 */
export class Bureau {
  constructor(
    private readonly store: Store,
    private readonly settings: Settings,
  ) {}

  taxpayer(taxNo: string): Taxpayer {
    const tp = this.store.taxpayers.get(taxNo);
    if (!tp) throw new Error(`taxpayer ${taxNo} vanished`);
    return tp;
  }

  statisticStatus(taxNo: string, period: string): StatisticStatus {
    return this.store.taxpayers.getStatistic(taxNo, period)?.status ?? StatisticStatus.NotGenerated;
  }

  isLocked(taxNo: string, period: string): boolean {
    return LOCKED.includes(this.statisticStatus(taxNo, period));
  }

  deadline(tp: Taxpayer): string {
    return deadlineDay(tp.nextRolloverAt);
  }

  isLoggedIn(tp: Taxpayer, at: number): boolean {
    return tp.lastLoginAt !== null && tp.lastLoginAt <= at && at - tp.lastLoginAt <= BUREAU_LOGIN_VALIDITY_MS;
  }

  /**
   * Keys (store invoiceKey) of the pool invoices a select task that has not settled designates
   * (cancellations and confirmed pre-selections included): 勾选中 to a reader of the pool. With
   * `at`, only tasks created by then. One query for the tasks, one for their invoices.
   */
  selectingInvoices(taxNo: string, at?: number): Set<string> {
    const lines = this.store.tasks.unsettledSelectLines(taxNo, at);
    const keys = new Set<string>();
    if (lines.length === 0) return keys;
    const byNumber = new Map<string, InvoiceIdentity[]>();
    for (const inv of this.store.invoices.identities(taxNo, [...new Set(lines.map((l) => l.invoiceNo))])) {
      const same = byNumber.get(inv.invoiceNo);
      if (same) same.push(inv);
      else byNumber.set(inv.invoiceNo, [inv]);
    }
    for (const line of lines) {
      const pool = matchPoolInvoice(line, byNumber.get(line.invoiceNo) ?? []);
      if (pool) keys.add(invoiceKey(pool));
    }
    return keys;
  }

  /** Sets the period (admin or taxperiodChange) and when the bureau will roll it over. */
  setPeriod(taxNo: string, period: string, at: number): void {
    this.store.taxpayers.setPeriod(taxNo, period, nextRolloverAt(period, at));
    if (!this.store.taxpayers.getStatistic(taxNo, period)) {
      this.store.taxpayers.setStatistic(taxNo, period, StatisticStatus.NotGenerated, at);
    }
  }

  /** Applies every due task and deadline rollover up to now, earliest first. */
  catchUp(taxNo: string, now = this.settings.now()): void {
    for (;;) {
      const tp = this.taxpayer(taxNo);
      const task = this.store.tasks.nextDueTask(taxNo, now);
      if (task && task.dueAt < tp.nextRolloverAt) this.settle(task, task.dueAt);
      else if (tp.nextRolloverAt <= now) this.rollover(tp, tp.nextRolloverAt);
      else if (task) this.settle(task, task.dueAt);
      else return;
    }
  }

  /** The deadline passed: the period advances and unconfirmed selections are revoked. */
  private rollover(tp: Taxpayer, at: number): void {
    const old = tp.taxPeriod;
    const next = [addMonths(old, 1), likelyCurrentPeriod(new Date(at))].sort().at(-1)!;
    this.store.invoices.revokeUnconfirmedSelections(tp.taxNo, next);
    const oldStatus = this.statisticStatus(tp.taxNo, old);
    if (oldStatus !== StatisticStatus.Confirmed && oldStatus !== StatisticStatus.NotGenerated) {
      this.store.taxpayers.setStatistic(tp.taxNo, old, StatisticStatus.NotGenerated, at);
    }
    this.setPeriod(tp.taxNo, next, at);
  }

  createTask(taxNo: string, kind: TaskKind, period: string, request: unknown, operateType = ''): Task {
    const now = this.settings.now();
    const taskNo = this.store.tasks.takeReservedTaskNo(taxNo, kind) ?? randomBytes(16).toString('hex');
    const task = {
      taskNo,
      taxNo,
      kind,
      operateType,
      period,
      request,
      createdAt: now,
      dueAt: now + this.settings.drawTaskDelay(kind),
    };
    this.store.tasks.insert(task);
    return { ...task, settledAt: null, result: null };
  }

  private settle(task: Task, at: number): void {
    let result: unknown;
    let outcome: string;
    if (task.kind === 'select') {
      const r = this.settleSelect(task.taxNo, task.request as SelectTaskRequest, at);
      const ok = r.lines.filter((l) => l.resultCode === SelectResultCode.Ok).length;
      result = r;
      outcome = `ok=${ok} failed=${r.lines.length - ok} codes=${[...new Set(r.lines.map((l) => l.resultCode))].join(',')}`;
    } else if (task.kind === 'download') {
      const r = this.settleDownload(task.taxNo, task.request as DownloadTaskRequest, at);
      result = r;
      outcome = `${r.success ? 'ok' : 'failed'} total=${r.total} added=${r.added} ${r.resultMsg}`;
    } else if (task.kind === 'statistic') {
      const r = this.settleStatistic(task, at);
      result = r;
      outcome = `${r.success ? 'ok' : 'failed'} status=${r.statisticStatus} ${r.resultMsg}`;
    } else {
      const r = this.settleConfirm(task, at);
      result = r;
      outcome = `${r.success ? 'ok' : 'failed'} status=${r.statisticStatus} ${r.resultMsg}`;
    }
    this.store.tasks.settle(task.taskNo, at, result);
    this.store.ledger.setOutcome(task.taskNo, outcome, result);
  }

  private settleSelect(taxNo: string, request: SelectTaskRequest, at: number): SelectTaskResult {
    const tp = this.taxpayer(taxNo);
    const period = tp.taxPeriod;
    const ctx = {
      period,
      locked: this.isLocked(taxNo, period),
      loggedIn: request.loggedIn,
      cancel: selectAction(request) === 'cancel',
    };
    let changed = false;
    const lines = request.payload.invoices.map((line, i): SelectResultLine => {
      const pool = matchPoolInvoice(line, this.store.invoices.find(taxNo, line.invoiceNo));
      const v = evaluateSelectLine(line, pool, ctx);
      if (pool && v.change === 'select') {
        const selection = {
          period,
          purpose: request.purposes?.[i] ?? request.payload.deductionPurpose,
          effectiveTax: new Decimal(line.effectiveTaxAmount).toFixed(2),
        };
        this.store.invoices.setSelection(taxNo, pool, selection);
        changed = true;
      } else if (pool && v.change === 'unselect') {
        this.store.invoices.setSelection(taxNo, pool, null);
        changed = true;
      }
      return { invoiceCode: line.invoiceCode, invoiceNo: line.invoiceNo, resultCode: v.code, resultMsg: v.message };
    });
    if (changed) this.store.taxpayers.touchStatistic(taxNo, period, this.statisticStatus(taxNo, period), at);
    return { lines, period };
  }

  /**
   * 进项表头归集: the bureau's invoices the search reaches enter the pool (existing ones are kept as
   * they are), then the pool's invoices matching the search are the task's list (sandbox reading of
   * searchOpt, docs/assumptions.md).
   */
  private settleDownload(taxNo: string, request: DownloadTaskRequest, at: number): DownloadTaskResult {
    const search = request.payload.searchOpt;
    if (!request.loggedIn) {
      return { success: false, resultMsg: SELECT_RESULT_MESSAGES[36], total: 0, added: 0, invoices: [] };
    }
    const list = (value: string | undefined) => value?.split(',');
    const types = list(search.invoiceType)?.map(Number);
    const endDate = [search.endTime, search.taxPeriod && lastDayOfPeriod(search.taxPeriod)]
      .filter((d): d is string => Boolean(d))
      .sort()[0];
    const collected = new PoolStore(this.store.db).bureauInvoices(
      taxNo,
      search.startTime ?? '0000-00-00',
      endDate ?? '9999-99-99',
      types,
    );
    let added = 0;
    for (const inv of collected) if (this.store.invoices.insert(taxNo, inv, false)) added += 1;
    const statuses = list(search.invoiceStatus)?.map(Number);
    const flags = list(search.authenticateFlags);
    const selecting = this.selectingInvoices(taxNo, at);
    const listed = this.store.invoices
      .all(taxNo)
      .map((inv): DownloadedInvoice => (selecting.has(invoiceKey(inv)) ? { ...inv, inProgress: true } : inv));
    const invoices = listed.filter(
      (inv) =>
        (!search.startTime || inv.invoiceDate >= search.startTime) &&
        (!endDate || inv.invoiceDate <= endDate) &&
        // A period's view: unselected invoices, and those selected for that period.
        (!search.taxPeriod || inv.selectStatus === '0' || inv.selectPeriod === search.taxPeriod) &&
        (!types || types.includes(inv.invoiceType)) &&
        (!statuses || statuses.includes(inv.invoiceStatus)) &&
        (!flags || flags.includes(inv.inProgress ? '5' : inv.selectStatus)) &&
        (search.invoiceCode === undefined || inv.invoiceCode === search.invoiceCode) &&
        (search.invoiceNo === undefined || inv.invoiceNo === search.invoiceNo) &&
        (search.salerTaxNo === undefined || inv.salerTaxNo === search.salerTaxNo),
    );
    return { success: true, resultMsg: '归集成功', total: invoices.length, added, invoices };
  }

  private settleStatistic(task: Task, at: number): StatisticTaskResult {
    const operateType = task.operateType === StatisticOperation.Revoke ? '2' : '1';
    const fail = (resultMsg: string): StatisticTaskResult => ({
      success: false,
      statisticStatus: this.statisticStatus(task.taxNo, task.period),
      resultMsg,
      operateType,
    });
    if (this.taxpayer(task.taxNo).taxPeriod !== task.period) return fail('税款所属期已变更，任务已失效');
    if (this.statisticStatus(task.taxNo, task.period) === StatisticStatus.Confirmed) {
      return fail('统计表已确认，不可生成或撤销');
    }
    let status: StatisticStatus;
    let resultMsg: string;
    if (operateType === '2') {
      status = StatisticStatus.NotGenerated;
      resultMsg = '撤销统计表成功';
    } else if (this.store.invoices.selectedInvoices(task.taxNo, task.period).length === 0) {
      status = StatisticStatus.NothingSelected;
      resultMsg = '当前所属期无勾选发票，无需生成统计表';
    } else if (insideFilingWindow(task.period, at)) {
      status = StatisticStatus.Generated;
      resultMsg = '生成统计表成功';
    } else {
      status = StatisticStatus.GeneratedOutsideWindow;
      resultMsg = '统计表生成于申报期外，请撤销后重新生成';
    }
    this.store.taxpayers.setStatistic(task.taxNo, task.period, status, at);
    return { success: true, statisticStatus: status, resultMsg, operateType };
  }

  private settleConfirm(task: Task, at: number): ConfirmTaskResult {
    const status = this.statisticStatus(task.taxNo, task.period);
    const fail = (resultMsg: string): ConfirmTaskResult => ({
      success: false,
      statisticStatus: status,
      resultMsg,
      confirmTime: '',
    });
    if (this.taxpayer(task.taxNo).taxPeriod !== task.period) return fail('税款所属期已变更，任务已失效');
    if (status !== StatisticStatus.Generated) return fail(`统计表状态为${status}，不可确认`);
    this.store.taxpayers.setStatistic(task.taxNo, task.period, StatisticStatus.Confirmed, at, at);
    return {
      success: true,
      statisticStatus: StatisticStatus.Confirmed,
      resultMsg: '确认统计表成功',
      confirmTime: formatShanghaiTime(at),
    };
  }

  /** Per invoice type: deductible (purpose 1) and not-deductible (purpose 2) selections of a period. */
  statisticItems(taxNo: string, period: string): TypeStatistic[] {
    const byType = new Map<
      number,
      { d: Decimal[]; n: Decimal[]; dc: number; nc: number; dt: Decimal[]; nt: Decimal[] }
    >();
    for (const inv of this.store.invoices.selectedInvoices(taxNo, period)) {
      const acc = byType.get(inv.invoiceType) ?? { d: [], n: [], dc: 0, nc: 0, dt: [], nt: [] };
      byType.set(inv.invoiceType, acc);
      if (inv.selectPurpose === '1') {
        acc.dc += 1;
        acc.d.push(new Decimal(inv.invoiceAmount));
        acc.dt.push(new Decimal(inv.effectiveTax));
      } else if (inv.selectPurpose === '2') {
        acc.nc += 1;
        acc.n.push(new Decimal(inv.invoiceAmount));
        acc.nt.push(new Decimal(inv.effectiveTax));
      }
    }
    const sum = (xs: Decimal[]) => xs.reduce((a, b) => a.plus(b), new Decimal(0)).toFixed(2);
    return [...byType.entries()]
      .sort(([a], [b]) => a - b)
      .map(([invoiceType, a]) => ({
        invoiceType,
        deductibleCount: a.dc,
        deductibleAmount: sum(a.d),
        deductibleTax: sum(a.dt),
        notDeductibleCount: a.nc,
        notDeductibleAmount: sum(a.n),
        notDeductibleTax: sum(a.nt),
      }));
  }
}
