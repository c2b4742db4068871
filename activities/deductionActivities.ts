import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { DeductionPurpose, StatisticOperation, StatisticStatus } from '../protocol/codes.js';
import type { StatisticQueryReply } from '../protocol/interfaces.js';
import { readSkssq, readStatistic } from '../rules/statisticObject.js';
import { type CategoryFigures, figuresByCategory } from '../rules/plannedVersusBureau.js';
import type { PoolFilter } from '../rules/poolFilter.js';
import { chunk, type SkipReason } from '../rules/selectionPolicy.js';
import { classified, FailureType } from './failures.js';
import {
  emptyTally,
  planCandidates,
  readDownload,
  type SelectionTaskResult,
  type SourceRef,
  tallyResultItem,
  tallyTaskResults,
} from './selectionCandidates.js';
import { InvoiceCloudError } from './invoiceCloudErrors.js';
import type { InvoiceCloudClient } from './invoiceCloudClient.js';
import { confirmPasswordFor, type InvoiceCloudConfig } from './invoiceCloudConfig.js';
import { createPreSelectionActivities } from './preSelectionActivities.js';
import { stableRequestId } from './requestIds.js';

export interface DeductionActivityDeps {
  client: InvoiceCloudClient;
  config: InvoiceCloudConfig;
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

/** "Still processing": retried by the polling policy without growing history. */
function pending(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: FailureType.TaskPending });
}

/** One thin activity per bureau step of the seed's flow (异构对接说明 1-10). */
export function createDeductionActivities({ client, config, now = () => new Date() }: DeductionActivityDeps) {
  const { profile } = config;
  /** 4.07, read; the period comes from the object (taxPeriod or skssq), else 4.04. */
  async function readCurrentStatistic(taxNo: string): Promise<StatisticQueryReply> {
    const object = await client.call('statisticQuery', { taxNo });
    if (object.taxPeriod !== undefined || object.skssq !== undefined) return readStatistic(object);
    const period = await client.call('taxperiodQuery', { taxNo });
    return readStatistic(object, period.taxPeriod ?? readSkssq(period.skssq).period);
  }

  return {
    // selectionMode 'preselect': 预勾选 → 预勾选确认 → 预勾选确认结果查询 (activities/preSelectionActivities.ts).
    ...createPreSelectionActivities({ client, now, profile }),

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
     * Steps 1-3: read the pool, choose candidates by the selection policy, and submit them in
     * batches (4.05, asyncFlag 1). Safe to repeat: a batch's requestId is derived from its
     * content, and an invoice selected twice answers 19 (already selected).
     */
    async submitSelection(input: SubmitSelectionInput): Promise<SubmitSelectionResult> {
      const context = `selection for ${input.taxNo} ${input.taxPeriod}`;
      return classified(context, async () => {
        const plan = await planCandidates(client, input, now(), profile, (taskNo, pageNo, pageSize) =>
          client.call('invoiceSelectQuery', { taxNo: input.taxNo, taskNo, pageNo, pageSize }),
        );
        const result: SubmitSelectionResult = {
          candidates: plan.candidates.length,
          submitted: 0,
          skipped: plan.skipped,
          taskNos: [],
          alreadySelectedInSource: plan.selectedForPeriodElsewhere,
          candidatesByCategory: figuresByCategory(plan.candidates, profile.statisticCategories),
          uncategorisedCandidates: plan.candidates.filter((c) => !profile.statisticCategories[c.invoiceType]).length,
          ...(plan.skippedRowRanges ? { skippedRows: plan.skippedRowRanges } : {}),
        };
        if (input.dryRun) return result;
        for (const batch of chunk(plan.candidates, input.batchSize)) {
          const requestId = stableRequestId('select', String(input.round), ...batch.map((i) => i.invoiceNo));
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
            for (const item of [...accepted.success, ...accepted.fail])
              tallyResultItem(result.immediate, item, profile);
          }
          Context.current().heartbeat({ submitted: result.submitted });
        }
        Context.current().log.info('Selection submitted', {
          taxNo: input.taxNo,
          taxPeriod: input.taxPeriod,
          candidates: result.candidates,
          batches: result.taskNos.length,
        });
        return result;
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
        throw ApplicationFailure.create({
          message: `statistic of ${input.taxNo} is still being generated`,
          type: FailureType.TaskPending,
        });
      }
      return statistic;
    },

    /** 4.08 生成统计表 (operateType 1) or 撤销统计表 (2); `ordinal` tells repeated operations apart. */
    async requestStatisticOperation(input: {
      taxNo: string;
      operation: 'generate' | 'revoke';
      ordinal: number;
    }): Promise<{ taskNo: string }> {
      const operateType = input.operation === 'generate' ? StatisticOperation.Generate : StatisticOperation.Revoke;
      return classified(`statistic ${input.operation} for ${input.taxNo}`, async () => {
        const accepted = await client.call(
          'statisticCreate',
          { taxNo: input.taxNo, operateType, asyncFlag: '1' },
          stableRequestId(`statistic-${input.operation}`, String(input.ordinal)),
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
     * again, and one the bureau does not let us confirm yet (isAllowQrtj false) waits, retried up to
     * the deadline. The confirmation password is resolved here, on the worker, never in history.
     */
    async requestConfirmation(input: { taxNo: string }): Promise<{ taskNo: string }> {
      return classified(`statistic confirmation for ${input.taxNo}`, async () => {
        const statistic = await readCurrentStatistic(input.taxNo);
        const status = statistic.statisticStatus;
        if (status === StatisticStatus.Confirmed) return { taskNo: '' };
        // Only a generated table waits for confirmation to open; any other state is a surprise.
        if (status !== StatisticStatus.Generated && status !== StatisticStatus.GeneratedNotConfirmable) {
          throw ApplicationFailure.nonRetryable(
            `the statistic of ${input.taxNo} is ${status} at confirmation, not generated (02/04); nothing was confirmed`,
            FailureType.Business,
          );
        }
        if (statistic.confirmable === false || status === StatisticStatus.GeneratedNotConfirmable) {
          throw new InvoiceCloudError(
            'retryable',
            'statisticQuery',
            `STATUS_${statistic.statisticStatus}`,
            `the bureau does not allow confirming yet (createTjbbStatus ${statistic.statisticStatus}, isAllowQrtj ${String(statistic.confirmable)})`,
          );
        }
        const accepted = await client.call(
          'statisticConfirm',
          { taxNo: input.taxNo, password: confirmPasswordFor(config, input.taxNo), asyncFlag: '1' },
          stableRequestId('statistic-confirm'),
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

    /** 4.12 变更税款所属期. */
    async changeTaxPeriod(input: { taxNo: string; taxPeriod: string }) {
      return classified(`taxperiodChange for ${input.taxNo} to ${input.taxPeriod}`, () =>
        client.call(
          'taxperiodChange',
          { taxNo: input.taxNo, taxPeriod: input.taxPeriod, status: 1 },
          stableRequestId('taxperiod-change', input.taxPeriod),
        ),
      );
    },
  };
}

export type DeductionActivities = ReturnType<typeof createDeductionActivities>;
