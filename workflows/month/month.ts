import {
  type ActivityInterfaceFor,
  type ActivityOptions,
  ApplicationFailure,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { FailureType } from '../../protocol/failureTypes.js';
import type { DeductionActivities } from '../../activities/deductionActivities.js';
import type { StatisticQueryReply } from '../../protocol/interfaces.js';
import { addMonths, endOfShanghaiDay, lastDayOfPeriod } from '../../protocol/period.js';
import { statisticDigest } from '../../rules/statisticDigest.js';
import { statisticTotals } from '../../rules/statisticPlan.js';
import {
  DeductionStageSearchAttribute,
  type MonthlyDeductionResult,
  type ParsedMonthlyDeductionInput,
  type Progress,
  Stage,
  type StatisticSummary,
} from '../contract.js';
import { onTenantQueue } from '../tenantQueues.js';
import {
  bureauCallOptions,
  FINAL_FAILURE_TYPES,
  heartbeatingOptions,
  pollingOptions,
  retryBudgetMs,
} from '../activityOptions.js';
import { renderCurrentDetails } from '../details.js';

/**
 * Activities whose options are computed when each one is scheduled, so that a step's retry budget
 * is what is left of it then (commands are the same as with a plain proxy).
 */
function scheduledWith(options: () => ActivityOptions): ActivityInterfaceFor<DeductionActivities> {
  return new Proxy({} as ActivityInterfaceFor<DeductionActivities>, {
    get: (_target, name) => (proxyActivities<DeductionActivities>(options()) as Record<string | symbol, unknown>)[name],
  });
}

/** After a cancellation: one short read of the table, never a wait on a bureau that is down. */
const AFTER_CANCEL_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '3 minutes',
  retry: { initialInterval: '2s', maximumAttempts: 3, nonRetryableErrorTypes: FINAL_FAILURE_TYPES },
};

/**
 * One taxpayer's month as every phase sees it: its input, its progress (what the query answers),
 * the bureau's activities with their retry budgets, and the steps several phases take.
 */
export class Month {
  readonly taxNo: string;
  readonly taxPeriod: string;
  readonly progress: Progress;
  readonly tenantQueue: (options: ActivityOptions) => ActivityOptions;
  /** Short bureau calls, retried through outages. */
  readonly bureau: ActivityInterfaceFor<DeductionActivities>;
  /** Selections, which heartbeat. */
  readonly selection: ActivityInterfaceFor<DeductionActivities>;
  /** Waiting on a bureau task is not an outage: polls are bounded by the deadline alone. */
  readonly poll: ActivityInterfaceFor<DeductionActivities>;
  readonly afterCancel: ActivityInterfaceFor<DeductionActivities>;
  /** The bureau write being sent, if any: a cancellation records that it may still land. */
  writeInFlight: string | undefined;
  // Bureau steps retry through outages until the deduction deadline (or the month's outage limit):
  // until the bureau names it, the latest a deadline can be, the end of the following month.
  private retryUntil: Date;
  private statisticOperations = 0;

  constructor(readonly input: ParsedMonthlyDeductionInput) {
    this.taxNo = input.taxNo;
    this.taxPeriod = input.taxPeriod;
    this.retryUntil = endOfShanghaiDay(lastDayOfPeriod(addMonths(input.taxPeriod, 1)));
    const outageLimitMs = input.outageLimitHours === undefined ? undefined : input.outageLimitHours * 3600_000;
    const budget = () => retryBudgetMs(this.retryUntil, Date.now(), outageLimitMs);
    const tenantQueue = onTenantQueue(input.tenant);
    this.tenantQueue = tenantQueue;
    this.bureau = scheduledWith(() => tenantQueue(bureauCallOptions(budget())));
    this.selection = scheduledWith(() => tenantQueue(heartbeatingOptions(budget())));
    this.poll = scheduledWith(() =>
      tenantQueue(pollingOptions(input.polling, retryBudgetMs(this.retryUntil, Date.now()))),
    );
    this.afterCancel = proxyActivities<DeductionActivities>(tenantQueue(AFTER_CANCEL_OPTIONS));
    this.progress = {
      taxNo: input.taxNo,
      taxPeriod: input.taxPeriod,
      stage: Stage.LoggingIn,
      decisionPolicy: input.decisionPolicy,
      updatedAt: new Date().toISOString(),
    };
  }

  retryUntilDeadline(deductionDeadline: string): void {
    this.retryUntil = endOfShanghaiDay(deductionDeadline);
  }

  async writing<T>(what: string, send: () => Promise<T>): Promise<T> {
    this.writeInFlight = what;
    const result = await send();
    this.writeInFlight = undefined;
    return result;
  }

  publish(): void {
    this.progress.updatedAt = new Date().toISOString();
    setCurrentDetails(renderCurrentDetails(this.progress));
  }

  enterStage(stage: Stage): void {
    this.progress.stage = stage;
    upsertSearchAttributes([{ key: DeductionStageSearchAttribute, value: stage }]);
    this.publish();
  }

  finish(
    outcome: MonthlyDeductionResult['outcome'],
    note: string,
    extra: Partial<MonthlyDeductionResult> = {},
  ): MonthlyDeductionResult {
    this.enterStage(outcome as Stage);
    return { ...this.progress, ...extra, outcome, note } as MonthlyDeductionResult;
  }

  async runStatisticOperation(operation: 'generate' | 'revoke'): Promise<void> {
    const { taxNo, taxPeriod } = this;
    const ordinal = ++this.statisticOperations;
    const { taskNo } = await this.writing(`statistic ${operation}`, () =>
      this.bureau.requestStatisticOperation.executeWithOptions(
        { summary: operation === 'generate' ? '生成统计表 generate statistic' : '撤销统计表 revoke statistic' },
        [{ taxNo, operation, ordinal }],
      ),
    );
    // The bureau already had it (the activity reads the table before it writes): nothing to await.
    if (taskNo === '') return;
    const result = await this.poll.awaitStatisticTask.executeWithOptions(
      { summary: `await statistic task ${taskNo}` },
      [{ taxNo, taskNo }],
    );
    if (!result.success) {
      throw ApplicationFailure.nonRetryable(
        `Statistic ${operation} for ${taxNo} ${taxPeriod} failed at the bureau: ${result.resultMsg}`,
        FailureType.Business,
      );
    }
  }

  async refreshStatistic(): Promise<StatisticQueryReply> {
    const statistic = await this.bureau.queryStatistic.executeWithOptions({ summary: '当前统计查询 query statistic' }, [
      { taxNo: this.taxNo },
    ]);
    this.progress.statistic = summarize(statistic);
    this.publish();
    return statistic;
  }
}

export function summarize(statistic: StatisticQueryReply): StatisticSummary {
  const totals = statisticTotals(statistic);
  return {
    digest: statisticDigest(statistic),
    statisticStatus: statistic.statisticStatus,
    updateTime: statistic.updateTime,
    deductionDeadline: statistic.deductionDeadline,
    items: statistic.items,
    ...(statistic.total ? { total: statistic.total } : {}),
    deductibleCount: totals.deductibleCount,
    deductibleAmount: totals.deductibleAmount,
    deductibleTax: totals.deductibleTax,
  };
}
