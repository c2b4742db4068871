import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  DOWNLOAD_PAGE_SIZE,
  type DownloadedInvoice,
  type PoolInvoice,
  type SelectInvoiceLine,
  type SelectResultItem,
} from '../protocol/interfaces.js';
import { FailureType } from '../protocol/failureTypes.js';
import type { InvoiceFileRow } from '../protocol/invoicesFile.js';
import { sumMoney } from '../protocol/money.js';
import type { ProtocolProfile } from '../protocol/profile.js';
import { lastDayOfPeriod, shanghaiParts } from '../protocol/period.js';
import type { PoolFilter } from '../rules/poolFilter.js';
import { classifySelectItem, type SelectOutcome } from '../rules/selectResult.js';
import {
  type CandidateInvoice,
  describeRows,
  planSelection,
  type SelectionPlan,
  type SkipReason,
  skipReason,
} from '../rules/selectionPolicy.js';
import type { InvoiceCloudClient } from './invoiceCloudClient.js';
import { InvoiceCloudError } from './invoiceCloudErrors.js';
import { InvoiceRowsUnusable, invoiceFilesDir, readInvoiceRows } from './invoiceFileStore.js';
import { recordProgress, type SelectionHeartbeat, sentKey } from './selectionProgress.js';

/** An invoice the bureau did not select: its selectResult and description, verbatim. */
export interface FailedInvoice {
  invoiceCode: string;
  invoiceNo: string;
  resultCode: string;
  resultMsg: string;
}

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
  /**
   * Every invoice the task answered, as answered, one compact tuple each (about 50 bytes): the
   * month's audit report lists them from the history (docs/audit-report.md). Absent in results
   * recorded before they were kept.
   */
  invoices?: InvoiceAnswer[];
}

/**
 * One invoice of a selection task's answer and what the month made of it: invoice code, number,
 * the bureau's selectResult, the outcome, the effective tax ('' when the bureau sent none), and the
 * bureau's description verbatim for an invoice not selected.
 */
export type InvoiceAnswer = [
  invoiceCode: string,
  invoiceNo: string,
  resultCode: string,
  outcome: SelectOutcome,
  effectiveTaxAmount: string,
  resultMsg?: string,
];

/**
 * Where an activity reads candidates (the workflow's candidateSource, as the activity needs it);
 * absent: the sandbox's pool query.
 */
export type SourceRef =
  { kind: 'invoices-file'; sha256: string; rows: number } | { kind: 'bureau-download'; taskNo: string };

export interface CandidateQuery {
  taxNo: string;
  taxPeriod: string;
  deductionDeadline: string;
  invoiceTypes?: number[];
  poolFilter?: PoolFilter;
  /** Selection round (1 first; later ones send again what the bureau asked to retry). */
  round: number;
  source?: SourceRef;
  /**
   * Rounds after the first, for an invoices file or a download: the previous round's tasks. Only
   * the invoices they answered "send again" (the profile's selectRetry) are candidates; the file
   * and the download do not know what the bureau selected since.
   */
  retryOf?: string[];
  /** Kept for months started before every round left selected invoices alone (it is what happens now). */
  keepSelectedAsIs?: boolean;
}

/** What planning needs from the protocol profile. */
export type CandidateProfile = Pick<ProtocolProfile, 'totalTaxAmount' | 'selectRetry'>;

/** A plan with the skipped rows of an invoices file as ranges ("5-9, 12"). */
export interface CandidatePlan extends SelectionPlan {
  skippedRowRanges?: Partial<Record<SkipReason, string>>;
}

/** Reads one page of a selection task's per-invoice results (4.06, or 预勾选确认结果查询). */
export type ResultPageReader = (taskNo: string, pageNo: number, pageSize: number) => Promise<ResultPage>;

/** Tells Temporal the activity is alive, with whatever details the caller keeps (never counters of its own). */
export type Beat = () => void;
const plainBeat: Beat = () => Context.current().heartbeat();

/** Every pool invoice issued up to the period's end, page by page, heartbeating as it goes. */
async function readPool(
  client: InvoiceCloudClient,
  taxNo: string,
  taxPeriod: string,
  includeSelected: boolean,
  beat: Beat,
) {
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
    beat();
    if (invoices.length >= page.total || page.invoices.length === 0) return invoices;
  }
}

const NO_DIMENSIONS = {
  dataSource: '1',
  boundBillType: '0',
  boundBillNo: '',
  accountStatus: '0',
  accountPeriod: '',
} as const;

/** Pool flags (authenticateFlag) that mean selected: 1 已勾选, 2 勾选认证, 3 扫描认证. */
const SELECTED_FLAGS = ['1', '2', '3'];
/**
 * Pool flags that mean a selection request is being processed: 5 勾选中. (4 预勾选, a pre-selection
 * nobody confirmed, does not end by itself: such an invoice is a candidate like an unselected one.)
 */
