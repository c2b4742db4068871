/**
 * One tax period at a glance: every month of the period from one paged visibility list (search
 * attributes and the approval memo, never a query or a history), and the pure summary of the months
 * one identity may see. docs/inbox-overview.md describes what each figure means.
 */
import type { Client, WorkflowExecutionStatusName } from '@temporalio/client';
import { Decimal } from 'decimal.js';
import { Money } from '../protocol/money.js';
import { defaultFilingDeadline } from '../protocol/period.js';
import { approvalDeadline } from '../rules/approvalDeadline.js';
import {
  APPROVAL_MEMO_KEY,
  ApprovalDeadlineSearchAttribute,
  DeductionStageSearchAttribute,
  Stage,
  STAGES,
  TaxNoSearchAttribute,
  TaxPeriodSearchAttribute,
  WORKFLOW_TYPE,
  type ApprovalMemo,
} from '../workflows/contract.js';
import { approverEntryFor, type Identity } from './identity.js';
import type { TaxpayerInfo } from './taxpayers.js';

/** A month of the period as visibility knows it. */
export interface PeriodMonth {
  workflowId: string;
  taxNo: string;
  taxPeriod: string;
  /** The stage the month is in, or ended in (see stageOf). */
  stage: Stage;
  running: boolean;
  /** ISO instant the run started (the newest run of a workflow id wins). */
  startedAt: string;
  /** ISO instant (the ApprovalDeadline search attribute), set when the month first awaited approval. */
  approvalDeadline?: string;
  /** The table the month last put before its approvers; absent before it had one. */
  totals?: ApprovalMemo;
}

export const PERIOD_PAGE_SIZE = 1000;
/** A period lists at most this many months; more are reported as left out. */
export const PERIOD_MONTH_LIMIT = 20_000;

/** The visibility query of every run of one period (`period` must be a checked TaxPeriod). */
export function periodListQuery(period: string): string {
  if (!/^\d{6}$/.test(period)) throw new Error(`not a checked tax period: ${JSON.stringify(period)}`);
  return `WorkflowType = "${WORKFLOW_TYPE}" AND TaxPeriod = "${period}"`;
}

const FINAL_STAGES: ReadonlySet<Stage> = new Set([
  Stage.Completed,
  Stage.Rejected,
  Stage.Expired,
  Stage.Failed,
  Stage.Canceled,
]);

/**
 * The stage a run is in from its DeductionStage attribute and execution status. A run that ended
 * without reaching a final stage (terminated, timed out, failed in a way the workflow did not
 * record) counts as FAILED; undefined for a run continued as new (its successor is listed).
 */
export function stageOf(attribute: string | undefined, status: WorkflowExecutionStatusName): Stage | undefined {
  const known = attribute && (STAGES as readonly string[]).includes(attribute) ? (attribute as Stage) : undefined;
  if (status === 'CONTINUED_AS_NEW') return undefined;
  if (known && FINAL_STAGES.has(known)) return known;
  if (status === 'RUNNING' || status === 'PAUSED') return known ?? Stage.LoggingIn;
  if (status === 'CANCELLED') return Stage.Canceled;
  if (status === 'COMPLETED') return Stage.Completed;
  return Stage.Failed;
}

/** Every month of `period` (the newest run of each workflow id), from one paged visibility list. */
export async function periodMonths(
  client: Client,
  period: string,
  opts: { pageSize?: number; limit?: number } = {},
): Promise<{ months: PeriodMonth[]; leftOut: boolean }> {
  const limit = opts.limit ?? PERIOD_MONTH_LIMIT;
  const newest = new Map<string, PeriodMonth>();
  let runs = 0;
  let leftOut = false;
  for await (const info of client.workflow.list({
    query: periodListQuery(period),
    pageSize: opts.pageSize ?? PERIOD_PAGE_SIZE,
  })) {
    if (++runs > limit) {
      leftOut = true;
      break;
    }
    const attributes = info.typedSearchAttributes;
    const taxNo = attributes.get(TaxNoSearchAttribute);
    const taxPeriod = attributes.get(TaxPeriodSearchAttribute);
    const stage = stageOf(attributes.get(DeductionStageSearchAttribute), info.status.name);
    if (!taxNo || taxPeriod !== period || !stage) continue;
    const startedAt = info.startTime.toISOString();
    const seen = newest.get(info.workflowId);
    if (seen && seen.startedAt >= startedAt) continue;
    const deadline = attributes.get(ApprovalDeadlineSearchAttribute);
    const totals = info.memo?.[APPROVAL_MEMO_KEY] as ApprovalMemo | undefined;
    newest.set(info.workflowId, {
      workflowId: info.workflowId,
      taxNo,
      taxPeriod,
      stage,
      running: info.status.name === 'RUNNING',
      startedAt,
      ...(deadline ? { approvalDeadline: new Date(deadline).toISOString() } : {}),
      ...(totals ? { totals } : {}),
    });
  }
  return { months: [...newest.values()], leftOut };
}

/** Months of one stage, with the totals of those whose memo carries them. */
export interface StageFigures {
  stage: Stage;
  months: number;
  deductibleCount: number;
  amount: string;
  tax: string;
  /** Months of this stage without totals (before a table, or started before the memo existed). */
  withoutTotals: number;
}

export interface OverdueMonth {
  taxNo: string;
  name?: string;
  /** Absent for a taxpayer with no month of the period at all. */
  workflowId?: string;
  /** Absent for a taxpayer with no month of the period at all. */
  stage?: Stage;
  /** ISO instant the month should have been approved by. */
  deadline: string;
  /** True when the deadline is the period's default (the month has no ApprovalDeadline of its own). */
  defaultDeadline: boolean;
}

