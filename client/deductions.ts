/**
 * Client helpers for MonthlyDeductionWorkflow, shared by the CLI, the start script and tests.
 * They name the workflow by its type string only: no workflow code is imported here.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowExecutionStatusName,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { KeyObject } from 'node:crypto';
import { signDecision } from '../security/decisionSigning.js';
import { TaxPeriod } from '../protocol/period.js';
import { taxNoProblem } from '../protocol/taxNo.js';
import { describeZodError } from '../protocol/zodErrors.js';
import {
  ApproveDecisionInput,
  DECISION_REFUSAL_CODES,
  DECISION_REFUSED,
  DeductionStageSearchAttribute,
  MonthlyDeductionInput,
  RejectDecisionInput,
  STAGES,
  Stage,
  TASK_QUEUE,
  TaxNoSearchAttribute,
  TaxPeriodSearchAttribute,
  WORKFLOW_TYPE,
  approveUpdate,
  deductionWorkflowId,
  progressQuery,
  rejectUpdate,
  type DecisionOutcome,
  type DecisionRefusalCode,
  type MonthlyDeductionResult,
  type ParsedMonthlyDeductionInput,
  type Progress,
  type StatisticSummary,
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

/**
 * The workflow refused a decision (CLI exit code 5): `reason` says why (not an approver, already
 * decided, stale table, wrong stage, invalid input, unsigned under the signed policy, a signature
 * that does not verify), `code` the same for programs. A DeductionStateError, so callers that show
 * state errors show it too.
 */