const IN_PROGRESS_FLAGS = ['5'];
/** The pool state an invoice is planned with, from a bureau flag: selected, in progress ('5'), or not. */
function statusOfFlag(flag: string): CandidateInvoice['selectStatus'] {
  if (SELECTED_FLAGS.includes(flag)) return '1';
  return (IN_PROGRESS_FLAGS.includes(flag) ? '5' : '0') as CandidateInvoice['selectStatus'];
}
const inProgress = (invoice: CandidateInvoice) => (invoice.selectStatus as string) === '5';

/** A downloaded invoice (invoiceDownQuery) as the selection policy reads it. */
export function fromDownload(d: DownloadedInvoice, totalTaxAmount: 'tax' | 'total'): CandidateInvoice {
  const total = d.totalAmount ?? sumMoney([d.invoiceAmount, d.totalTaxAmount]);
  const effective = d.effectiveTaxAmount ?? d.totalTaxAmount;
  const status = Number(d.invoiceStatus);
  return {
    invoiceType: Number(d.invoiceType),
    invoiceCode: d.invoiceCode,
    invoiceNo: d.invoiceNo,
    etaxInvoiceNo: d.etaxInvoiceNo,
    invoiceDate: d.invoiceDate,
    salerName: d.salerName,
    salerTaxNo: d.salerTaxNo,
    invoiceAmount: d.invoiceAmount,
    taxAmount: effective,
    totalAmount: total,
    invoiceStatus: Number.isInteger(status) ? status : -1,
    agricultural: false,
    selectStatus: statusOfFlag(d.authenticateFlag),
    selectPeriod: d.taxPeriod ?? '',
    ...NO_DIMENSIONS,
    line: {
      salerName: d.salerName,
      salerTaxNo: d.salerTaxNo,
      invoiceType: d.invoiceType,
      invoiceCode: d.invoiceCode,
      invoiceNo: d.invoiceNo,
      etaxInvoiceNo: d.etaxInvoiceNo,
      invoiceDate: d.invoiceDate,
      invoiceAmount: d.invoiceAmount,
      effectiveTaxAmount: effective,
      totalTaxAmount: totalTaxAmount === 'tax' ? d.totalTaxAmount : total,
      notDeductibleType: '',
    },
  };
}

/**
 * A row of an invoices file as the selection policy reads it: the file knows no status and no
 * selection (the bureau answers for those), and its own figures are sent as they are.
 */
export function fromFileRow(r: InvoiceFileRow): CandidateInvoice {
  return {
    invoiceType: Number(r.invoiceType),
    invoiceCode: r.invoiceCode,
    invoiceNo: r.invoiceNo,
    etaxInvoiceNo: r.etaxInvoiceNo,
    invoiceDate: r.invoiceDate,
    salerName: r.salerName,
    salerTaxNo: r.salerTaxNo,
    invoiceAmount: r.invoiceAmount,
    taxAmount: r.effectiveTaxAmount,
    totalAmount: sumMoney([r.invoiceAmount, r.effectiveTaxAmount]),
    invoiceStatus: 0,
    agricultural: r.agricultural,
    selectStatus: '0',
    selectPeriod: '',
    ...NO_DIMENSIONS,
    row: r.row,
    line: {
      salerName: r.salerName,
      salerTaxNo: r.salerTaxNo,
      invoiceType: r.invoiceType,
      invoiceCode: r.invoiceCode,
      invoiceNo: r.invoiceNo,
      etaxInvoiceNo: r.etaxInvoiceNo,
      invoiceDate: r.invoiceDate,
      invoiceAmount: r.invoiceAmount,
      effectiveTaxAmount: r.effectiveTaxAmount,
      totalTaxAmount: r.totalTaxAmount,
      notDeductibleType: '',
    },
  };
}

/** Every invoice of a download task (invoiceDownQuery), page by page. Throws BureauTaskPending on 6910. */
export async function readDownload(client: InvoiceCloudClient, taxNo: string, taskNo: string, beat: Beat = plainBeat) {
  const invoices: DownloadedInvoice[] = [];
  for (let pageNo = 1; ; pageNo++) {
    const page = await client.call('invoiceDownQuery', {
      taxNo,
      taskNo,
      saveFlag: '1',
      pageNo,
      pageSize: DOWNLOAD_PAGE_SIZE,
    });
    invoices.push(...page.invoices);
    beat();
    const done = page.total !== undefined ? invoices.length >= page.total : page.invoices.length < DOWNLOAD_PAGE_SIZE;
    if (done || page.invoices.length === 0) return { invoices, total: page.total ?? invoices.length };
  }
}