export interface PeriodOverview {
  period: string;
  /** ISO instant the figures were computed for. */
  at: string;
  /** The taxpayers the identity may see. */
  taxpayers: number;
  months: number;
  /** Every stage, in the workflow's order (zeros included). */
  stages: StageFigures[];
  /** The COMPLETED months: what the bureau has confirmed. */
  confirmed: StageFigures;
  /** Visible taxpayers with no month of the period. */
  notStarted: { taxNo: string; name?: string }[];
  /** Not COMPLETED or REJECTED and past the approval deadline; soonest deadline first. */
  overdue: OverdueMonth[];
  /** Not settled, not overdue, and due within DUE_SOON_MS. */
  dueSoon: number;
  /** The period's default approval deadline (a day before the default filing deadline ends). */
  defaultApprovalDeadline: string;
  /** The visibility list stopped at PERIOD_MONTH_LIMIT runs. */
  leftOut: boolean;
}

/** As the inbox's list marks a waiting month urgent. */
export const DUE_SOON_MS = 2 * 86_400_000;

/** Decided for good: nothing is overdue about these. */
const SETTLED: ReadonlySet<Stage> = new Set([Stage.Completed, Stage.Rejected]);

function emptyFigures(stage: Stage): StageFigures {
  return { stage, months: 0, deductibleCount: 0, amount: '0.00', tax: '0.00', withoutTotals: 0 };
}

function usableTotals(totals: ApprovalMemo | undefined): ApprovalMemo | undefined {
  if (!totals || !Number.isInteger(totals.deductibleCount)) return undefined;
  if (!Money.safeParse(totals.deductibleAmount).success || !Money.safeParse(totals.deductibleTax).success) {
    return undefined;
  }
  return totals;
}

/**
 * The overview of `period` for one identity: only months of `visible` taxpayers are counted (the
 * rest are dropped before anything is added up); amounts are summed as decimals.
 */
export function summarizePeriod(input: {
  period: string;
  months: readonly PeriodMonth[];
  /** The taxpayers the identity may see, with their names. */
  visible: ReadonlyMap<string, { name?: string }>;
  now: Date;
  leftOut?: boolean;
}): PeriodOverview {
  const { period, visible, now } = input;
  const defaultDeadline = approvalDeadline(defaultFilingDeadline(period)).toISOString();
  const sums = new Map(
    STAGES.map((s) => [s, { figures: emptyFigures(s), amount: new Decimal(0), tax: new Decimal(0) }]),
  );
  const overdue: OverdueMonth[] = [];
  const started = new Set<string>();
  let dueSoon = 0;
  let months = 0;
  for (const month of input.months) {
    if (month.taxPeriod !== period || !visible.has(month.taxNo)) continue;
    months++;
    started.add(month.taxNo);
    const sum = sums.get(month.stage)!;
    sum.figures.months++;
    const totals = usableTotals(month.totals);
    if (totals) {
      sum.figures.deductibleCount += totals.deductibleCount;
      sum.amount = sum.amount.plus(totals.deductibleAmount);
      sum.tax = sum.tax.plus(totals.deductibleTax);
    } else {
      sum.figures.withoutTotals++;
    }
    if (SETTLED.has(month.stage)) continue;
    const deadline = month.approvalDeadline ?? defaultDeadline;
    const left = Date.parse(deadline) - now.getTime();
    const name = visible.get(month.taxNo)?.name;
    if (left <= 0) {
      overdue.push({
        taxNo: month.taxNo,
        ...(name ? { name } : {}),
        workflowId: month.workflowId,
        stage: month.stage,
        deadline,
        defaultDeadline: !month.approvalDeadline,
      });
    } else if (left < DUE_SOON_MS) {
      dueSoon++;
    }
  }
  const notStarted = [...visible]
    .filter(([taxNo]) => !started.has(taxNo))
    .map(([taxNo, t]) => ({ taxNo, ...(t.name ? { name: t.name } : {}) }))
    .sort((a, b) => a.taxNo.localeCompare(b.taxNo));
  // A taxpayer never started by the approval deadline is as late as a month that stalled.
  if (Date.parse(defaultDeadline) <= now.getTime()) {
    for (const t of notStarted) overdue.push({ ...t, deadline: defaultDeadline, defaultDeadline: true });
  }
  const stages = STAGES.map((s) => {
    const sum = sums.get(s)!;
    return { ...sum.figures, amount: sum.amount.toFixed(2), tax: sum.tax.toFixed(2) };
  });
  return {
    period,
    at: now.toISOString(),
    taxpayers: visible.size,
    months,
    stages,
    confirmed: stages.find((s) => s.stage === Stage.Completed)!,
    notStarted,
    overdue: overdue.sort((a, b) => a.deadline.localeCompare(b.deadline) || a.taxNo.localeCompare(b.taxNo)),
    dueSoon,
    defaultApprovalDeadline: defaultDeadline,
    leftOut: input.leftOut ?? false,
  };
}

/** The taxpayers `who` may see in the overview: those whose registry approvers name them. */
export function visibleTaxpayers(
  who: Identity,
  directory: ReadonlyMap<string, TaxpayerInfo>,
): Map<string, { name?: string }> {
  const visible = new Map<string, { name?: string }>();
  for (const [taxNo, t] of directory) {
    if (approverEntryFor(who, t.approvers)) visible.set(taxNo, t.name ? { name: t.name } : {});
  }
  return visible;
}
