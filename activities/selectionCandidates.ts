import { Context } from '@temporalio/activity';
import type { PoolInvoice, SelectResultItem } from '../protocol/interfaces.js';
import { sumMoney } from '../protocol/money.js';
import type { ProtocolProfile } from '../protocol/profile.js';
import { lastDayOfPeriod, shanghaiParts } from '../protocol/period.js';
import type { PoolFilter } from '../rules/poolFilter.js';
import { classifySelectItem } from '../rules/selectResult.js';
import { planSelection, type SelectionPlan } from '../rules/selectionPolicy.js';
import type { FailedInvoice } from '../workflows/contract.js';
import type { InvoiceCloudClient } from './invoiceCloudClient.js';

/** What both selection paths (invoiceSelect and 预勾选) share: reading the pool and tallying results. */

const POOL_PAGE_SIZE = 1000;
const MAX_FAILURES_KEPT = 50;

export interface SelectionTaskResult {
  taskNo: string;
  total: number;
  selected: number;
  alreadySelected: number;
  toRetry: number;
  failed: number;
  failures: FailedInvoice[];
  /**
   * The effective tax of the invoices the bureau reported selected (success items), when every
   * such item carried effectiveTaxAmount; the month compares it with the statistic table.
   */
  selectedTax?: string;
}

export interface CandidateQuery {
  taxNo: string;
  taxPeriod: string;
  deductionDeadline: string;
  invoiceTypes?: number[];
  poolFilter?: PoolFilter;
  /** Selection round: the first rebuilds the same batches when retried (docs/assumptions.md). */
  round: number;
}

/** What planning needs from the protocol profile. */
export type CandidateProfile = Pick<ProtocolProfile, 'totalTaxAmount'>;

/** Every pool invoice issued up to the period's end, page by page, heartbeating as it goes. */
async function readPool(client: InvoiceCloudClient, taxNo: string, taxPeriod: string, includeSelected: boolean) {
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

/**
 * The candidates of a round by the selection policy. Round 1 keeps invoices already selected for
 * this period, so a retried round rebuilds the same batches; later rounds take only unselected ones.
 */
export async function planCandidates(
  client: InvoiceCloudClient,
  query: CandidateQuery,
  now: Date,
  profile: CandidateProfile,
): Promise<SelectionPlan> {
  const firstRound = query.round === 1;
  const pool = await readPool(client, query.taxNo, query.taxPeriod, firstRound);
  return planSelection(pool, {
    taxPeriod: query.taxPeriod,
    deductionDeadline: query.deductionDeadline,
    today: shanghaiParts(now).iso,
    resubmitSelectedForPeriod: firstRound,
    totalTaxAmount: profile.totalTaxAmount,
    invoiceTypes: query.invoiceTypes,
    poolFilter: query.poolFilter,
  });
}

export function emptyTally(taskNo: string): SelectionTaskResult {
  return {
    taskNo,
    total: 0,
    selected: 0,
    alreadySelected: 0,
    toRetry: 0,
    failed: 0,
    failures: [],
    selectedTax: '0.00',
  };
}

/** What tallying needs from the protocol profile. */
export type TallyProfile = Pick<ProtocolProfile, 'selectRetry'>;

/** Adds one per-invoice result (a success[] or fail[] item of 4.05 / 4.06) to a tally. */
export function tallyResultItem(tally: SelectionTaskResult, item: SelectResultItem, profile: TallyProfile): void {
  tally.total++;
  const outcome = classifySelectItem(item, profile.selectRetry);
  if (outcome === 'selected' || outcome === 'already-selected') {
    if (outcome === 'selected') tally.selected++;
    else tally.alreadySelected++;
    tally.selectedTax =
      tally.selectedTax !== undefined && item.effectiveTaxAmount !== undefined
        ? sumMoney([tally.selectedTax, item.effectiveTaxAmount])
        : undefined;
  } else if (outcome === 'retry') tally.toRetry++;
  else {
    tally.failed++;
    if (tally.failures.length < MAX_FAILURES_KEPT) {
      tally.failures.push({
        invoiceCode: item.invoiceCode,
        invoiceNo: item.invoiceNo || (item.etaxInvoiceNo ?? ''),
        resultCode: item.selectResult,
        resultMsg: item.description,
      });
    }
  }
}

const RESULT_PAGE_SIZE = 500;

/** One page of a task's per-invoice results (4.06 or 预勾选确认结果查询). */
interface ResultPage {
  total?: number | undefined;
  success: SelectResultItem[];
  fail: SelectResultItem[];
}

/** Reads every page of a selection task's results into one tally. */
export async function tallyTaskResults(
  taskNo: string,
  readPage: (pageNo: number, pageSize: number) => Promise<ResultPage>,
  profile: TallyProfile,
): Promise<SelectionTaskResult> {
  const tally = emptyTally(taskNo);
  for (let pageNo = 1; ; pageNo++) {
    const page = await readPage(pageNo, RESULT_PAGE_SIZE);
    const items = [...page.success, ...page.fail];
    for (const item of items) tallyResultItem(tally, item, profile);
    // Without a total, a short page is the last one.
    const done = page.total !== undefined ? tally.total >= page.total : items.length < RESULT_PAGE_SIZE;
    if (done || items.length === 0) return tally;
  }
}