/** The stored rows of an invoices file; a missing or altered file fails the month naming it. */
function readFileRows(ref: { sha256: string; rows: number }): InvoiceFileRow[] {
  try {
    return readInvoiceRows(invoiceFilesDir(), ref);
  } catch (error) {
    if (error instanceof InvoiceRowsUnusable)
      throw ApplicationFailure.nonRetryable(error.message, FailureType.InvoicesFileUnusable);
    throw error;
  }
}

/** An invoice's identity: paper invoice numbers repeat across invoice codes. */
function invoiceKey(invoiceCode: string, number: string): string {
  return `${invoiceCode}|${number}`;
}

/** The invoices the given tasks answered "send again" (the profile's selectRetry). */
async function invoicesToRetry(
  taskNos: readonly string[],
  readPage: ResultPageReader,
  profile: TallyProfile,
): Promise<Set<string>> {
  const retry = new Set<string>();
  for (const taskNo of taskNos) {
    for (let pageNo = 1, seen = 0; ; pageNo++) {
      const page = await readPage(taskNo, pageNo, RESULT_PAGE_SIZE);
      const items = [...page.success, ...page.fail];
      seen += items.length;
      for (const item of items) {
        if (classifySelectItem(item, profile.selectRetry) === 'retry') {
          retry.add(invoiceKey(item.invoiceCode, item.invoiceNo || (item.etaxInvoiceNo ?? '')));
        }
      }
      const done = page.total !== undefined ? seen >= page.total : items.length < RESULT_PAGE_SIZE;
      if (done || items.length === 0) break;
    }
  }
  return retry;
}

/**
 * What the bureau already has for a round's invoices, read before anything is sent
 * (docs/protocol.md, "Writes read before they send").
 */
export interface BureauView {
  /** Invoices earlier attempts of this round sent and got an answer for (selectionProgress.ts digests). */
  sent: ReadonlySet<string>;
  /** For an invoices file or a download: the bureau's current flags by invoice, read just now. */
  live?: ReadonlyMap<string, DownloadedInvoice>;
  /** Heartbeats while reading, keeping the round's progress as the details. */
  beat?: Beat;
}

/** A plan, and how many of its invoices the bureau is still selecting for a request we have no answer to. */
export interface RoundPlan extends CandidatePlan {
  inProgress: number;
}

/**
 * The candidates of a round by the selection policy, from the round's source and the bureau's
 * view. Invoices the bureau shows selected for the period are not sent again: the table counts
 * them (selectedForPeriodElsewhere). Invoices an earlier attempt sent stay candidates (their
 * task answers for them) and are not sent again by the caller. Invoices the bureau is selecting
 * for a request whose answer was lost are counted in `inProgress`: the caller waits for them.
 * A later round with `retryOf` takes exactly the invoices the previous round's tasks answered
 * "send again"; a later round without it (started before it existed) takes unselected pool
 * invoices. Round 0 (a dry run) counts what is not selected yet.
 */
export async function planCandidates(
  client: InvoiceCloudClient,
  query: CandidateQuery,
  now: Date,
  profile: CandidateProfile,
  readResultPage?: ResultPageReader,
  view: BureauView = { sent: new Set() },
): Promise<RoundPlan> {
  const retrying = query.round > 1 && query.retryOf !== undefined;
  const firstRound = query.round === 1 || retrying;
  const source = query.source;
  let invoices: CandidateInvoice[];
  if (source?.kind === 'invoices-file') invoices = readFileRows(source).map(fromFileRow);
  else if (source?.kind === 'bureau-download') {
    const downloaded = await readDownload(client, query.taxNo, source.taskNo, view.beat);
    invoices = downloaded.invoices.map((d) => fromDownload(d, profile.totalTaxAmount));
  } else invoices = await readPool(client, query.taxNo, query.taxPeriod, firstRound, view.beat ?? plainBeat);
  invoices = invoices.map((invoice) => asTheBureauHasIt(invoice, view));
  const scope = {
    taxPeriod: query.taxPeriod,
    deductionDeadline: query.deductionDeadline,
    today: shanghaiParts(now).iso,
    totalTaxAmount: profile.totalTaxAmount,
    invoiceTypes: query.invoiceTypes,
    // The pool's business dimensions exist only in the sandbox pool.
    poolFilter: source ? undefined : query.poolFilter,
  };
  const underWay = invoices.filter(
    (invoice) => inProgress(invoice) && skipReason({ ...invoice, selectStatus: '0' }, scope) === undefined,
  );
  const plan: CandidatePlan = planSelection(
    invoices.filter((invoice) => !inProgress(invoice)),
    scope,
  );
  if (query.round > 1 && (source || retrying)) {
    const retry =
      query.retryOf && readResultPage ? await invoicesToRetry(query.retryOf, readResultPage, profile) : new Set();
    const inRound = (code: string, number: string) => retry.has(invoiceKey(code, number));
    plan.candidates = plan.candidates.filter((line) => inRound(line.invoiceCode, line.invoiceNo || line.etaxInvoiceNo));
    // Found selected in this round: only invoices it was to send again (a request of an earlier
    // attempt landed), not the period's other selections, which earlier rounds counted.
    const found = invoices.filter(
      (i) =>
        i.selectStatus === '1' &&
        i.selectPeriod === query.taxPeriod &&
        inRound(i.invoiceCode, i.invoiceNo || i.etaxInvoiceNo),
    );
    plan.selectedForPeriodElsewhere = { count: found.length, tax: sumMoney(found.map((i) => i.taxAmount)) };
  }
  const rowReasons = Object.entries(plan.skippedRows) as [SkipReason, number[]][];
  if (rowReasons.length > 0) {
    plan.skippedRowRanges = Object.fromEntries(rowReasons.map(([reason, rows]) => [reason, describeRows(rows)]));
  }
  return { ...plan, inProgress: underWay.length };
}

