/**
 * Client helpers for MonthlyDeductionWorkflow, shared by the CLI, the start script and tests.
 * They name the workflow by its type string only: no workflow code is imported here.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowExecutionStatusName,
  type WorkflowHandle,
} from '@temporalio/client';
import type { z } from 'zod';
import { TaxPeriod } from '../protocol/period.js';
import { taxNoProblem } from '../protocol/taxNo.js';
import {
  ApproveSignalInput,
  DeductionStageSearchAttribute,
  MonthlyDeductionInput,
  RejectSignalInput,
  STAGES,
  Stage,
  TASK_QUEUE,
  TaxNoSearchAttribute,
  TaxPeriodSearchAttribute,
  WORKFLOW_TYPE,
  approveSignal,
  deductionWorkflowId,
  progressQuery,
  rejectSignal,
  type MonthlyDeductionResult,
  type ParsedMonthlyDeductionInput,
  type Progress,
} from '../workflows/contract.js';

/** Bad input from the caller (CLI exit code 2). */
export class DeductionInputError extends Error {
  override name = 'DeductionInputError';
}
/** No workflow for this taxpayer-month (CLI exit code 4). */
export class DeductionNotFoundError extends Error {
  override name = 'DeductionNotFoundError';
}
/** The workflow exists but is not in a state that allows the operation (CLI exit code 4). */
export class DeductionStateError extends Error {
  override name = 'DeductionStateError';
}

