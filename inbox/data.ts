/** What the inbox shows, read from Temporal through the client helpers. */
import type { Client } from '@temporalio/client';
import { getProgress, listDeductions } from '../client/deductions.js';
import { Stage, WORKFLOW_TYPE, type Progress } from '../workflows/contract.js';

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

/** Taxpayer-months whose workflow waits for an approver (DeductionStage search attribute). */
export async function pendingApprovals(client: Client, names: Map<string, string> = new Map()) {
  const rows = await listDeductions(client, { stage: Stage.AwaitingApproval }, { limit: 200 });
  const pending: PendingApproval[] = [];
  for (const row of rows) {
    if (row.status !== 'RUNNING' || !row.taxNo || !row.taxPeriod) continue;
    const status = await getProgress(client, row.taxNo, row.taxPeriod);
    if (status.progress.stage !== Stage.AwaitingApproval) continue; // decided since the listing
    pending.push({ workflowId: row.workflowId, name: names.get(row.taxNo), progress: status.progress });
  }
  return pending.sort((a, b) => (a.progress.approvalDeadline ?? '').localeCompare(b.progress.approvalDeadline ?? ''));
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
