import { Context } from '@temporalio/activity';
import { DeductionPurpose } from '../protocol/codes.js';
import type { PoolInvoice } from '../protocol/interfaces.js';
import { lastDayOfPeriod, shanghaiParts } from '../protocol/period.js';
import { chunk, planSelection } from '../rules/selectionPolicy.js';
import { classifySelectResult } from '../rules/selectResult.js';
import type { FailedInvoice } from '../workflows/contract.js';
import type { SelectionTaskResult, SubmitSelectionInput, SubmitSelectionResult } from './deductionActivities.js';
import { classified } from './failures.js';
import type { InvoiceCloudClient } from './invoiceCloudClient.js';
import { stableRequestId } from './requestIds.js';

/**
 * The seed's alternative path (补充说明 1): 预勾选 (preSelect) each batch, then 预勾选确认
 * (preSelectConfirm) it, and read 预勾选确认结果查询 (preSelectConfirmQuery). Used when the
 * workflow runs with selectionMode 'preselect'; the default path is invoiceSelect.
 */

export interface SubmitPreSelectionResult extends SubmitSelectionResult {
  /** What preSelect answered at once (19 already selected, 2 not in the pool), as a task result. */
  immediate: SelectionTaskResult;
}

const POOL_PAGE_SIZE = 1000;
const RESULT_PAGE_SIZE = 500;
const MAX_FAILURES_KEPT = 50;

function emptyTally(taskNo: string): SelectionTaskResult {
  return { taskNo, total: 0, selected: 0, alreadySelected: 0, toRetry: 0, failed: 0, failures: [] };
}

function count(tally: SelectionTaskResult, line: FailedInvoice): void {
  const outcome = classifySelectResult(line.resultCode);
  if (outcome === 'selected') tally.selected++;
  else if (outcome === 'already-selected') tally.alreadySelected++;
  else if (outcome === 'retry') tally.toRetry++;
  else {
    tally.failed++;
    if (tally.failures.length < MAX_FAILURES_KEPT) tally.failures.push(line);
  }
}

export function createPreSelectionActivities({ client, now }: { client: InvoiceCloudClient; now: () => Date }) {
  async function readPool(taxNo: string, taxPeriod: string, includeSelected: boolean): Promise<PoolInvoice[]> {
    const invoices: PoolInvoice[] = [];
    for (let pageNo = 1; ; pageNo++) {
      const page = await client.call('invoicePoolQuery', {
        taxNo,
        ...(includeSelected ? {} : { selectStatus: '0' as const }),
        invoiceDateEnd: lastDayOfPeriod(taxPeriod),
        pageNo,
        pageSize: POOL_PAGE_SIZE,
      });
      invoices.push(...page.invoices);
      Context.current().heartbeat({ poolRead: invoices.length });
      if (invoices.length >= page.total || page.invoices.length === 0) return invoices;
    }
  }

  return {
    /**
     * Pre-selects the candidates batch by batch and confirms each batch. Safe to repeat: every
     * call's requestId is derived from the batch, so a retry gets the first replies.
     */
    async submitPreSelection(input: SubmitSelectionInput): Promise<SubmitPreSelectionResult> {
      return classified(`pre-selection for ${input.taxNo} ${input.taxPeriod}`, async () => {
        const firstRound = input.round === 1;
        const pool = await readPool(input.taxNo, input.taxPeriod, firstRound);
        const plan = planSelection(pool, {
          taxPeriod: input.taxPeriod,
          deductionDeadline: input.deductionDeadline,
          today: shanghaiParts(now()).iso,
          resubmitSelectedForPeriod: firstRound,
          invoiceTypes: input.invoiceTypes,
          poolFilter: input.poolFilter,
        });
        const result: SubmitPreSelectionResult = {
          candidates: plan.candidates.length,
          submitted: 0,
          skipped: plan.skipped,
          taskNos: [],
          immediate: emptyTally('preSelect'),
        };
        if (input.dryRun) return result;
        for (const batch of chunk(plan.candidates, input.batchSize)) {
          const ids = batch.map((i) => i.invoiceNo);
          const pre = await client.call(
            'preSelect',
            { taxNo: input.taxNo, deductionPurpose: DeductionPurpose.Deduct, invoices: batch },
            stableRequestId('preselect', String(input.round), ...ids),
          );
          for (const line of pre.invoices) {
            if (line.resultCode === 1) continue; // pre-selected: its result comes with the confirmation
            result.immediate.total++;
            count(result.immediate, line);
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
      return classified(`pre-selection result ${input.taskNo} for ${input.taxNo}`, async () => {
        const tally = emptyTally(input.taskNo);
        for (let pageNo = 1; ; pageNo++) {
          const page = await client.call('preSelectConfirmQuery', {
            taxNo: input.taxNo,
            taskNo: input.taskNo,
            pageNo,
            pageSize: RESULT_PAGE_SIZE,
          });
          tally.total = page.total;
          for (const line of page.invoices) count(tally, line);
          if (pageNo * RESULT_PAGE_SIZE >= page.total || page.invoices.length === 0) return tally;
        }
      });
    },
  };
}
