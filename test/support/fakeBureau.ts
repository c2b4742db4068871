import { ApplicationFailure } from '@temporalio/common';
import type { DeductionActivities, SelectionTaskResult } from '../../activities/deductionActivities.js';
import { FailureType } from '../../protocol/failureTypes.js';
import { StatisticStatus } from '../../protocol/codes.js';
import type { StatisticItem, StatisticQueryReply } from '../../protocol/interfaces.js';

/** The activities MonthlyDeductionWorkflow calls, with their real signatures. */
export type StubName =
  | 'logInToBureau'
  | 'queryTaxPeriod'
  | 'submitSelection'
  | 'awaitSelectionResult'
  | 'submitPreSelection'
  | 'awaitPreSelectionResult'
  | 'queryStatistic'
  | 'awaitStatisticSettled'
  | 'requestStatisticOperation'
  | 'awaitStatisticTask'
  | 'requestConfirmation'
  | 'awaitConfirmation'
  | 'changeTaxPeriod';
export type Stubs = Pick<DeductionActivities, StubName>;
type Input<N extends StubName> = Parameters<Stubs[N]>[0];

export interface RecordedCall {
  name: StubName;
  input: unknown;
}

/** One selection round as the fake bureau answers it. */
export interface FakeRound {
  selected: number;
  toRetry: number;
  alreadySelected?: number;
  failed?: number;
}

export interface FakeBureauOptions {
  taxNo: string;
  taxPeriod: string;
  /** YYYY-MM-DD. */
  deductionDeadline: string;
  statisticStatus?: StatisticStatus;
  /** Invoices selected before the workflow runs (they show in the statistic). */
  alreadySelectedInvoices?: number;
  /** Candidates the dry run counts when a statistic locks selection. */
  dryRunCandidates?: number;
  /** Round r answers rounds[r-1] (the last one repeats); default one round of 3 selected. */
  rounds?: FakeRound[];
}

let taskCounter = 0;
/** A 32-hex task number, unique in this process. */
export function fakeTaskNo(): string {
  taskCounter++;
  return taskCounter.toString(16).padStart(32, '0');
}

/**
 * A stateful in-memory bureau behind plain activity functions: selection adds to the selected
 * count, generating a statistic makes it 02, revoking 01, confirming 05. Every call is recorded;
 * any activity can be replaced (`override`) and a replacement can delegate to `base`.
 */
export class FakeBureau {
  readonly calls: RecordedCall[] = [];
  taxPeriod: string;
  deductionDeadline: string;
  statisticStatus: StatisticStatus;
  selected: number;
  dryRunCandidates: number;
  rounds: FakeRound[];
  /** Bumped by every statistic operation; part of the table's digest. */
  updateSecond = 0;
  readonly base: Stubs;
  private readonly overrides: Partial<Stubs> = {};
  private readonly selectionTasks = new Map<string, SelectionTaskResult>();
  private readonly statisticTasks = new Map<string, 'generate' | 'revoke'>();

  constructor(readonly options: FakeBureauOptions) {
    this.taxPeriod = options.taxPeriod;
    this.deductionDeadline = options.deductionDeadline;
    this.statisticStatus = options.statisticStatus ?? StatisticStatus.NotGenerated;
    this.selected = options.alreadySelectedInvoices ?? 0;
    this.dryRunCandidates = options.dryRunCandidates ?? 0;
    this.rounds = options.rounds ?? [{ selected: 3, toRetry: 0 }];
    this.base = this.defaults();
  }

  override<N extends StubName>(name: N, fn: Stubs[N]): this {
    (this.overrides as Record<string, unknown>)[name] = fn;
    return this;
  }

  /** The recorded inputs of one activity, in call order. */
  inputs<N extends StubName>(name: N): Input<N>[] {
    return this.calls.filter((c) => c.name === name).map((c) => c.input as Input<N>);
  }
  count(name: StubName): number {
    return this.calls.filter((c) => c.name === name).length;
  }
  names(): StubName[] {
    return this.calls.map((c) => c.name);
  }

  /** The statistic as the bureau reports it now. */
  statistic(): StatisticQueryReply {
    const items: StatisticItem[] =
      this.selected > 0
        ? [
            {
              category: '01',
              deductibleCount: this.selected,
              deductibleAmount: `${this.selected * 100}.00`,
              deductibleTax: `${this.selected * 13}.00`,
              notDeductibleCount: 0,
              notDeductibleAmount: '0.00',
              notDeductibleTax: '0.00',
            },
          ]
        : [];
    return {
      statisticPeriod: this.taxPeriod,
      taxPeriod: this.taxPeriod,
      deductionDeadline: this.deductionDeadline,
      updateTime: `2026-12-05 10:00:${String(this.updateSecond % 60).padStart(2, '0')}`,
      statisticStatus: this.statisticStatus,
      items,
    };
  }

