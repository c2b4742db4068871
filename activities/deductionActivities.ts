import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { AuthenticateFlag, DeductionPurpose, StatisticOperation, StatisticStatus } from '../protocol/codes.js';
import type { PoolFilter } from '../rules/poolFilter.js';
import { chunk, type SkipReason } from '../rules/selectionPolicy.js';
import { classified, FailureType } from './failures.js';
import { planCandidates, type SelectionTaskResult, tallyTaskResults } from './selectionCandidates.js';
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
}

export type { SelectionTaskResult };

export interface SubmitSelectionResult {
  candidates: number;
  submitted: number;
  skipped: Partial<Record<SkipReason, number>>;
  taskNos: string[];
}

/** One thin activity per bureau step of the seed's flow (异构对接说明 1-10). */
export function createDeductionActivities({ client, config, now = () => new Date() }: DeductionActivityDeps) {
  return {
    // selectionMode 'preselect': 预勾选 → 预勾选确认 → 预勾选确认结果查询 (activities/preSelectionActivities.ts).
    ...createPreSelectionActivities({ client, now }),

    /** 4.02 税局登录. */
    async logInToBureau(input: { taxNo: string }): Promise<{ loginType: string }> {
      return classified(`taxLogin for ${input.taxNo}`, () => client.call('taxLogin', { taxNo: input.taxNo }));
    },

    /** 4.04 获取税款所属期信息: the bureau's current period, deadline and statistic status. */
    async queryTaxPeriod(input: { taxNo: string }) {
      return classified(`taxperiodQuery for ${input.taxNo}`, () =>
        client.call('taxperiodQuery', { taxNo: input.taxNo }),
      );
    },

    /**
     * Steps 1-3: read the pool, choose candidates by the selection policy, and submit them in
     * batches (4.05, asyncFlag 1). Safe to repeat: a batch's requestId is derived from its
     * content, and an invoice selected twice answers 19 (already selected).
     */
    async submitSelection(input: SubmitSelectionInput): Promise<SubmitSelectionResult> {
      const context = `selection for ${input.taxNo} ${input.taxPeriod}`;
      return classified(context, async () => {
        const plan = await planCandidates(client, input, now());
        const result: SubmitSelectionResult = {
          candidates: plan.candidates.length,
          submitted: 0,
          skipped: plan.skipped,
          taskNos: [],
        };
        if (input.dryRun) return result;
        for (const batch of chunk(plan.candidates, input.batchSize)) {
          const requestId = stableRequestId('select', String(input.round), ...batch.map((i) => i.invoiceNo));
          const accepted = await client.call(
            'invoiceSelect',
            {
              taxNo: input.taxNo,
              billType: '0',
              authenticateFlag: AuthenticateFlag.Select,
              deductionPurpose: DeductionPurpose.Deduct,
              asyncFlag: '1',
              invoices: batch,
            },
            requestId,
          );
          result.submitted += batch.length;
          result.taskNos.push(accepted.taskNo);
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

    /** 4.06 发票勾选结果查询, all pages. Throws BureauTaskPending while the bureau answers 6910. */
    async awaitSelectionResult(input: { taxNo: string; taskNo: string }): Promise<SelectionTaskResult> {
      return classified(`selection result ${input.taskNo} for ${input.taxNo}`, () =>
        tallyTaskResults(input.taskNo, (pageNo, pageSize) =>
          client.call('invoiceSelectQuery', { taxNo: input.taxNo, taskNo: input.taskNo, pageNo, pageSize }),
        ),
      );
    },

    /** 4.07 当前统计查询. */
    async queryStatistic(input: { taxNo: string }) {
      return classified(`statisticQuery for ${input.taxNo}`, () =>
        client.call('statisticQuery', { taxNo: input.taxNo }),
      );
    },

    /** 4.07 polled until the statistic is no longer generating (21), for a generation we did not start. */
    async awaitStatisticSettled(input: { taxNo: string }) {
      const statistic = await classified(`statisticQuery for ${input.taxNo}`, () =>
        client.call('statisticQuery', { taxNo: input.taxNo }),
      );
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

    /** 4.09 生成&撤销统计表结果查询. Throws BureauTaskPending while processing. */
    async awaitStatisticTask(input: { taxNo: string; taskNo: string }) {
      return classified(`statistic task ${input.taskNo} for ${input.taxNo}`, () =>
        client.call('statisticCreateQuery', { taxNo: input.taxNo, taskNo: input.taskNo }),
      );
    },

    /** 4.10 确认统计表. The confirmation password is resolved here, on the worker, never in history. */
    async requestConfirmation(input: { taxNo: string }): Promise<{ taskNo: string }> {
      return classified(`statistic confirmation for ${input.taxNo}`, async () => {
        const accepted = await client.call(
          'statisticConfirm',
          { taxNo: input.taxNo, password: confirmPasswordFor(config, input.taxNo), asyncFlag: '1' },
          stableRequestId('statistic-confirm'),
        );
        return { taskNo: accepted.taskNo };
      });
    },

    /** 4.11 确认统计表结果查询 (statisticConfirmQuery, see docs/assumptions.md). */
    async awaitConfirmation(input: { taxNo: string; taskNo: string }) {
      return classified(`confirmation task ${input.taskNo} for ${input.taxNo}`, () =>
        client.call('statisticConfirmQuery', { taxNo: input.taxNo, taskNo: input.taskNo }),
      );
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
