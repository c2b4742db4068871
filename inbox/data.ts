/** What the inbox shows, read from Temporal through the client helpers. */
import type { Client } from '@temporalio/client';
import { getProgress } from '../client/deductions.js';
import {
  APPROVAL_MEMO_KEY,
  ApprovalDeadlineSearchAttribute,
  Stage,
  TaxNoSearchAttribute,
  TaxPeriodSearchAttribute,
  WORKFLOW_TYPE,
  type ApprovalMemo,
  type Progress,
} from '../workflows/contract.js';

export interface PendingApproval {
  workflowId: string;
  name?: string;
  progress: Progress;
}

export interface DecisionRow {
  workflowId: string;
  taxNo: string;
  taxPeriod: string;
  outcome: string;
  approver?: string;
  comment?: string;
  decidedAt?: string;
  closedAt?: string;
}

/** A waiting month as visibility knows it: search attributes and the approval memo, no query. */
export interface PendingMonth {
  workflowId: string;
  taxNo: string;
  taxPeriod: string;
  name?: string;
  /** ISO instant (the ApprovalDeadline search attribute). */
  approvalDeadline?: string;
  /** The month's totals; absent for months that entered AWAITING_APPROVAL before the memo existed. */
  totals?: ApprovalMemo;
}

/** Months per visibility page (the server's default maximum). */
export const PENDING_PAGE_SIZE = 1000;

export const PENDING_LIST_QUERY = `WorkflowType = "${WORKFLOW_TYPE}" AND ExecutionStatus = "Running" AND DeductionStage = "${Stage.AwaitingApproval}"`;

/**
 * The months waiting for an approver, from one paged visibility list (1 call per `pageSize`
 * months), never a query per workflow; soonest deadline first. Visibility may lag a decision by
 * a moment: a decision is checked against the live workflow when it is sent.
 */
export async function pendingMonths(
  client: Client,
  names: ReadonlyMap<string, string> = new Map(),
  opts: { pageSize?: number; limit?: number } = {},
): Promise<PendingMonth[]> {
  const limit = opts.limit ?? 10_000;
  const months: PendingMonth[] = [];
  for await (const info of client.workflow.list({
    query: PENDING_LIST_QUERY,
    pageSize: opts.pageSize ?? PENDING_PAGE_SIZE,
  })) {
    const attributes = info.typedSearchAttributes;
    const taxNo = attributes.get(TaxNoSearchAttribute);
    const taxPeriod = attributes.get(TaxPeriodSearchAttribute);
    if (!taxNo || !taxPeriod) continue;
    const deadline = attributes.get(ApprovalDeadlineSearchAttribute);
    const totals = info.memo?.[APPROVAL_MEMO_KEY] as ApprovalMemo | undefined;
    const name = names.get(taxNo);
    months.push({
      workflowId: info.workflowId,
      taxNo,
      taxPeriod,
      ...(name ? { name } : {}),
      ...(deadline ? { approvalDeadline: new Date(deadline).toISOString() } : {}),
      ...(totals ? { totals } : {}),
    });
    if (months.length >= limit) break;
  }
  // Months without a deadline attribute (started before it) last.
  return months.sort(
    (a, b) =>
      (a.approvalDeadline ?? '9999').localeCompare(b.approvalDeadline ?? '9999') || a.taxNo.localeCompare(b.taxNo),
  );
}

/** Recent closed taxpayer-months and who decided them (newest first). */
export async function decisionHistory(client: Client, limit = 50): Promise<DecisionRow[]> {
  const rows: DecisionRow[] = [];
  const query = `WorkflowType = "${WORKFLOW_TYPE}" AND ExecutionStatus != "Running"`;
  for await (const info of client.workflow.list({ query })) {
    const status = await getProgress(client, ...idParts(info.workflowId));
    const d = status.progress.decision;
    rows.push({
      workflowId: info.workflowId,
      taxNo: status.progress.taxNo,
      taxPeriod: status.progress.taxPeriod,
      outcome: status.result?.outcome ?? status.status,
      ...(d ? { approver: d.approver, comment: d.comment, decidedAt: d.decidedAt } : {}),
      closedAt: info.closeTime?.toISOString(),
    });
    if (rows.length >= limit) break;
  }
  return rows.sort((a, b) => (b.closedAt ?? '').localeCompare(a.closedAt ?? ''));
}

function idParts(workflowId: string): [string, string] {
  const match = /^deduction-(.{18})-(\d{6})$/.exec(workflowId);
  if (!match) throw new Error(`not a deduction workflow id: ${workflowId}`);
  return [match[1]!, match[2]!];
}