/** Formats zod issues as `field: problem; field: problem`. */
export function formatIssues(error: z.ZodError, prefix = ''): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      return path ? `${prefix}${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

/** Throws DeductionInputError unless `taxNo` is a valid unified social credit code. */
export function checkTaxNo(taxNo: string, label = 'taxNo'): void {
  const problem = taxNoProblem(taxNo);
  if (problem) throw new DeductionInputError(`${label} ${taxNo}: ${problem}`);
}

/** Throws DeductionInputError unless `period` is YYYYMM. */
export function checkPeriod(period: string, label = 'period'): void {
  const parsed = TaxPeriod.safeParse(period);
  if (!parsed.success) throw new DeductionInputError(`${label} ${period}: ${parsed.error.issues[0]?.message}`);
}

/** Throws DeductionInputError unless `stage` is one of STAGES. */
export function checkStage(stage: string, label = 'stage'): asserts stage is Stage {
  if (!(STAGES as readonly string[]).includes(stage)) {
    throw new DeductionInputError(`${label} ${stage}: unknown stage, expected one of ${STAGES.join(', ')}`);
  }
}

export interface StartedDeduction {
  workflowId: string;
  /** The run this call started, or the existing run's id when it was already started. */
  runId?: string;
  handle: WorkflowHandle;
  /** True when a workflow for this taxpayer-month already existed (running or closed): nothing was started. */
  alreadyStarted: boolean;
  /** When it already existed: its latest run's status (RUNNING, COMPLETED, FAILED, ...), when Temporal said. */
  existingStatus?: WorkflowExecutionStatusName;
  input: ParsedMonthlyDeductionInput;
}

/**
 * Starts MonthlyDeductionWorkflow for one taxpayer-month. The workflow id is deterministic and the
 * reuse policy REJECT_DUPLICATE, so a taxpayer-month that already ran (even completed) is never run twice.
 */
export async function startMonthlyDeduction(client: Client, input: MonthlyDeductionInput): Promise<StartedDeduction> {
  const parsed = MonthlyDeductionInput.safeParse(input);
  if (!parsed.success) throw new DeductionInputError(`invalid workflow input: ${formatIssues(parsed.error)}`);
  const args = parsed.data;
  const workflowId = deductionWorkflowId(args.taxNo, args.taxPeriod);
  try {
    const handle = await client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: TASK_QUEUE,
      workflowId,
      args: [args],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: TaxNoSearchAttribute, value: args.taxNo },
        { key: TaxPeriodSearchAttribute, value: args.taxPeriod },
        { key: DeductionStageSearchAttribute, value: Stage.LoggingIn },
      ],
      staticSummary: `VAT input-invoice deduction 增值税进项抵扣勾选 ${args.taxNo} ${args.taxPeriod}`,
    });
    return { workflowId, runId: handle.firstExecutionRunId, handle, alreadyStarted: false, input: args };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    const handle = client.workflow.getHandle(workflowId);
    let runId: string | undefined;
    let existingStatus: WorkflowExecutionStatusName | undefined;
    try {
      const description = await handle.describe();
      runId = description.runId;
      existingStatus = description.status.name;
    } catch {
      runId = undefined;
    }
    return {
      workflowId,
      runId,
      handle,
      alreadyStarted: true,
      ...(existingStatus ? { existingStatus } : {}),
      input: args,
    };
  }
}

export interface DeductionStatus {
  workflowId: string;
  runId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, FAILED, TERMINATED, ... */
  status: WorkflowExecutionStatusName;
  startTime: Date;
  closeTime?: Date;
  /** Best known progress (from the query, the result, or the search attributes). */
  progress: Progress;
  /** Where `progress` came from. */
  source: 'query' | 'result' | 'search-attributes';
  /** Set when the workflow completed. */
  result?: MonthlyDeductionResult;
  /** Why the workflow failed / was terminated, when it did. */
  failure?: string;
}

async function describeDeduction(client: Client, taxNo: string, period: string) {
  checkTaxNo(taxNo);
  checkPeriod(period);
  const workflowId = deductionWorkflowId(taxNo, period);
  const handle = client.workflow.getHandle(workflowId);
  try {
    return { handle, workflowId, description: await handle.describe() };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      throw new DeductionNotFoundError(
        `No deduction workflow for taxNo ${taxNo} period ${period} (workflow id ${workflowId}). ` +
          `Start it with: start --tax-no ${taxNo} --period ${period}`,
      );
    }
    throw err;
  }
}

function progressFromSearchAttributes(
  description: WorkflowExecutionDescription,
  taxNo: string,
  period: string,
  fallbackStage: Stage,
): Progress {
  const stage = description.typedSearchAttributes.get(DeductionStageSearchAttribute);
  return {
    taxNo: description.typedSearchAttributes.get(TaxNoSearchAttribute) ?? taxNo,
    taxPeriod: description.typedSearchAttributes.get(TaxPeriodSearchAttribute) ?? period,
    stage: stage && (STAGES as readonly string[]).includes(stage) ? (stage as Stage) : fallbackStage,
    updatedAt: (description.closeTime ?? description.startTime).toISOString(),
  };
}

/** Asks a running workflow for its progress, giving up after `timeoutMs` (e.g. when no worker polls). */
async function queryProgress(client: Client, handle: WorkflowHandle, timeoutMs: number): Promise<Progress> {
  return client.connection.withDeadline(Date.now() + timeoutMs, () => handle.query(progressQuery));
}

/**
 * The progress of one taxpayer-month. Running: the `progress` query (the search attributes when no
 * worker answers). Completed: the result. Otherwise: the search attributes plus the failure.
 */
export async function getProgress(
  client: Client,
  taxNo: string,
  period: string,
  opts: { queryTimeoutMs?: number } = {},
): Promise<DeductionStatus> {
  const { handle, workflowId, description } = await describeDeduction(client, taxNo, period);
  const base = {
    workflowId,
    runId: description.runId,
    status: description.status.name,
    startTime: description.startTime,
    closeTime: description.closeTime,
  };
  if (description.status.name === 'RUNNING') {
    // Fewer than 4 events: no workflow task completed yet, so no worker could answer a query.
    if (description.historyLength < 4) {
      const progress = progressFromSearchAttributes(description, taxNo, period, Stage.LoggingIn);
      return { ...base, progress, source: 'search-attributes' };
    }
    try {
      const progress = await queryProgress(client, handle, opts.queryTimeoutMs ?? 5000);
      return { ...base, progress, source: 'query' };
    } catch {
      const progress = progressFromSearchAttributes(description, taxNo, period, Stage.LoggingIn);
      return { ...base, progress, source: 'search-attributes' };
    }
  }
  if (description.status.name === 'COMPLETED') {
    const result = (await client.workflow.getHandle(workflowId, description.runId).result()) as MonthlyDeductionResult;
    return { ...base, progress: result, source: 'result', result };
  }
  let failure: string | undefined;
  try {
    await client.workflow.getHandle(workflowId, description.runId).result();
  } catch (err) {
    const message = (err as Error).message;
    const cause = (err as Error & { cause?: Error }).cause?.message;
    failure = cause && cause !== message ? `${message}: ${cause}` : message;
  }
  const progress = progressFromSearchAttributes(description, taxNo, period, Stage.Failed);
  return { ...base, progress, source: 'search-attributes', failure: failure ?? description.status.name };
}

export interface DecisionSent {
  workflowId: string;
  runId: string;
  decision: 'approved' | 'rejected';
}

async function requireAwaitingApproval(client: Client, taxNo: string, period: string, what: string) {
  const described = await describeDeduction(client, taxNo, period);
  const { description, workflowId, handle } = described;
  if (description.status.name !== 'RUNNING') {
    throw new DeductionStateError(
      `Cannot ${what} ${workflowId}: the workflow is ${description.status.name}, not running`,
    );
  }
  // The stage search attribute is kept current by the workflow; ask the workflow itself when it has run.
  let stage = description.typedSearchAttributes.get(DeductionStageSearchAttribute);
  if (description.historyLength >= 4) {
    try {
      stage = (await queryProgress(client, handle, 5000)).stage;
    } catch {
      // No worker answered: keep the search attribute's value.
    }
  }
  if (stage !== Stage.AwaitingApproval) {
    throw new DeductionStateError(
      `Cannot ${what} ${workflowId}: its stage is ${stage ?? 'unknown'}, not ${Stage.AwaitingApproval}`,
    );
  }
  return { ...described, handle: client.workflow.getHandle(workflowId, description.runId) };
}

/**
 * Sends the `approve` signal, after checking the workflow is running and awaiting approval. The
 * approval names the statistic table it approves (its digest): the one given, or else the one the
 * workflow presents right now; the workflow refuses it if the table has changed since.
 */
export async function approve(
  client: Client,
  taxNo: string,
  period: string,
  input: ApproveSignalInput,
): Promise<DecisionSent & { statisticDigest?: string }> {
  const parsed = ApproveSignalInput.safeParse(input);
  if (!parsed.success) throw new DeductionInputError(formatIssues(parsed.error));
  const { handle, workflowId, description } = await requireAwaitingApproval(client, taxNo, period, 'approve');
  const statisticDigest =
    parsed.data.statisticDigest ??
    (await queryProgress(client, handle, 5000).catch(() => undefined))?.statistic?.digest;
  await handle.signal(approveSignal, { ...parsed.data, ...(statisticDigest ? { statisticDigest } : {}) });
  return { workflowId, runId: description.runId, decision: 'approved', statisticDigest };
}

/** Sends the `reject` signal, after checking the workflow is running and awaiting approval. */
export async function reject(
  client: Client,
  taxNo: string,
  period: string,
  input: RejectSignalInput,
): Promise<DecisionSent> {
  const parsed = RejectSignalInput.safeParse(input);
  if (!parsed.success) throw new DeductionInputError(formatIssues(parsed.error));
  const { handle, workflowId, description } = await requireAwaitingApproval(client, taxNo, period, 'reject');
  await handle.signal(rejectSignal, parsed.data);
  return { workflowId, runId: description.runId, decision: 'rejected' };
}

export interface DeductionFilter {
  stage?: string;
  taxNo?: string;
  period?: string;
}

export interface DeductionRow {
  workflowId: string;
  taxNo?: string;
  taxPeriod?: string;
  stage?: string;
  status: WorkflowExecutionStatusName;
  startTime: Date;
}

/** The visibility query for a filter (values are validated first, so they need no escaping beyond quotes). */
export function deductionListQuery(filter: DeductionFilter): string {
  const clauses = [`WorkflowType = "${WORKFLOW_TYPE}"`];
  if (filter.stage !== undefined) {
    checkStage(filter.stage);
    clauses.push(`DeductionStage = "${filter.stage}"`);
  }
  if (filter.taxNo !== undefined) {
    checkTaxNo(filter.taxNo);
    clauses.push(`TaxNo = "${filter.taxNo}"`);
  }
  if (filter.period !== undefined) {
    checkPeriod(filter.period);
    clauses.push(`TaxPeriod = "${filter.period}"`);
  }
  return clauses.join(' AND ');
}

/** Lists deduction workflows by search attributes, newest first (at most `limit`, default 1000). */
export async function listDeductions(
  client: Client,
  filter: DeductionFilter = {},
  opts: { limit?: number } = {},
): Promise<DeductionRow[]> {
  const query = deductionListQuery(filter);
  const limit = opts.limit ?? 1000;
  const rows: DeductionRow[] = [];
  for await (const info of client.workflow.list({ query })) {
    rows.push({
      workflowId: info.workflowId,
      taxNo: info.typedSearchAttributes.get(TaxNoSearchAttribute),
      taxPeriod: info.typedSearchAttributes.get(TaxPeriodSearchAttribute),
      stage: info.typedSearchAttributes.get(DeductionStageSearchAttribute),
      status: info.status.name,
      startTime: info.startTime,
    });
    if (rows.length >= limit) break;
  }
  return rows.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
}