export class DecisionRefusedError extends DeductionStateError {
  override name = 'DecisionRefusedError';
  constructor(
    readonly reason: string,
    readonly code: DecisionRefusalCode | undefined,
  ) {
    super(reason);
  }
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
export async function startMonthlyDeduction(
  client: Client,
  input: MonthlyDeductionInput & { approvers: string[] },
): Promise<StartedDeduction> {
  const parsed = MonthlyDeductionInput.safeParse(input);
  if (!parsed.success) throw new DeductionInputError(`invalid workflow input: ${describeZodError(parsed.error, '')}`);
  if (!parsed.data.approvers?.length) {
    throw new DeductionInputError(
      `${parsed.data.taxNo} names no approver: a month is started only with someone who may approve its statistic table`,
    );
  }
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

/** What a decision came to: the workflow's answer once it acted on it. */
export interface DecisionResult {
  workflowId: string;
  runId: string;
  decision: 'approved' | 'rejected';
  /** accepted: the month goes on to confirm; voided: the table changed, the new one awaits approval; rejected. */
  outcome: DecisionOutcome['outcome'];
  /** False when the approval was voided. */
  accepted: boolean;
  /** Voided: why. */
  reason?: string;
  /** Accepted: the table approved; voided: the new table awaiting approval. */
  statisticDigest?: string;
  /** One line for people, Chinese first. */
  message: string;
}

/** Signs the decision as `keyId` (docs/decision-signing.md); `now` is the time signed. */
export interface DecisionSigner {
  privateKey: string | KeyObject;
  keyId: string;
  now?: () => Date;
}

export interface DecisionOptions {
  /** Sign the decision (required where the taxpayer's decisionPolicy is 'signed'). */
  signer?: DecisionSigner;
  /** How long to wait for the workflow's answer (default 5 minutes). */
  waitMs?: number;
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
 * The statistic table the month presents for approval now, asked of the workflow. For a person,
 * show it before they decide (the CLI does); automation that approves what is presented names it
 * explicitly with this.
 */
export async function statisticAwaitingApproval(
  client: Client,
  taxNo: string,
  period: string,
): Promise<StatisticSummary> {
  const { handle, workflowId } = await requireAwaitingApproval(client, taxNo, period, 'read the table of');
  const statistic = (await queryProgress(client, handle, 5000)).statistic;
  if (!statistic) throw new DeductionStateError(`${workflowId} presents no statistic table`);
  return statistic;
}

const DEFAULT_DECISION_WAIT_MS = 5 * 60_000;

/** The workflow's refusal as a DecisionRefusedError; other update failures as state errors. */
function decisionError(error: unknown, workflowId: string, what: string, waitMs: number): unknown {
  if (error instanceof WorkflowUpdateFailedError) {
    const cause = error.cause;
    if (cause instanceof ApplicationFailure && cause.type === DECISION_REFUSED) {
      const code = cause.details?.[0];
      return new DecisionRefusedError(
        cause.message,
        (DECISION_REFUSAL_CODES as readonly unknown[]).includes(code) ? (code as DecisionRefusalCode) : undefined,
      );
    }
    return new DeductionStateError(`${what} ${workflowId} failed: ${cause?.message ?? error.message}`);
  }
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return new DeductionStateError(
      `No answer from ${workflowId} within ${Math.round(waitMs / 1000)} s (is a worker running?). ` +
        'The decision may still be taken: see `status`.',
    );
  }
  if (error instanceof WorkflowNotFoundError) return new DeductionNotFoundError(`${workflowId}: ${error.message}`);
  return error;
}

function decisionResult(
  workflowId: string,
  runId: string,
  decision: DecisionResult['decision'],
  outcome: DecisionOutcome,
): DecisionResult {
  const base = { workflowId, runId, decision };
  switch (outcome.outcome) {
    case 'accepted':
      return {
        ...base,
        outcome: 'accepted',
        accepted: true,
        statisticDigest: outcome.statisticDigest,
        message: `已同意，统计表 ${outcome.statisticDigest} 待确认 Approved: the bureau's table is still ${outcome.statisticDigest}; the month goes on to confirm it`,
      };
    case 'voided':
      return {
        ...base,
        outcome: 'voided',
        accepted: false,
        reason: outcome.reason,
        ...(outcome.statisticDigest ? { statisticDigest: outcome.statisticDigest } : {}),
        message: `审批已作废 Approval voided: ${outcome.reason}${outcome.statisticDigest ? ` (the new table is ${outcome.statisticDigest})` : ''}`,
      };
    case 'rejected':
      return {
        ...base,
        outcome: 'rejected',
        accepted: true,
        message: '已驳回，统计表将被撤销 Rejected: the month revokes the statistic table',
      };
  }
}

/**
 * Sends a decision as the workflow's approve / reject Update and answers what it came to. Checks
 * first that the month is running and awaiting approval; the workflow's validator is the judge.
 */
async function decide(
  client: Client,
  taxNo: string,
  period: string,
  kind: 'approve' | 'reject',
  input: ApproveDecisionInput | RejectDecisionInput,
  options: DecisionOptions,
): Promise<DecisionResult> {
  const { handle, workflowId, description } = await requireAwaitingApproval(client, taxNo, period, kind);
  let signed = input;
  if (options.signer) {
    if (!input.statisticDigest) {
      throw new DeductionInputError(`a signed ${kind} names the statistic digest of the table it decides on`);
    }
    const signature = signDecision(options.signer.privateKey, options.signer.keyId, {
      taxNo,
      taxPeriod: period,
      statisticDigest: input.statisticDigest,
      decision: kind,
      approver: input.approver,
      signedAt: (options.signer.now?.() ?? new Date()).toISOString(),
    });
    signed = { ...input, signature };
  }
  const waitMs = options.waitMs ?? DEFAULT_DECISION_WAIT_MS;
  try {
    const outcome = await client.connection.withDeadline(Date.now() + waitMs, () =>
      kind === 'approve'
        ? handle.executeUpdate(approveUpdate, { args: [signed as ApproveDecisionInput] })
        : handle.executeUpdate(rejectUpdate, { args: [signed as RejectDecisionInput] }),
    );
    return decisionResult(workflowId, description.runId, kind === 'approve' ? 'approved' : 'rejected', outcome);
  } catch (error) {
    throw decisionError(error, workflowId, kind, waitMs);
  }
}

/**
 * Approves the statistic table named by `input.statisticDigest` (the one the approver was shown:
 * never filled in here) with the `approve` Update. Answers after the workflow read the bureau's
 * table again: accepted, or voided when it changed. A refusal throws DecisionRefusedError.
 */
export async function approve(
  client: Client,
  taxNo: string,
  period: string,
  input: ApproveDecisionInput,
  options: DecisionOptions = {},
): Promise<DecisionResult> {
  const parsed = ApproveDecisionInput.safeParse(input);
  if (!parsed.success) throw new DeductionInputError(describeZodError(parsed.error, ''));
  return decide(client, taxNo, period, 'approve', parsed.data, options);
}

/** Rejects the statistic table with the `reject` Update; the month revokes it. A refusal throws DecisionRefusedError. */
export async function reject(
  client: Client,
  taxNo: string,
  period: string,
  input: RejectDecisionInput,
  options: DecisionOptions = {},
): Promise<DecisionResult> {
  const parsed = RejectDecisionInput.safeParse(input);
  if (!parsed.success) throw new DeductionInputError(describeZodError(parsed.error, ''));
  return decide(client, taxNo, period, 'reject', parsed.data, options);
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