/** An invoice with the bureau's current state: ours when an earlier attempt sent it, else the live flag. */
function asTheBureauHasIt(invoice: CandidateInvoice, view: BureauView): CandidateInvoice {
  const number = invoice.invoiceNo || invoice.etaxInvoiceNo;
  if (view.sent.has(sentKey(invoice.invoiceCode, number))) return { ...invoice, selectStatus: '0', selectPeriod: '' };
  const live = view.live?.get(invoiceKey(invoice.invoiceCode, number));
  if (!view.live) return invoice;
  if (!live) return { ...invoice, selectStatus: '0', selectPeriod: '' };
  return { ...invoice, selectStatus: statusOfFlag(live.authenticateFlag), selectPeriod: live.taxPeriod ?? '' };
}

/** The invoices of a plan no earlier attempt sent: what this attempt sends. */
export function notYetSent(plan: CandidatePlan, view: BureauView): SelectInvoiceLine[] {
  return plan.candidates.filter(
    (line) => !view.sent.has(sentKey(line.invoiceCode, line.invoiceNo || line.etaxInvoiceNo)),
  );
}

/** Download searches for the bureau's view of a period: selected and being selected. */
const VIEW_FLAGS = [...SELECTED_FLAGS, ...IN_PROGRESS_FLAGS].join(',');

/**
 * The bureau's current selections for the period, as a 进项表头归集 search by flag lists them
 * (the view of an invoices file or a download, which know nothing of what was sent since). The
 * search's task is kept in the round's progress, so an attempt that finds it still running
 * (BureauTaskPending) is followed by one that reads the same task.
 */
export async function readBureauView(
  client: InvoiceCloudClient,
  query: { taxNo: string; taxPeriod: string },
  progress: SelectionHeartbeat,
  requestId: string,
): Promise<Map<string, DownloadedInvoice>> {
  if (!progress.stateReadTaskNo) {
    const accepted = await client.call(
      'invoiceDown',
      { taxNo: query.taxNo, asyncFlag: '1', searchOpt: { taxPeriod: query.taxPeriod, authenticateFlags: VIEW_FLAGS } },
      requestId,
    );
    progress.stateReadTaskNo = accepted.taskNo;
    recordProgress(progress);
  }
  let invoices: DownloadedInvoice[];
  try {
    ({ invoices } = await readDownload(client, query.taxNo, progress.stateReadTaskNo, () => recordProgress(progress)));
  } catch (error) {
    // A search that failed for good is searched anew by the next attempt; one still running is awaited.
    if (!(error instanceof InvoiceCloudError && error.kind === 'pending')) {
      delete progress.stateReadTaskNo;
      recordProgress(progress);
    }
    throw error;
  }
  delete progress.stateReadTaskNo;
  recordProgress(progress);
  return new Map(invoices.map((d) => [invoiceKey(d.invoiceCode, d.invoiceNo || d.etaxInvoiceNo), d]));
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
    invoices: [],
  };
}

/** What tallying needs from the protocol profile. */
export type TallyProfile = Pick<ProtocolProfile, 'selectRetry'>;

/** Adds one per-invoice result (a success[] or fail[] item of 4.05 / 4.06) to a tally. */
export function tallyResultItem(tally: SelectionTaskResult, item: SelectResultItem, profile: TallyProfile): void {
  tally.total++;
  const outcome = classifySelectItem(item, profile.selectRetry);
  const answer: InvoiceAnswer = [
    item.invoiceCode,
    item.invoiceNo || (item.etaxInvoiceNo ?? ''),
    item.selectResult,
    outcome,
    item.effectiveTaxAmount ?? '',
  ];
  if (outcome !== 'selected' && outcome !== 'already-selected') answer.push(item.description);
  (tally.invoices ??= []).push(answer);
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
