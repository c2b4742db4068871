import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { DeductionPurpose, StatisticOperation, StatisticStatus } from '../protocol/codes.js';
import type { StatisticQueryReply } from '../protocol/interfaces.js';
import { readSkssq, readStatistic } from '../rules/statisticObject.js';
import { type CategoryFigures, figuresByCategory } from '../rules/plannedVersusBureau.js';
import type { PoolFilter } from '../rules/poolFilter.js';
import { chunk, type SkipReason } from '../rules/selectionPolicy.js';
import { FailureType } from '../protocol/failureTypes.js';
import { classified, stillProcessing } from './failures.js';
import {
  type BureauView,
  emptyTally,
  notYetSent,
  planCandidates,
  readBureauView,
  readDownload,
  type ResultPageReader,
  type RoundPlan,
  type SelectionTaskResult,
  type SourceRef,
  tallyResultItem,
  tallyTaskResults,
} from './selectionCandidates.js';
import {
  earlierProgress,
  immediateOf,
  keepBeating,
  recordProgress,
  type SelectionHeartbeat,
  sentKey,
  sentKeys,
} from './selectionProgress.js';
import { InvoiceCloudError } from './invoiceCloudErrors.js';
import type { InvoiceCloudClient } from './invoiceCloudClient.js';
import { confirmPasswordFor, type InvoiceCloudConfig } from './invoiceCloudConfig.js';
import { createDecisionActivities, type DecisionActivityOptions } from './decisionVerification.js';
import { createPreSelectionActivities } from './preSelectionActivities.js';
import { stableRequestId } from './requestIds.js';
import { mayStillLand, sendRecorded, throwIfAbandoned } from './writeIntent.js';
import { confirmReadiness, generateReadiness, revokeReadiness } from '../rules/writeReadiness.js';
import { statisticDigest, statisticItemsDigest } from '../rules/statisticDigest.js';

export interface DeductionActivityDeps {
  client: InvoiceCloudClient;
  config: InvoiceCloudConfig;
  /** Signed decisions' verification keys; default: DECISION_VERIFY_KEYS (activities/decisionVerification.ts). */
  decisions?: DecisionActivityOptions;
  /** The worker's clock (injected so tests can move it). */
  now?: () => Date;
}

export interface SubmitSelectionInput {
  taxNo: string;
  taxPeriod: string;
  deductionDeadline: string;
  batchSize: number;
  invoiceTypes?: number[];
  /** Restrict by data source, bound document type and accounting status; default: no restriction. */
  poolFilter?: PoolFilter;
  /** Selection round of this workflow (a new round re-submits what the bureau asked to retry). */
  round: number;
  /** Count the candidates without submitting anything. */
  dryRun?: boolean;
  /** A locked table that was not revoked: round 1 leaves invoices already selected for the period as they are. */
  keepSelectedAsIs?: boolean;
  /** Where candidates come from (an invoices file, a download task); absent: the sandbox's pool query. */
  source?: SourceRef;
  /** Rounds after the first with a file or a download: the previous round's tasks (selectionCandidates.ts). */
  retryOf?: string[];
}

export type { SelectionTaskResult };

export interface SubmitSelectionResult {
  candidates: number;
  submitted: number;
  skipped: Partial<Record<SkipReason, number>>;
  taskNos: string[];
  /** Results the bureau answered at once (no taskNo), as a task result. */
  immediate?: SelectionTaskResult;
  /** Invoices the source shows selected for the period that were not sent (the table counts them). */
  alreadySelectedInSource?: { count: number; tax?: string };
  /** The candidates by the bureau's statistic category (profile.statisticCategories), for the plan check. */
  candidatesByCategory?: Record<string, CategoryFigures>;
  /** Candidates of types without a statistic category. */
  uncategorisedCandidates?: number;
  /** For an invoices file: its skipped rows by reason, as ranges ("5-9, 12"). */
  skippedRows?: Partial<Record<SkipReason, string>>;
}

/** 进项表头归集 finished: how many invoices the download lists. */
export interface InvoiceDownloadOutcome {
  taskNo: string;
  total: number;
}

/** The bureau's current period (4.04) with its statistic status (4.07). */
export interface BureauPeriod {
  taxNo: string;
  taxPeriod: string;
  deductionDeadline: string;
  statisticStatus: string;
}

/** A generate / revoke task that finished (a refused one fails the activity instead). */
export interface StatisticTaskOutcome {
  success: boolean;
  statisticStatus: string;
  resultMsg: string;
}

