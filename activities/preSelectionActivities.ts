import { DeductionPurpose } from '../protocol/codes.js';
import { chunk } from '../rules/selectionPolicy.js';
import type { SubmitSelectionInput, SubmitSelectionResult } from './deductionActivities.js';
import {
  type BureauView,
  emptyTally,
  notYetSent,
  type ResultPageReader,
  type RoundPlan,
  type SelectionTaskResult,
  tallyResultItem,
  tallyTaskResults,
} from './selectionCandidates.js';
import { immediateOf, recordProgress, type SelectionHeartbeat, sentKey } from './selectionProgress.js';
import type { ProtocolProfile } from '../protocol/profile.js';
import { classified } from './failures.js';
import type { InvoiceCloudClient } from './invoiceCloudClient.js';
import { stableRequestId } from './requestIds.js';
import { throwIfAbandoned } from './writeIntent.js';

/**
 * The seed's alternative path (补充说明 1): 预勾选 (preSelect) each batch, then 预勾选确认
 * (preSelectConfirm) it, and read 预勾选确认结果查询 (preSelectConfirmQuery). Used when the
 * workflow runs with selectionMode 'preselect'; the default path is invoiceSelect.
 */

export interface SubmitPreSelectionResult extends SubmitSelectionResult {
  /** What preSelect answered at once (already selected, not in the pool), as a task result. */
  immediate: SelectionTaskResult;
}

export interface PreSelectionDeps {
  client: InvoiceCloudClient;
  profile: ProtocolProfile;
  /** The round's plan after reading the bureau (deductionActivities.ts). */
  readBeforeSelecting: (
    input: SubmitSelectionInput,
    readResultPage: ResultPageReader,
  ) => Promise<{ plan: RoundPlan; view: BureauView; progress: SelectionHeartbeat; stopBeating: () => void }>;
  planSummary: (plan: RoundPlan) => Omit<SubmitSelectionResult, 'submitted' | 'taskNos'>;
}

export function createPreSelectionActivities({ client, profile, readBeforeSelecting, planSummary }: PreSelectionDeps) {
  /** The batches not sent yet, pre-selected and confirmed one by one, each recorded once answered. */
  async function sendPreSelection(
    input: SubmitSelectionInput,
    plan: RoundPlan,
    view: BureauView,
    progress: SelectionHeartbeat,
  ): Promise<SubmitPreSelectionResult> {
    const result: SubmitPreSelectionResult = {
      ...planSummary(plan),
      submitted: progress.sent.reduce((n, batch) => n + batch.keys.length, 0),
      taskNos: progress.sent.flatMap((batch) => (batch.taskNo ? [batch.taskNo] : [])),
      immediate: immediateOf(progress) ?? emptyTally('preSelect'),
    };
    if (input.dryRun) return result;
    for (const batch of chunk(notYetSent(plan, view), input.batchSize)) {
      const ids = batch.map((i) => i.invoiceNo);
      throwIfAbandoned();
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
      let taskNo: string | undefined;
      if (pre.pendingCount > 0) {
        const confirmed = await client.call(
          'preSelectConfirm',
          { taxNo: input.taxNo, asyncFlag: '1' },
          stableRequestId('preselect-confirm', String(input.round), ...ids),
        );
        taskNo = confirmed.taskNo;
        result.taskNos.push(taskNo);
      }
      progress.sent.push({
        ...(taskNo ? { taskNo } : {}),
        keys: batch.map((line) => sentKey(line.invoiceCode, line.invoiceNo || line.etaxInvoiceNo)),
      });
      progress.immediate = result.immediate;
      recordProgress(progress);
    }
    return result;
  }

  return {
    /**
     * Pre-selects the candidates batch by batch and confirms each batch. Reads before it sends,
     * as submitSelection does: batches an earlier attempt confirmed are not sent again, and
     * invoices the bureau is still selecting are waited for.
     */
    async submitPreSelection(input: SubmitSelectionInput): Promise<SubmitPreSelectionResult> {
      return classified(`pre-selection for ${input.taxNo} ${input.taxPeriod}`, async () => {
        const { plan, view, progress, stopBeating } = await readBeforeSelecting(input, (taskNo, pageNo, pageSize) =>
          client.call('preSelectConfirmQuery', { taxNo: input.taxNo, taskNo, pageNo, pageSize }),
        );
        try {
          return await sendPreSelection(input, plan, view, progress);
        } finally {
          stopBeating();
        }
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
