import { Context } from '@temporalio/activity';
import { DeductionPurpose } from '../protocol/codes.js';
import { chunk } from '../rules/selectionPolicy.js';
import type { SubmitSelectionInput, SubmitSelectionResult } from './deductionActivities.js';
import {
  emptyTally,
  planCandidates,
  type SelectionTaskResult,
  tallyResultItem,
  tallyTaskResults,
} from './selectionCandidates.js';
import type { ProtocolProfile } from '../protocol/profile.js';
import { figuresByCategory } from '../rules/plannedVersusBureau.js';
import { classified } from './failures.js';
import type { InvoiceCloudClient } from './invoiceCloudClient.js';
import { stableRequestId } from './requestIds.js';

/**
 * The seed's alternative path (补充说明 1): 预勾选 (preSelect) each batch, then 预勾选确认
 * (preSelectConfirm) it, and read 预勾选确认结果查询 (preSelectConfirmQuery). Used when the
 * workflow runs with selectionMode 'preselect'; the default path is invoiceSelect.
 */

export interface SubmitPreSelectionResult extends SubmitSelectionResult {
  /** What preSelect answered at once (already selected, not in the pool), as a task result. */
  immediate: SelectionTaskResult;
}

export function createPreSelectionActivities({
  client,
  now,
  profile,
}: {
  client: InvoiceCloudClient;
  now: () => Date;
  profile: ProtocolProfile;
}) {
  return {
    /**
     * Pre-selects the candidates batch by batch and confirms each batch. Safe to repeat: every
     * call's requestId is derived from the batch, so a retry gets the first replies.
     */
    async submitPreSelection(input: SubmitSelectionInput): Promise<SubmitPreSelectionResult> {
      return classified(`pre-selection for ${input.taxNo} ${input.taxPeriod}`, async () => {
        const plan = await planCandidates(client, input, now(), profile, (taskNo, pageNo, pageSize) =>
          client.call('preSelectConfirmQuery', { taxNo: input.taxNo, taskNo, pageNo, pageSize }),
        );
        const result: SubmitPreSelectionResult = {
          candidates: plan.candidates.length,
          submitted: 0,
          skipped: plan.skipped,
          taskNos: [],
          immediate: emptyTally('preSelect'),
          alreadySelectedInSource: plan.selectedForPeriodElsewhere,
          candidatesByCategory: figuresByCategory(plan.candidates, profile.statisticCategories),
          uncategorisedCandidates: plan.candidates.filter((c) => !profile.statisticCategories[c.invoiceType]).length,
          ...(plan.skippedRowRanges ? { skippedRows: plan.skippedRowRanges } : {}),
        };
        if (input.dryRun) return result;
        for (const batch of chunk(plan.candidates, input.batchSize)) {
          const ids = batch.map((i) => i.invoiceNo);
          const pre = await client.call(
            'preSelect',
            { taxNo: input.taxNo, deductionPurpose: DeductionPurpose.Deduct, invoices: batch },
            stableRequestId('preselect', String(input.round), ...ids),
          );
          // A pre-selected invoice's result comes with the confirmation; one already selected, or
          // refused, is answered here.
          for (const item of [...pre.success, ...pre.fail]) {
            const preSelectedOnly = item.selectResult === '1' && !/已勾选|已经勾选/.test(item.description);
            if (!preSelectedOnly) tallyResultItem(result.immediate, item, profile);
          }
          result.submitted += batch.length;
          if (pre.pendingCount > 0) {
            const confirmed = await client.call(
              'preSelectConfirm',
              { taxNo: input.taxNo, asyncFlag: '1' },
              stableRequestId('preselect-confirm', String(input.round), ...ids),
            );
            result.taskNos.push(confirmed.taskNo);
          }
          Context.current().heartbeat({ submitted: result.submitted });
        }
        return result;
      });
    },

    /** 预勾选确认结果查询, all pages. Throws BureauTaskPending while the bureau answers 6910. */
    async awaitPreSelectionResult(input: { taxNo: string; taskNo: string }): Promise<SelectionTaskResult> {
      return classified(`pre-selection result ${input.taskNo} for ${input.taxNo}`, () =>
        tallyTaskResults(
          input.taskNo,
          (pageNo, pageSize) =>
            client.call('preSelectConfirmQuery', { taxNo: input.taxNo, taskNo: input.taskNo, pageNo, pageSize }),
          profile,
        ),
      );
    },
  };
}