/** A confirmation seen through (createTjbbStatus 05). */
export interface ConfirmationOutcome {
  success: boolean;
  resultMsg: string;
  confirmTime: string;
}

/** "Still processing": retried by the polling policy without growing history, a benign failure. */
const pending = (message: string) => stillProcessing(message);

/** One thin activity per bureau step of the seed's flow (异构对接说明 1-10). */
export function createDeductionActivities({
  client,
  config,
  decisions,
  now = () => new Date(),
}: DeductionActivityDeps) {
  const { profile } = config;
  /** 4.07, read; the period comes from the object (taxPeriod or skssq), else 4.04. */
  async function readCurrentStatistic(taxNo: string): Promise<StatisticQueryReply> {
    const object = await client.call('statisticQuery', { taxNo });
    if (object.taxPeriod !== undefined || object.skssq !== undefined) return readStatistic(object);
    const period = await client.call('taxperiodQuery', { taxNo });
    return readStatistic(object, period.taxPeriod ?? readSkssq(period.skssq).period);
  }

  /**
   * The round's plan with the bureau's view (selectionCandidates.ts planCandidates): what earlier
   * attempts sent, and for a file or a download the bureau's flags read now. Waits (throws
   * BureauTaskPending) while the bureau is still selecting invoices for a request whose answer
   * never arrived. The attempt heartbeats its progress from here on (keepBeating) until the caller
   * calls `stopBeating`.
   */
  async function readBeforeSelecting(input: SubmitSelectionInput, readResultPage: ResultPageReader) {
    const progress = earlierProgress(input.round);
    const stopBeating = keepBeating(progress);
    try {
      return { ...(await readProgressAndPlan(input, readResultPage, progress)), stopBeating };
    } catch (error) {
      stopBeating();
      throw error;
    }
  }

  async function readProgressAndPlan(
    input: SubmitSelectionInput,
    readResultPage: ResultPageReader,
    progress: SelectionHeartbeat,
  ) {
    const attempt = Context.current().info.attempt;
    const view: BureauView = {
      sent: sentKeys(progress),
      beat: () => recordProgress(progress),
      ...(input.source
        ? {
            live: await readBureauView(
              client,
              input,
              progress,
              stableRequestId('selection-view', String(input.round), String(attempt)),
            ),
          }
        : {}),
    };
    const plan = await planCandidates(client, input, now(), profile, readResultPage, view);
    if (plan.inProgress > 0 && !input.dryRun) {
      throw pending(
        `${plan.inProgress} invoices of ${input.taxNo} are still being selected at the bureau (勾选中) for a request whose answer was lost; waiting before sending the rest`,
      );
    }
    return { plan, view, progress };
  }

  /** What a submission reports of its plan, whatever it sends. */
  function planSummary(plan: RoundPlan) {
    return {
      candidates: plan.candidates.length,
      skipped: plan.skipped,
      alreadySelectedInSource: plan.selectedForPeriodElsewhere,
      candidatesByCategory: figuresByCategory(plan.candidates, profile.statisticCategories),
      uncategorisedCandidates: plan.candidates.filter((c) => !profile.statisticCategories[c.invoiceType]).length,
      ...(plan.skippedRowRanges ? { skippedRows: plan.skippedRowRanges } : {}),
    };
  }

  /** Steps 2-3 of submitSelection: the batches not sent yet, each recorded in the heartbeat once answered. */
  async function sendSelection(
    input: SubmitSelectionInput,
    plan: RoundPlan,
    view: BureauView,
    progress: SelectionHeartbeat,
  ): Promise<SubmitSelectionResult> {
    const result: SubmitSelectionResult = {
      ...planSummary(plan),
      submitted: progress.sent.reduce((n, batch) => n + batch.keys.length, 0),
      taskNos: progress.sent.flatMap((batch) => (batch.taskNo ? [batch.taskNo] : [])),
      ...(progress.immediate ? { immediate: immediateOf(progress) } : {}),
    };
    if (input.dryRun) return result;
    for (const batch of chunk(notYetSent(plan, view), input.batchSize)) {
      const requestId = stableRequestId('select', String(input.round), ...batch.map((i) => i.invoiceNo));
      throwIfAbandoned();
      const accepted = await client.call(
        'invoiceSelect',
        {
          taxNo: input.taxNo,
          billType: '0',
          // A number, as documented; which value selects is the profile's (docs/protocol.md), and
          // the month checks the table.
          authenticateFlag: Number(profile.selectFlag.select),
          deductionPurpose: DeductionPurpose.Deduct,
          asyncFlag: '1',
          invoices: batch,
        },
        requestId,
      );
      result.submitted += batch.length;
      if (accepted.taskNo !== undefined) result.taskNos.push(accepted.taskNo);
      else {
        // Answered at once: the per-invoice results are in the reply.
        result.immediate ??= emptyTally('invoiceSelect');
        for (const item of [...accepted.success, ...accepted.fail]) tallyResultItem(result.immediate, item, profile);
      }
      progress.sent.push({
        ...(accepted.taskNo !== undefined ? { taskNo: accepted.taskNo } : {}),
        keys: batch.map((line) => sentKey(line.invoiceCode, line.invoiceNo || line.etaxInvoiceNo)),
      });
      if (result.immediate) progress.immediate = result.immediate;
      recordProgress(progress);
    }
    Context.current().log.info('Selection submitted', {
      taxNo: input.taxNo,
      taxPeriod: input.taxPeriod,
      candidates: result.candidates,
      batches: result.taskNos.length,
    });
    return result;
  }

  return {
    // The month's approve / reject Updates verify signed decisions with it (a local activity).
    ...createDecisionActivities(decisions),

    // selectionMode 'preselect': 预勾选 → 预勾选确认 → 预勾选确认结果查询 (activities/preSelectionActivities.ts).
    ...createPreSelectionActivities({ client, profile, readBeforeSelecting, planSummary }),

    /** 4.02 税局登录. */
    async logInToBureau(input: { taxNo: string }): Promise<{ loginType: string }> {
      return classified(`taxLogin for ${input.taxNo}`, () => client.call('taxLogin', { taxNo: input.taxNo }));
    },

    /**
     * 4.04 获取税款所属期信息, with the statistic's status (4.07): the bureau's current period, its
     * deadline (skssq) and whether the period's table is generated or confirmed.
     */
    async queryTaxPeriod(input: { taxNo: string }): Promise<BureauPeriod> {
      return classified(`taxperiodQuery for ${input.taxNo}`, async () => {
        const reply = await client.call('taxperiodQuery', { taxNo: input.taxNo });
        const taxPeriod = reply.taxPeriod ?? readSkssq(reply.skssq).period!;
        const statistic = readStatistic(await client.call('statisticQuery', { taxNo: input.taxNo }), taxPeriod);
        return {
          taxNo: input.taxNo,
          taxPeriod,
          deductionDeadline: readSkssq(reply.skssq).deadline ?? statistic.deductionDeadline,
          statisticStatus: statistic.statisticStatus,
        };
      });
    },

    /**
     * Steps 1-3: read the candidates, choose them by the selection policy, and submit them in
     * batches (4.05, asyncFlag 1). Reads before it sends, on every attempt: what earlier attempts
     * of the round sent (heartbeat details) is not sent again, invoices the bureau shows selected
     * count as done, and invoices it is still selecting for a lost request are waited for
     * (BureauTaskPending) instead of being sent twice.
     */
    async submitSelection(input: SubmitSelectionInput): Promise<SubmitSelectionResult> {
      const context = `selection for ${input.taxNo} ${input.taxPeriod}`;
      return classified(context, async () => {
        const { plan, view, progress, stopBeating } = await readBeforeSelecting(input, (taskNo, pageNo, pageSize) =>
          client.call('invoiceSelectQuery', { taxNo: input.taxNo, taskNo, pageNo, pageSize }),
        );
        try {
          return await sendSelection(input, plan, view, progress);
        } finally {
          stopBeating();
        }
      });
    },

    /**
     * 进项表头归集 (invoiceDown): the bureau's invoices of the period, collected into the pool. One
     * download per month; a resend carries the same requestId.
     */
    async requestInvoiceDownload(input: { taxNo: string; taxPeriod: string }): Promise<{ taskNo: string }> {
      return classified(`invoiceDown for ${input.taxNo} ${input.taxPeriod}`, async () => {
        const accepted = await client.call(
          'invoiceDown',
          { taxNo: input.taxNo, asyncFlag: '1', searchOpt: { taxPeriod: input.taxPeriod } },
          stableRequestId('invoice-down', input.taxPeriod),
        );
        return { taskNo: accepted.taskNo };
      });
    },

    /**
     * 进项表头归集结果 (invoiceDownQuery): every page of the download, read to see it finished and
     * count it (the rows stay with the bureau; submitSelection reads them again). Throws
     * BureauTaskPending while the bureau answers 6910.
     */
    async awaitInvoiceDownload(input: { taxNo: string; taskNo: string }): Promise<InvoiceDownloadOutcome> {
      return classified(`download task ${input.taskNo} for ${input.taxNo}`, async () => {
        const { invoices } = await readDownload(client, input.taxNo, input.taskNo);
        return { taskNo: input.taskNo, total: invoices.length };
      });
    },

    /** 4.06 发票勾选结果查询, all pages. Throws BureauTaskPending while the bureau answers 6910. */
    async awaitSelectionResult(input: { taxNo: string; taskNo: string }): Promise<SelectionTaskResult> {
      return classified(`selection result ${input.taskNo} for ${input.taxNo}`, () =>
        tallyTaskResults(
          input.taskNo,
          (pageNo, pageSize) =>
            client.call('invoiceSelectQuery', { taxNo: input.taxNo, taskNo: input.taskNo, pageNo, pageSize }),
          profile,
        ),
      );
    },

    /** 4.07 当前统计查询: the statistic object, read (rules/statisticObject.ts). */
    async queryStatistic(input: { taxNo: string }): Promise<StatisticQueryReply> {
      return classified(`statisticQuery for ${input.taxNo}`, () => readCurrentStatistic(input.taxNo));
    },

    /** 4.07 polled until the statistic is no longer generating (21), for a generation we did not start. */
    async awaitStatisticSettled(input: { taxNo: string }): Promise<StatisticQueryReply> {
      const statistic = await classified(`statisticQuery for ${input.taxNo}`, () => readCurrentStatistic(input.taxNo));
      if (statistic.statisticStatus === StatisticStatus.Generating) {
        throw pending(`statistic of ${input.taxNo} is still being generated`);
      }
      return statistic;
    },

    /**
     * 4.08 生成统计表 (operateType 1) or 撤销统计表 (2), after reading the table: nothing is sent
     * when the bureau already has the result (taskNo ''), and nothing while it is still processing
     * one (BureauTaskPending) or an earlier request of this step may still land. `ordinal` tells
     * the month's operations apart.
     */
    async requestStatisticOperation(input: {
      taxNo: string;
      operation: 'generate' | 'revoke';
      ordinal: number;
    }): Promise<{ taskNo: string; statisticStatus?: string }> {
      const operateType = input.operation === 'generate' ? StatisticOperation.Generate : StatisticOperation.Revoke;
      const write = `statistic-${input.operation}-${input.ordinal}`;
      return classified(`statistic ${input.operation} for ${input.taxNo}`, async () => {
        const statistic = await readCurrentStatistic(input.taxNo);
        const table = { status: statistic.statisticStatus, revocable: statistic.revocable };
        const readiness = input.operation === 'generate' ? generateReadiness(table) : revokeReadiness(table);
        const seen = `the statistic of ${input.taxNo} is ${table.status}`;
        if (readiness === 'done') return { taskNo: '', statisticStatus: table.status };
        if (readiness === 'unexpected') {
          throw ApplicationFailure.nonRetryable(
            `${seen}: a ${input.operation} cannot start from it; nothing was sent`,
            FailureType.Business,
          );
        }
        if (readiness === 'wait') throw pending(`${seen} (revocable ${String(table.revocable)}): waiting`);
        if (mayStillLand(write, now().getTime(), profile.writeSettleMs)) {
          throw pending(`${seen}: an earlier ${input.operation} request got no answer and may still land; waiting`);
        }
        const accepted = await sendRecorded(write, now().getTime(), () =>
          client.call(
            'statisticCreate',
            { taxNo: input.taxNo, operateType, asyncFlag: '1' },
            stableRequestId(`statistic-${input.operation}`, String(input.ordinal)),
          ),
        );
        return { taskNo: accepted.taskNo };
      });
    },

    /**
     * 4.09 生成&撤销统计表结果查询: the statistic object once the task is done (a refusal comes as an
     * error reply). Throws BureauTaskPending while processing, also while the table still says 21.
     */
    async awaitStatisticTask(input: { taxNo: string; taskNo: string }): Promise<StatisticTaskOutcome> {
      return classified(`statistic task ${input.taskNo} for ${input.taxNo}`, async () => {
        const object = await client.call('statisticCreateQuery', { taxNo: input.taxNo, taskNo: input.taskNo });
        const status = object.createTjbbStatus.padStart(2, '0');
        if (status === StatisticStatus.Generating) throw pending(`statistic task ${input.taskNo} is generating (21)`);
        return { success: true, statisticStatus: status, resultMsg: `createTjbbStatus ${status}` };
      });
    },

    /**
     * 4.10 确认统计表, after reading the table: a table already confirmed (05) is not confirmed
     * again (taskNo ''); one the bureau does not let us confirm yet (04, isAllowQrtj false, also
     * while a confirmation is processed) waits, retried up to the deadline; and an earlier request
     * that got no answer is given time to land before a second is sent. The confirmation password
     * is resolved here, on the worker, never in history.
     */
    async requestConfirmation(input: {
      taxNo: string;
      /** The table approved (digests): the bureau's must be it, before and after confirmation. */
      approved?: { digest: string; items: string };
    }): Promise<{ taskNo: string }> {
      return classified(`statistic confirmation for ${input.taxNo}`, async () => {
        const statistic = await readCurrentStatistic(input.taxNo);
        const status = statistic.statisticStatus;
        const readiness = confirmReadiness({ status, confirmable: statistic.confirmable });
        const changed = (what: string) =>
          ApplicationFailure.nonRetryable(
            `the statistic of ${input.taxNo} ${what} is not the table approved (approved ${input.approved?.digest}, now ${statisticDigest(statistic)}); nothing more was done`,
            'TableChangedSinceApproval',
          );
        if (readiness === 'done') {
          if (input.approved && statisticItemsDigest(statistic.items) !== input.approved.items) {
            throw changed('confirmed at the bureau');
          }
          return { taskNo: '' };
        }
        if (input.approved && statisticDigest(statistic) !== input.approved.digest) throw changed('at confirmation');
        if (readiness === 'unexpected') {
          throw ApplicationFailure.nonRetryable(
            `the statistic of ${input.taxNo} is ${status} at confirmation, not generated (02/04); nothing was confirmed`,
            FailureType.Business,
          );
        }
        if (readiness === 'wait') {
          throw new InvoiceCloudError(
            'retryable',
            'statisticQuery',
            `STATUS_${status}`,
            `the bureau does not allow confirming now (createTjbbStatus ${status}, isAllowQrtj ${String(statistic.confirmable)})`,
          );
        }
        if (mayStillLand('statistic-confirm', now().getTime(), profile.writeSettleMs)) {
          throw pending(
            `the statistic of ${input.taxNo} is ${status}: an earlier confirm request got no answer and may still land; waiting`,
          );
        }
        const accepted = await sendRecorded('statistic-confirm', now().getTime(), () =>
          client.call(
            'statisticConfirm',
            { taxNo: input.taxNo, password: confirmPasswordFor(config, input.taxNo), asyncFlag: '1' },
            stableRequestId('statistic-confirm'),
          ),
        );
        return { taskNo: accepted.taskNo };
      });
    },

    /**
     * 4.11: whether the confirmation went through. By default the statistic object says so
     * (createTjbbStatus 05); a tenant with a confirm-result interface of its own names it in the
     * protocol profile. Throws BureauTaskPending until then.
     */
    async awaitConfirmation(input: { taxNo: string; taskNo: string }): Promise<ConfirmationOutcome> {
      return classified(`confirmation task ${input.taskNo} for ${input.taxNo}`, async () => {
        const byResultInterface = profile.confirmation.kind === 'result-interface' && input.taskNo !== '';
        const object = byResultInterface
          ? await client.call('statisticConfirmResult', { taxNo: input.taxNo, taskNo: input.taskNo })
          : await client.call('statisticQuery', { taxNo: input.taxNo });
        const status = object.createTjbbStatus.padStart(2, '0');
        if (status !== StatisticStatus.Confirmed) {
          throw pending(`the statistic of ${input.taxNo} is ${status}, not yet confirmed (05)`);
        }
        return { success: true, resultMsg: 'createTjbbStatus 05', confirmTime: object.updateTime ?? '' };
      });
    },

    /** 4.12 变更税款所属期, after reading the current period: a bureau already there is not asked again. */
    async changeTaxPeriod(input: { taxNo: string; taxPeriod: string }) {
      return classified(`taxperiodChange for ${input.taxNo} to ${input.taxPeriod}`, async () => {
        const current = await client.call('taxperiodQuery', { taxNo: input.taxNo });
        const period = current.taxPeriod ?? readSkssq(current.skssq).period;
        if (period === input.taxPeriod) return { taxNo: input.taxNo, taxPeriod: period };
        throwIfAbandoned();
        return client.call(
          'taxperiodChange',
          { taxNo: input.taxNo, taxPeriod: input.taxPeriod, status: 1 },
          stableRequestId('taxperiod-change', input.taxPeriod),
        );
      });
    },
  };
}

export type DeductionActivities = ReturnType<typeof createDeductionActivities>;