  /** The activities to register on a worker: each records its call, then runs the override or the default. */
  activities(): Stubs {
    const names = Object.keys(this.base) as StubName[];
    return Object.fromEntries(
      names.map((name) => [
        name,
        async (input: unknown) => {
          this.calls.push({ name, input });
          const fn = (this.overrides[name] ?? this.base[name]) as (i: unknown) => Promise<unknown>;
          return fn(input);
        },
      ]),
    ) as unknown as Stubs;
  }

  private selectionRound(round: number) {
    const r = this.rounds[Math.min(round, this.rounds.length) - 1]!;
    const total = r.selected + r.toRetry + (r.alreadySelected ?? 0) + (r.failed ?? 0);
    const taskNo = fakeTaskNo();
    this.selectionTasks.set(taskNo, {
      taskNo,
      total,
      selected: r.selected,
      alreadySelected: r.alreadySelected ?? 0,
      toRetry: r.toRetry,
      failed: r.failed ?? 0,
      failures: [],
    });
    // Invoices selected before the month that round 1 did not resend (as "already selected"): the
    // candidate source reports them, as the real one does, so the plan matches the table.
    const before = this.options.alreadySelectedInvoices ?? 0;
    const alreadySelectedInSource = { count: Math.max(0, before - (r.alreadySelected ?? 0)) };
    return {
      candidates: total,
      submitted: total,
      skipped: {},
      taskNos: total > 0 ? [taskNo] : [],
      ...(round === 1 ? { alreadySelectedInSource } : {}),
    };
  }

  private selectionResult(taskNo: string): SelectionTaskResult {
    const result = this.selectionTasks.get(taskNo);
    if (!result) throw ApplicationFailure.nonRetryable(`unknown selection task ${taskNo}`, 'BureauRefused');
    this.selected += result.selected;
    return result;
  }

  private defaults(): Stubs {
    const { taxNo } = this.options;
    return {
      logInToBureau: async () => ({ loginType: '1' }),
      queryTaxPeriod: async () => ({
        taxNo,
        taxPeriod: this.taxPeriod,
        deductionDeadline: this.deductionDeadline,
        statisticStatus: this.statisticStatus,
        periodChangeSupported: true,
      }),
      submitSelection: async (input) =>
        input.dryRun
          ? { candidates: this.dryRunCandidates, submitted: 0, skipped: {}, taskNos: [] }
          : this.selectionRound(input.round),
      awaitSelectionResult: async ({ taskNo }) => this.selectionResult(taskNo),
      submitPreSelection: async (input) => {
        const submitted = this.selectionRound(input.round);
        const immediate: SelectionTaskResult = {
          taskNo: 'immediate',
          total: 1,
          selected: 0,
          alreadySelected: 1,
          toRetry: 0,
          failed: 0,
          failures: [],
        };
        this.selected += 1; // selected before, so in the table
        return { ...submitted, immediate };
      },
      awaitPreSelectionResult: async ({ taskNo }) => this.selectionResult(taskNo),
      queryStatistic: async () => this.statistic(),
      awaitStatisticSettled: async () => {
        if (this.statisticStatus === StatisticStatus.Generating) {
          throw ApplicationFailure.create({ message: 'still generating', type: FailureType.TaskPending });
        }
        return this.statistic();
      },
      requestStatisticOperation: async ({ operation }) => {
        const taskNo = fakeTaskNo();
        this.statisticTasks.set(taskNo, operation);
        return { taskNo };
      },
      awaitStatisticTask: async ({ taskNo }) => {
        const operation = this.statisticTasks.get(taskNo);
        if (!operation) throw ApplicationFailure.nonRetryable(`unknown statistic task ${taskNo}`, 'BureauRefused');
        this.updateSecond++;
        if (operation === 'revoke') this.statisticStatus = StatisticStatus.NotGenerated;
        else this.statisticStatus = this.selected > 0 ? StatisticStatus.Generated : StatisticStatus.NothingSelected;
        return {
          taskNo,
          success: true,
          statisticStatus: this.statisticStatus,
          resultMsg: '成功',
          operateType: operation === 'generate' ? ('1' as const) : ('2' as const),
        };
      },
      requestConfirmation: async () => ({ taskNo: fakeTaskNo() }),
      awaitConfirmation: async ({ taskNo }) => {
        this.statisticStatus = StatisticStatus.Confirmed;
        return {
          taskNo,
          success: true,
          statisticStatus: this.statisticStatus,
          resultMsg: '确认成功',
          confirmTime: '2026-12-05 10:30:00',
        };
      },
      changeTaxPeriod: async ({ taxPeriod }) => {
        this.taxPeriod = taxPeriod;
        return { taxNo, taxPeriod };
      },
    };
  }
}
