import {
  type ActivityInterfaceFor,
  type ActivityOptions,
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  TemporalFailure,
  upsertMemo,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { NoticeKind } from '../protocol/notice.js';
import type { DecisionActivities } from '../activities/decisionVerification.js';
import type { DeductionActivities, SelectionTaskResult } from '../activities/deductionActivities.js';
import type { NotificationActivities } from '../activities/notifications.js';
import { describeStatisticStatus, StatisticStatus } from '../protocol/codes.js';
import type { StatisticQueryReply } from '../protocol/interfaces.js';
import { describeZodError } from '../protocol/interfaces.js';
import { addMonths, endOfShanghaiDay, lastDayOfPeriod } from '../protocol/period.js';
import { approvalDeadline } from '../rules/approvalDeadline.js';
import { statisticDigest, statisticItemsDigest } from '../rules/statisticDigest.js';
import { plannedReminders } from '../rules/reminders.js';
import { planStatistic, statisticLocksSelection, statisticTotals } from '../rules/statisticPlan.js';
import { checkPlanAgainstBureau, compareCategories } from '../rules/plannedVersusBureau.js';
import { sumMoney } from '../protocol/money.js';
import {
  ApproveDecisionInput,
  ApproveSignalInput,
  approveSignal,
  approveUpdate,
  APPROVAL_MEMO_KEY,
  type ApprovalMemo,
  ApprovalDeadlineSearchAttribute,
  type CandidateSource,
  DECISION_REFUSED,
  DeductionStageSearchAttribute,
  type Decision,
  type DecisionOutcome,
  type DecisionRefusalCode,
  type DecisionSignature,
  MonthlyDeductionInput,
  type MonthlyDeductionResult,
  type ParsedMonthlyDeductionInput,
  type Progress,
  type RefusedSignal,
  progressQuery,
  RejectDecisionInput,
  RejectSignalInput,
  rejectSignal,
  rejectUpdate,
  type SelectionTally,
  Stage,
  type StatisticSummary,
} from './contract.js';
import { onTenantQueue, tenantCheck } from './tenantQueues.js';
import {
  bureauCallOptions,
  FINAL_FAILURE_TYPES,
  heartbeatingOptions,
  pollingOptions,
  retryBudgetMs,
} from './activityOptions.js';
import { renderCurrentDetails } from './details.js';

const MAX_SELECTION_ROUNDS = 3;
const MAX_STATISTIC_ATTEMPTS = 3;
const MAX_FAILURES_KEPT = 50;
const MAX_REFUSALS_KEPT = 50;

/**
 * Activities whose options are computed when each one is scheduled, so that a step's retry budget
 * is what is left of it then (commands are the same as with a plain proxy).
 */
function scheduledWith(options: () => ActivityOptions): ActivityInterfaceFor<DeductionActivities> {
  return new Proxy({} as ActivityInterfaceFor<DeductionActivities>, {
    get: (_target, name) => (proxyActivities<DeductionActivities>(options()) as Record<string | symbol, unknown>)[name],
  });
}

/** After a cancellation: one short read of the table, never a wait on a bureau that is down. */
const AFTER_CANCEL_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  scheduleToCloseTimeout: '3 minutes',
  retry: { initialInterval: '2s', maximumAttempts: 3, nonRetryableErrorTypes: FINAL_FAILURE_TYPES },
};

/** Approver notices: retried for a while, then given up on; never the month's failure. */
const notifier = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '30 minutes',
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: ['NotificationChannelUnknown', 'NotificationInvalid'],
  },
});

/** Checks a signed decision's signature on the worker running the Update (DECISION_VERIFY_KEYS). */
const verifier = proxyLocalActivities<DecisionActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1s', maximumAttempts: 3 },
});
/** A signed decision is sent as it is signed: one signed longer ago (or ahead of the clock) is refused. */
const SIGNATURE_MAX_AGE_MS = 3600_000;
const SIGNATURE_MAX_AHEAD_MS = 5 * 60_000;

/** Why a decision is refused, with a code for programs (DECISION_REFUSAL_CODES). */
interface Refusal {
  code: DecisionRefusalCode;
  reason: string;
}
const FINAL_STAGES: readonly Stage[] = [Stage.Completed, Stage.Rejected, Stage.Expired, Stage.Failed, Stage.Canceled];

/**
 * MonthlyDeductionWorkflow: one taxpayer, one tax period, the seed's ten steps (异构对接说明 1-10).
 * Bureau tasks are awaited by activity retries (BureauTaskPending), so waiting adds no history.
 */
export async function MonthlyDeductionWorkflow(rawInput: MonthlyDeductionInput): Promise<MonthlyDeductionResult> {
  const parsed = MonthlyDeductionInput.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`Invalid workflow input: ${describeZodError(parsed.error)}`, 'InvalidInput');
  }
  const input = parsed.data;
  const { taxNo, taxPeriod } = input;
  // Months started before approvers were required replay as they ran (anyone could decide them).
  if (!input.approvers?.length && patched('approvers-required')) {
    throw ApplicationFailure.nonRetryable(
      `Invalid workflow input: approvers: ${taxNo} names no approver, so nobody could approve its statistic table`,
      'InvalidInput',
    );
  }

  // Bureau steps retry through outages until the deduction deadline (or the month's outage limit):
  // until the bureau names it, the latest a deadline can be, the end of the following month.
  let retryUntil = endOfShanghaiDay(lastDayOfPeriod(addMonths(taxPeriod, 1)));
  const outageLimitMs = input.outageLimitHours === undefined ? undefined : input.outageLimitHours * 3600_000;
  const budget = () => retryBudgetMs(retryUntil, Date.now(), outageLimitMs);
  const tenantQueue = onTenantQueue(input.tenant);
  // Each step's budget is computed when it is scheduled. Waiting on a bureau task is not an
  // outage: polls are bounded by the deadline alone.
  const bureau = scheduledWith(() => tenantQueue(bureauCallOptions(budget())));
  const selection = scheduledWith(() => tenantQueue(heartbeatingOptions(budget())));
  const poll = scheduledWith(() => tenantQueue(pollingOptions(input.polling, retryBudgetMs(retryUntil, Date.now()))));
  const afterCancel = proxyActivities<DeductionActivities>(tenantQueue(AFTER_CANCEL_OPTIONS));
  function retryUntilDeadline(deductionDeadline: string): void {
    retryUntil = endOfShanghaiDay(deductionDeadline);
  }
  /** The bureau write being sent, if any: a cancellation records that it may still land. */
  let writeInFlight: string | undefined;
  async function writing<T>(what: string, send: () => Promise<T>): Promise<T> {
    writeInFlight = what;
    const result = await send();
    writeInFlight = undefined;
    return result;
  }
  // Absent: the sandbox's pool query, as before sources existed (the activity input stays as it was).
  const source = input.candidateSource?.kind === 'sandbox-pool' ? undefined : input.candidateSource;
  let downloadTaskNo: string | undefined;
  let sourceText = describeSource(input.candidateSource ?? { kind: 'sandbox-pool' });

  const progress: Progress = {
    taxNo,
    taxPeriod,
    stage: Stage.LoggingIn,
    decisionPolicy: input.decisionPolicy,
    updatedAt: new Date().toISOString(),
  };
  let decision: Decision | undefined;

  function publish(): void {
    progress.updatedAt = new Date().toISOString();
    setCurrentDetails(renderCurrentDetails(progress));
  }
  function enterStage(stage: Stage): void {
    progress.stage = stage;
    upsertSearchAttributes([{ key: DeductionStageSearchAttribute, value: stage }]);
    publish();
  }
  function refuse(signal: RefusedSignal['signal'], reason: string, approver?: string, via?: 'update'): void {
    log.warn('Refused a decision', { taxNo, taxPeriod, signal, approver, reason, via: via ?? 'signal' });
    const refused = (progress.refusedSignals ??= []);
    if (refused.length < MAX_REFUSALS_KEPT) {
      refused.push({ signal, approver, reason, at: new Date().toISOString(), ...(via ? { via } : {}) });
    }
    publish();
  }
  /** A signed decision whose signature is being checked: no other decision is taken meanwhile. */
  let verifying = false;
  /** What each decision came to, set by the main loop; an Update's handler answers with it. */
  const outcomes = new Map<Decision, DecisionOutcome>();

  /** Why `approver` may not decide now, or undefined when they may. Never names who may. */
  function decisionProblem(approver: string): Refusal | undefined {
    if (input.approvers && !input.approvers.includes(approver)) {
      return { code: 'not-an-approver', reason: `${approver} is not an approver of ${taxNo}` };
    }
    if (progress.stage !== Stage.AwaitingApproval) {
      return { code: 'wrong-stage', reason: `arrived at stage ${progress.stage}, not AWAITING_APPROVAL` };
    }
    if (decision) return { code: 'already-decided', reason: `a decision was already made by ${decision.approver}` };
    if (verifying) return { code: 'already-decided', reason: 'another decision is being verified' };
    return undefined;
  }
  /** A decision that names a table other than the one awaiting approval. */
  function staleTable(kind: 'approve' | 'reject', named: string | undefined): Refusal | undefined {
    const shown = progress.statistic?.digest;
    if (named === undefined || named === shown) return undefined;
    return {
      code: 'stale-table',
      reason: `${kind}s statistic ${named}, but the statistic awaiting approval is ${shown}`,
    };
  }
  /**
   * The validator's answer to an approve / reject Update: read-only, so a refusal leaves no history.
   * Signature problems are not refused here but by the handler, which records them in the month:
   * under the signed policy an attempt to decide without a valid signature is part of the audit trail.
   */
  function updateRefusal(kind: 'approve' | 'reject', raw: unknown): Refusal | undefined {
    const parsed = (kind === 'approve' ? ApproveDecisionInput : RejectDecisionInput).safeParse(raw);
    if (!parsed.success) return { code: 'invalid-input', reason: `invalid ${kind}: ${describeZodError(parsed.error)}` };
    const { approver, statisticDigest, signature } = parsed.data;
    const problem = decisionProblem(approver) ?? staleTable(kind, statisticDigest);
    if (problem) return problem;
    if (signature && statisticDigest === undefined) {
      return { code: 'invalid-input', reason: `invalid ${kind}: a signed decision names the statisticDigest signed` };
    }
    return undefined;
  }
  /** Why a signature (or its absence) cannot decide, before it is verified. */
  function signatureProblem(signature: DecisionSignature | undefined): Refusal | undefined {
    if (!signature) {
      if (input.decisionPolicy !== 'signed') return undefined;
      return {
        code: 'unsigned',
        reason: `${taxNo} takes only signed decisions (decisionPolicy signed): decide in the inbox, or with the CLI's --signing-key`,
      };
    }
    const ahead = Date.parse(signature.signedAt) - Date.now();
    if (ahead > SIGNATURE_MAX_AHEAD_MS || -ahead > SIGNATURE_MAX_AGE_MS) {
      return {
        code: 'stale-signature',
        reason: `signed at ${signature.signedAt}, not within the hour before the workflow's time ${new Date().toISOString()}: sign the decision again`,
      };
    }
    return undefined;
  }
  /** Records a refusal of an accepted Update and returns the failure it answers with. */
  function refusedUpdate(kind: 'approve' | 'reject', approver: string, refusal: Refusal): ApplicationFailure {
    refuse(kind, refusal.reason, approver, 'update');
    return ApplicationFailure.create({
      message: refusal.reason,
      type: DECISION_REFUSED,
      nonRetryable: true,
      details: [refusal.code],
    });
  }
  /**
   * An Update that passed its validator: a signature is verified first (a local activity), then
   * the decision is taken and the Update answers with what the month made of it.
   */
  async function decideByUpdate(
    kind: 'approve' | 'reject',
    data: ApproveDecisionInput | RejectDecisionInput,
  ): Promise<DecisionOutcome> {
    const { approver, signature, statisticDigest } = data;
    const unfit = signatureProblem(signature);
    if (unfit) throw refusedUpdate(kind, approver, unfit);
    // The validator refused this already; checked again so that no path takes it unverified.
    if (signature && !statisticDigest) {
      throw refusedUpdate(kind, approver, { code: 'invalid-input', reason: 'a signed decision names its digest' });
    }
    if (signature && statisticDigest) {
      verifying = true;
      let verdict: Awaited<ReturnType<DecisionActivities['verifyDecisionSignature']>>;
      try {
        verdict = await verifier.verifyDecisionSignature.executeWithOptions(
          { summary: `验证审批签名 verify the ${kind} signature (key ${signature.keyId})` },
          [
            {
              fields: { taxNo, taxPeriod, statisticDigest, decision: kind, approver, signedAt: signature.signedAt },
              signature,
            },
          ],
        );
      } catch (error) {
        if (isCancellation(error)) throw error;
        verdict = { valid: false, reason: `it could not be verified: ${failureMessage(error)}` };
      } finally {
        verifying = false;
      }
      if (!verdict.valid) {
        throw refusedUpdate(kind, approver, { code: 'bad-signature', reason: `signature refused: ${verdict.reason}` });
      }
      // The month may have moved on while the signature was checked (the approval deadline).
      const problem = decisionProblem(approver) ?? staleTable(kind, statisticDigest);
      if (problem) throw refusedUpdate(kind, approver, problem);
    }
    const taken: Decision = {
      decision: kind === 'approve' ? 'approved' : 'rejected',
      approver,
      comment: kind === 'approve' ? (data as ApproveDecisionInput).comment : (data as RejectDecisionInput).reason,
      decidedAt: new Date().toISOString(),
      via: 'update',
      ...(signature ? { signature: { keyId: signature.keyId, signedAt: signature.signedAt } } : {}),
    };
    decision = taken;
    await condition(() => outcomes.has(taken) || FINAL_STAGES.includes(progress.stage));
    const outcome = outcomes.get(taken);
    if (outcome) return outcome;
    throw ApplicationFailure.create({
      message: `the month ended ${progress.stage} before the ${kind} was acted on${progress.lastBureauError ? `: ${progress.lastBureauError}` : ''}`,
      type: 'DecisionNotActedOn',
      nonRetryable: true,
    });
  }

  setHandler(progressQuery, () => progress);
  // Updates add no command until one is accepted, so months started before them replay unchanged.
  setHandler(approveUpdate, (raw) => decideByUpdate('approve', ApproveDecisionInput.parse(raw)), {
    validator: (raw) => validateUpdate('approve', raw),
    description: 'Approve the statistic table awaiting approval; answers after the bureau re-check',
  });
  setHandler(rejectUpdate, (raw) => decideByUpdate('reject', RejectDecisionInput.parse(raw)), {
    validator: (raw) => validateUpdate('reject', raw),
    description: 'Reject the statistic table awaiting approval (it is revoked)',
  });
  function validateUpdate(kind: 'approve' | 'reject', raw: unknown): void {
    const refusal = updateRefusal(kind, raw);
    if (!refusal) return;
    const approver =
      typeof (raw as { approver?: unknown })?.approver === 'string'
        ? (raw as { approver: string }).approver
        : undefined;
    log.warn('Refused a decision', { taxNo, taxPeriod, signal: kind, approver, reason: refusal.reason, via: 'update' });
    throw ApplicationFailure.create({
      message: refusal.reason,
      type: DECISION_REFUSED,
      nonRetryable: true,
      details: [refusal.code],
    });
  }
  /** Under the signed policy a signal never decides; it is recorded. */
  function refuseSignalUnderSignedPolicy(kind: 'approve' | 'reject', raw: unknown): void {
    const claimed = (raw as { approver?: unknown } | undefined)?.approver;
    refuse(
      kind,
      `${taxNo} takes only signed decisions (decisionPolicy signed): a ${kind} signal does not decide; decide in the inbox, or with the CLI's --signing-key`,
      typeof claimed === 'string' ? claimed.slice(0, 64) : undefined,
    );
  }
  setHandler(approveSignal, (raw) => {
    if (input.decisionPolicy === 'signed') return refuseSignalUnderSignedPolicy('approve', raw);
    const signal = ApproveSignalInput.safeParse(raw);
    if (!signal.success) return refuse('approve', `invalid approve signal: ${describeZodError(signal.error)}`);
    const { approver, comment, statisticDigest: named } = signal.data;
    const problem = decisionProblem(approver) ?? staleTable('approve', named);
    if (problem) return refuse('approve', problem.reason, approver);
    decision = { decision: 'approved', approver, comment, decidedAt: new Date().toISOString() };
  });
  setHandler(rejectSignal, (raw) => {
    if (input.decisionPolicy === 'signed') return refuseSignalUnderSignedPolicy('reject', raw);
    const signal = RejectSignalInput.safeParse(raw);
    if (!signal.success) return refuse('reject', `invalid reject signal: ${describeZodError(signal.error)}`);
    const problem = decisionProblem(signal.data.approver);
    if (problem) return refuse('reject', problem.reason, signal.data.approver);
    decision = {
      decision: 'rejected',
      approver: signal.data.approver,
      comment: signal.data.reason,
      decidedAt: new Date().toISOString(),
    };
  });

  type Notifications = NonNullable<ParsedMonthlyDeductionInput['notifications']>;
  /** Posts one notice to the approvers; an undeliverable notice is logged, and the month goes on. */
  async function notifyApprovers(
    notices: Notifications,
    kind: NoticeKind,
    hoursBeforeDeadline?: number,
    extra: { decidedBy?: string; reason?: string } = {},
  ) {
    const st = progress.statistic;
    try {
      await notifier.notifyApprovers.executeWithOptions({ summary: `通知审批人 notify approvers: ${kind}` }, [
        {
          channel: notices.channel,
          kind,
          taxNo,
          taxPeriod,
          ...(input.approvers ? { approvers: input.approvers } : {}),
          approvalDeadline: progress.approvalDeadline ?? '',
          ...(progress.deductionDeadline ? { deductionDeadline: progress.deductionDeadline } : {}),
          ...(hoursBeforeDeadline ? { hoursBeforeDeadline } : {}),
          ...extra,
          ...(st
            ? {
                statistic: {
                  digest: st.digest,
                  deductibleCount: st.deductibleCount,
                  deductibleAmount: st.deductibleAmount,
                  deductibleTax: st.deductibleTax,
                },
              }
            : {}),
        },
      ]);
    } catch (error) {
      if (isCancellation(error)) throw error;
      log.warn('Approvers could not be notified; the month carries on', {
        taxNo,
        taxPeriod,
        kind,
        error: failureMessage(error),
      });
    }
  }
  /**
   * "Approval needed" now, then a reminder at each planned instant while no decision is pending.
   * Timers only (no polling); ends when the stage leaves AWAITING_APPROVAL.
   */
  async function remindApprovers(notices: Notifications, deadline: Date): Promise<void> {
    const stillWaiting = () => progress.stage === Stage.AwaitingApproval && decision === undefined;
    await noticeWhileWaiting(notices, 'approval-needed');
    for (;;) {
      const [next] = plannedReminders(deadline, notices.remindHoursBeforeDeadline, new Date());
      if (!next) return;
      const interrupted = await condition(() => !stillWaiting(), next.at.getTime() - Date.now());
      // The reminder's timer and the decision can land in one workflow task: the decision wins.
      const decidedAsDue = !interrupted && !stillWaiting() && patched('reminders-stop-at-decision');
      if (!interrupted && !decidedAsDue) {
        await noticeWhileWaiting(notices, 'reminder', next.hoursBeforeDeadline);
        continue;
      }
      // A decision is being checked; an approval of a table that changed is voided: wait on then.
      await condition(() => decision === undefined || progress.stage !== Stage.AwaitingApproval);
      if (progress.stage !== Stage.AwaitingApproval) return;
    }
  }
  /**
   * A notice that still asks for a decision: while it is being sent (or retried, for up to half an
   * hour) a decision stops it, so nobody is asked to decide a month already decided.
   */
  async function noticeWhileWaiting(
    notices: Notifications,
    kind: 'approval-needed' | 'reminder',
    hoursBeforeDeadline?: number,
  ): Promise<void> {
    const scope = new CancellationScope();
    const sending = scope.run(() => notifyApprovers(notices, kind, hoursBeforeDeadline));
    let settled = false;
    let stoppedAtDecision = false;
    // Only a decision stops it: a month that ends otherwise (expiry) lets the notice finish.
    void condition(() => settled || decision !== undefined).then(() => {
      // Months recorded before this let the notice run on; they replay as they ran.
      if (settled || !patched('reminders-stop-at-decision')) return;
      stoppedAtDecision = true;
      scope.cancel();
    });
    try {
      await sending;
    } catch (error) {
      if (!(stoppedAtDecision && isCancellation(error))) throw error;
      log.info('A notice was stopped: the decision arrived while it was being sent', { taxNo, taxPeriod, kind });
    } finally {
      settled = true;
    }
  }

  let statisticOperations = 0;
  /** A table left locked (nothing new to select): round 1 keeps what is selected as it is. */
  let keepSelectedAsIs = false;
  async function runStatisticOperation(operation: 'generate' | 'revoke'): Promise<void> {
    statisticOperations++;
    const { taskNo } = await writing(`statistic ${operation}`, () =>
      bureau.requestStatisticOperation.executeWithOptions(
        { summary: operation === 'generate' ? '生成统计表 generate statistic' : '撤销统计表 revoke statistic' },
        [{ taxNo, operation, ordinal: statisticOperations }],
      ),
    );
    // The bureau already had it (the activity reads the table before it writes): nothing to await.
    if (taskNo === '') return;
    const result = await poll.awaitStatisticTask.executeWithOptions({ summary: `await statistic task ${taskNo}` }, [
      { taxNo, taskNo },
    ]);
    if (!result.success) {
      throw ApplicationFailure.nonRetryable(
        `Statistic ${operation} for ${taxNo} ${taxPeriod} failed at the bureau: ${result.resultMsg}`,
        'BureauRefused',
      );
    }
  }

  async function refreshStatistic(): Promise<StatisticQueryReply> {
    const statistic = await bureau.queryStatistic.executeWithOptions({ summary: '当前统计查询 query statistic' }, [
      { taxNo },
    ]);
    progress.statistic = summarize(statistic);
    publish();
    return statistic;
  }

  function finish(
    outcome: MonthlyDeductionResult['outcome'],
    note: string,
    extra: Partial<MonthlyDeductionResult> = {},
  ) {
    enterStage(outcome as Stage);
    return { ...progress, ...extra, outcome, note } as MonthlyDeductionResult;
  }

  try {
    // Months without a tenant (all those recorded before tenants) schedule nothing new here.
    if (input.tenant) {
      await tenantCheck.checkTenantServed.executeWithOptions({ summary: `tenant ${input.tenant}` }, [
        { tenant: input.tenant },
      ]);
    }
    // Steps 1-2 (4.02, 4.04): log in, and let the bureau say which period is open.
    await bureau.logInToBureau.executeWithOptions({ summary: '税局登录 bureau login' }, [{ taxNo }]);
    enterStage(Stage.QueryingPeriod);
    const period = await bureau.queryTaxPeriod.executeWithOptions({ summary: '查询税款所属期 query tax period' }, [
      { taxNo },
    ]);
    if (period.taxPeriod !== taxPeriod) {
      throw ApplicationFailure.nonRetryable(
        `The bureau's current tax period for ${taxNo} is ${period.taxPeriod}, not ${taxPeriod}. ` +
          `Start the month for ${period.taxPeriod}, or change the bureau's period first.`,
        'PeriodMismatch',
      );
    }
    progress.deductionDeadline = period.deductionDeadline;
    retryUntilDeadline(period.deductionDeadline);
    const approveBy = approvalDeadline(period.deductionDeadline, input.approvalDeadline);
    progress.approvalDeadline = approveBy.toISOString();
    if (period.statisticStatus === StatisticStatus.Confirmed) {
      await refreshStatistic();
      return finish('COMPLETED', `The statistic for ${taxPeriod} was already confirmed; nothing was done again.`);
    }

    // Steps 1-4 (4.05, 4.06): choose and select the candidates, then collect per-invoice results.
    enterStage(Stage.Selecting);
    // 进项表头归集: one download of the bureau's invoices for the month, read by every round.
    if (source?.kind === 'bureau-download') {
      const { taskNo } = await bureau.requestInvoiceDownload.executeWithOptions(
        { summary: `进项表头归集 download the bureau's invoices of ${taxPeriod}` },
        [{ taxNo, taxPeriod }],
      );
      const downloaded = await poll.awaitInvoiceDownload.executeWithOptions(
        { summary: `归集结果 await download task ${taskNo}` },
        [{ taxNo, taskNo }],
      );
      downloadTaskNo = taskNo;
      sourceText = `bureau download 进项表头归集 task ${taskNo} (${downloaded.total} invoices)`;
    }
    // A table left locked (nothing new to add) keeps what is selected: round 1 does not send it
    // again (the locked bureau would refuse it), the plan counts it as found selected.
    if (statisticLocksSelection(period.statisticStatus)) {
      const pending = await selection.submitSelection.executeWithOptions({ summary: 'count candidates (dry run)' }, [
        { ...selectionInput(0), dryRun: true },
      ]);
      // A generated statistic locks selection (code 20): revoke it so new invoices can be added.
      if (pending.candidates > 0) await runStatisticOperation('revoke');
      else keepSelectedAsIs = true;
    }
    const tally: SelectionTally = {
      candidates: 0,
      submitted: 0,
      selected: 0,
      alreadySelected: 0,
      failed: 0,
      failures: [],
      taskNos: [],
      selectedTax: '0.00',
      // Months without a named source report as they always did.
      ...(input.candidateSource ? { source: sourceText } : {}),
    };
    progress.selection = tally;
    let previousTaskNos: string[] = [];
    for (let round = 1; round <= MAX_SELECTION_ROUNDS; round++) {
      if (round > 1)
        await bureau.logInToBureau.executeWithOptions({ summary: '重新登录 bureau login again' }, [{ taxNo }]);
      const roundInput = selectionInput(round, previousTaskNos);
      const submitted = await writing('selection', () =>
        input.selectionMode === 'preselect'
          ? selection.submitPreSelection.executeWithOptions(
              { summary: `预勾选 pre-select and confirm invoices (round ${round})` },
              [roundInput],
            )
          : selection.submitSelection.executeWithOptions({ summary: `发票勾选 select invoices (round ${round})` }, [
              roundInput,
            ]),
      );
      previousTaskNos = submitted.taskNos;
      if (round === 1) {
        tally.candidates = submitted.candidates;
        if (submitted.alreadySelectedInSource) tally.alreadySelectedInSource = submitted.alreadySelectedInSource;
        if (submitted.candidatesByCategory) tally.candidatesByCategory = submitted.candidatesByCategory;
        if (submitted.uncategorisedCandidates) tally.uncategorisedCandidates = submitted.uncategorisedCandidates;
        if (input.candidateSource) tally.skipped = submitted.skipped;
        if (submitted.skippedRows) tally.skippedRows = submitted.skippedRows;
      } else if (submitted.alreadySelectedInSource?.count && patched('found-selected-in-later-rounds')) {
        // A later round whose request of an earlier attempt landed: those invoices are found selected.
        const before = tally.alreadySelectedInSource ?? { count: 0, tax: '0.00' };
        const found = submitted.alreadySelectedInSource;
        tally.alreadySelectedInSource = {
          count: before.count + found.count,
          tax: before.tax !== undefined && found.tax !== undefined ? sumMoney([before.tax, found.tax]) : undefined,
        };
      }
      tally.submitted += submitted.submitted;
      tally.taskNos.push(...submitted.taskNos);
      publish();
      const results = await Promise.all(
        submitted.taskNos.map((taskNo): Promise<SelectionTaskResult> =>
          input.selectionMode === 'preselect'
            ? poll.awaitPreSelectionResult.executeWithOptions(
                { summary: `预勾选确认结果 await pre-selection task ${taskNo}` },
                [{ taxNo, taskNo }],
              )
            : poll.awaitSelectionResult.executeWithOptions({ summary: `勾选结果 await select task ${taskNo}` }, [
                { taxNo, taskNo },
              ]),
        ),
      );
      // Pre-selection answers some invoices at once (19 already selected, 2 not in the pool).
      const immediate = 'immediate' in submitted ? [submitted.immediate as SelectionTaskResult] : [];
      const toRetry = addResults(tally, [...immediate, ...results]);
      if (tally.candidatesByCategory) tally.outstandingRetries = toRetry;
      publish();
      if (toRetry === 0) break;
      log.info('Bureau asked to retry some invoices', { taxNo, taxPeriod, round, toRetry });
    }

    // Steps 5-7 (4.07-4.09): bring the statistic table to "generated".
    enterStage(Stage.GeneratingStatistic);
    let statistic = await refreshStatistic();
    // Months recorded before the plan check read "something selected" from the table alone.
    const checksPlan = patched('plan-vs-bureau');
    for (let attempt = 1; ; attempt++) {
      const totals = statisticTotals(statistic);
      const inTable = totals.deductibleCount + totals.notDeductibleCount;
      // What the month selected counts too: a table that shows nothing after a selection the bureau
      // answered "selected" is a wrong assumption to stop on, not "nothing to deduct".
      const selected = checksPlan ? Math.max(inTable, plannedFigures(tally).count) : inTable;
      const step = planStatistic(statistic.statisticStatus, selected);
      if (checksPlan && step === 'generate' && attempt > 1) checkTableAgainstPlan(statistic, tally);
      if (step === 'ready-for-approval') break;
      if (step === 'already-confirmed')
        return finish('COMPLETED', `The statistic for ${taxPeriod} was already confirmed.`);
      if (step === 'nothing-to-deduct') {
        return finish('COMPLETED', `Nothing to deduct for ${taxNo} in ${taxPeriod}: no invoice selected.`);
      }
      if (step === 'unknown-status') {
        throw ApplicationFailure.nonRetryable(
          `The statistic for ${taxNo} ${taxPeriod} has status ${statistic.statisticStatus}, which this product does not know; nothing more was done`,
          'UnknownStatisticStatus',
        );
      }
      if (attempt > MAX_STATISTIC_ATTEMPTS) {
        throw ApplicationFailure.nonRetryable(
          `The statistic for ${taxNo} ${taxPeriod} is still in status ${statistic.statisticStatus} after ${MAX_STATISTIC_ATTEMPTS} attempts`,
          'StatisticNotGenerated',
        );
      }
      if (step === 'revoke-then-generate') await runStatisticOperation('revoke');
      if (step === 'wait-while-generating') {
        await poll.awaitStatisticSettled.executeWithOptions({ summary: 'await statistic generation' }, [{ taxNo }]);
      } else {
        await runStatisticOperation('generate');
      }
      statistic = await refreshStatistic();
    }

    // The bureau's table must count what the month selected: a wrong guess about the protocol
    // (the select flag above all) stops the month here, before anyone approves or confirms it.
    if (checksPlan) checkTableAgainstPlan(statistic, tally);

    // Step 8: a person checks the table and decides, before the approval deadline. An approval
    // stands only if the bureau's table is still the one the approver saw.
    enterStage(Stage.AwaitingApproval);
    // The inbox lists waiting months from visibility alone (deadline and totals); guarded so months
    // recorded before it replay without these commands.
    const listedForApproval = patched('approval-memo');
    const publishForApproval = () => {
      const s = progress.statistic;
      const memo: ApprovalMemo = {
        deductibleCount: s?.deductibleCount ?? 0,
        deductibleAmount: s?.deductibleAmount ?? '0.00',
        deductibleTax: s?.deductibleTax ?? '0.00',
        statisticDigest: s?.digest ?? '',
        failedInvoices: progress.selection?.failed ?? 0,
        ...(progress.plannedVersusBureau ? { plannedAgreesWithBureau: progress.plannedVersusBureau.agrees } : {}),
      };
      upsertMemo({ [APPROVAL_MEMO_KEY]: memo });
    };
    if (listedForApproval) {
      upsertSearchAttributes([{ key: ApprovalDeadlineSearchAttribute, value: approveBy }]);
      publishForApproval();
    }
    // Guarded so months recorded before reminders existed replay; no notifications, no new commands.
    const notices = input.notifications && patched('approval-reminders') ? input.notifications : undefined;
    if (notices) {
      // Runs beside the wait; on cancellation the main flow handles it, so it is not rethrown here.
      remindApprovers(notices, approveBy).catch((error: unknown) => {
        if (!isCancellation(error)) log.warn('Reminders stopped', { taxNo, taxPeriod, error: failureMessage(error) });
      });
    }
    for (;;) {
      const decided = await condition(() => decision !== undefined, Math.max(approveBy.getTime() - Date.now(), 1));
      if (!decided || !decision) {
        const expired = finish(
          'EXPIRED',
          `No approval arrived by ${progress.approvalDeadline}; the statistic was not confirmed. Confirm it by hand before ${period.deductionDeadline} or file without it.`,
        );
        if (notices) await notifyApprovers(notices, 'deadline-missed');
        await condition(allHandlersFinished);
        return expired;
      }
      if (decision.decision === 'rejected') {
        outcomes.set(decision, { outcome: 'rejected' });
        break;
      }
      const approvedDigest = progress.statistic?.digest;
      const current = await refreshStatistic();
      if (progress.statistic?.digest === approvedDigest) {
        outcomes.set(decision, { outcome: 'accepted', statisticDigest: approvedDigest ?? '' });
        break;
      }
      // The new table must still count what the month selected before anyone approves it.
      if (checksPlan && patched('plan-vs-bureau-on-change')) checkTableAgainstPlan(current, tally);
      const voided = `the bureau's statistic changed from ${approvedDigest} to ${progress.statistic?.digest} after it was approved; approve the new table`;
      refuse('approve', voided, decision.approver, decision.via);
      outcomes.set(decision, { outcome: 'voided', reason: voided, statisticDigest: progress.statistic?.digest });
      decision = undefined;
      if (listedForApproval) publishForApproval();
    }
    progress.decision = decision;
    if (decision.decision === 'rejected') {
      await runStatisticOperation('revoke');
      await refreshStatistic();
      const rejected = finish(
        'REJECTED',
        `Rejected by ${decision.approver}: ${decision.comment ?? ''}. The statistic was revoked.`,
      );
      await condition(allHandlersFinished);
      return rejected;
    }

    // Step 9 (4.10, 4.11): confirm; the bureau refuses until the period's month has ended.
    enterStage(Stage.Confirming);
    const confirmer = proxyActivities<DeductionActivities>(
      tenantQueue({
        startToCloseTimeout: '1 minute',
        scheduleToCloseTimeout: Math.max(endOfShanghaiDay(period.deductionDeadline).getTime() - Date.now(), 60_000),
        retry: {
          initialInterval: '5s',
          backoffCoefficient: 2,
          maximumInterval: '30 minutes',
          nonRetryableErrorTypes: FINAL_FAILURE_TYPES,
        },
      }),
    );
    // The table approved: the bureau's must still be it when it is confirmed.
    const approvedTable = progress.statistic
      ? { digest: progress.statistic.digest, items: statisticItemsDigest(progress.statistic.items) }
      : undefined;
    const { taskNo: confirmTaskNo } = await writing('statistic confirmation', () =>
      confirmer.requestConfirmation.executeWithOptions({ summary: '确认统计表 confirm statistic' }, [
        { taxNo, ...(approvedTable ? { approved: approvedTable } : {}) },
      ]),
    );
    const confirmation = await poll.awaitConfirmation.executeWithOptions(
      { summary: `确认结果 await confirm task ${confirmTaskNo}` },
      [{ taxNo, taskNo: confirmTaskNo }],
    );
    if (!confirmation.success) {
      throw ApplicationFailure.nonRetryable(
        `The bureau did not confirm the statistic for ${taxNo} ${taxPeriod}: ${confirmation.resultMsg}`,
        'BureauRefused',
      );
    }
    await refreshStatistic();

    // Step 10 (4.12): optionally move the bureau on to another period, then read it back.
    let periodAfterChange: string | undefined;
    const changeTo = input.changePeriodTo;
    if (changeTo) {
      enterStage(Stage.ChangingPeriod);
      await writing('period change', () =>
        bureau.changeTaxPeriod.executeWithOptions({ summary: `变更所属期 change period to ${changeTo}` }, [
          { taxNo, taxPeriod: changeTo },
        ]),
      );
      const after = await bureau.queryTaxPeriod.executeWithOptions({ summary: '查询税款所属期 query tax period' }, [
        { taxNo },
      ]);
      periodAfterChange = after.taxPeriod;
    }
    if (input.notifications && patched('notice-confirmed')) {
      await notifyApprovers(input.notifications, 'confirmed', undefined, { decidedBy: decision.approver });
    }
    await condition(allHandlersFinished);
    return finish('COMPLETED', `Confirmed for ${taxPeriod}, approved by ${decision.approver}.`, {
      confirmedAt: confirmation.confirmTime,
      periodAfterChange,
    });
  } catch (error) {
    // A cancellation ends the month CANCELED, with what the bureau was left with on record.
    if (isCancellation(error)) {
      await recordWhatIsLeft();
      throw error;
    }
    // Anything but a Temporal failure is a bug in this code: rethrown as it is, it fails the
    // workflow task, which Temporal retries, so a fixed worker carries the month on.
    if (!(error instanceof TemporalFailure)) throw error;
    progress.lastBureauError = failureMessage(error);
    enterStage(Stage.Failed);
    if (input.notifications && patched('notice-failed')) {
      const reason = progress.lastBureauError.slice(0, 1000);
      await notifyApprovers(input.notifications, 'failed', undefined, { reason });
    }
    // An Update waiting for its outcome answers that the month failed (no command: replay-safe).
    await condition(allHandlersFinished);
    throw ApplicationFailure.nonRetryable(
      `Deduction for ${taxNo} ${taxPeriod} failed: ${progress.lastBureauError}`,
      'DeductionFailed',
    );
  }

  /** After a cancellation: the bureau's table as it was left, read outside the cancelled scope. */
  async function recordWhatIsLeft(): Promise<void> {
    try {
      const statistic = await CancellationScope.nonCancellable(() =>
        afterCancel.queryStatistic.executeWithOptions({ summary: '取消后查询统计 query statistic after cancel' }, [
          { taxNo },
        ]),
      );
      progress.statistic = summarize(statistic);
    } catch (error) {
      log.warn('The bureau could not be read after the cancellation', {
        taxNo,
        taxPeriod,
        error: failureMessage(error),
      });
    }
    const status = progress.statistic?.statisticStatus;
    const table =
      status === undefined
        ? 'unknown: the bureau could not be read'
        : `statistic ${status} ${describeStatisticStatus(status) || '(status not documented)'}`;
    progress.leftAtBureau = writeInFlight
      ? `${table}; a ${writeInFlight} request was being sent and may still land`
      : table;
    enterStage(Stage.Canceled);
  }

  function checkTableAgainstPlan(statistic: StatisticQueryReply, tally: SelectionTally): void {
    const totals = statisticTotals(statistic);
    const planned = plannedFigures(tally);
    const bureau = { count: totals.deductibleCount, tax: totals.deductibleTax };
    const check = checkPlanAgainstBureau({ planned, bureau, failed: tally.failed });
    // Per category only where the plan knows every selected invoice's category.
    const knowsCategories =
      tally.candidatesByCategory !== undefined &&
      tally.failed === 0 &&
      (tally.outstandingRetries ?? 0) === 0 &&
      (tally.alreadySelectedInSource?.count ?? 0) === 0;
    const byCategory = knowsCategories
      ? compareCategories(tally.candidatesByCategory!, statistic.items, (tally.uncategorisedCandidates ?? 0) === 0)
      : undefined;
    const problems = [...(check.problem ? [check.problem] : []), ...(byCategory?.problems ?? [])];
    progress.plannedVersusBureau = {
      planned: planned.tax !== undefined ? planned : { count: planned.count },
      bureau,
      ...(byCategory ? { categories: byCategory.rows } : {}),
      agrees: problems.length === 0,
    };
    publish();
    if (problems.length > 0) {
      throw ApplicationFailure.nonRetryable(
        `Stopped before approval: ${problems.join('; ')}. Nothing was confirmed.`,
        'BureauDisagreesWithPlan',
      );
    }
  }

  function selectionInput(round: number, previousTaskNos: string[] = []) {
    return {
      taxNo,
      taxPeriod,
      deductionDeadline: progress.deductionDeadline ?? '',
      batchSize: input.batchSize,
      invoiceTypes: input.invoiceTypes,
      poolFilter: input.poolFilter,
      round,
      // Only months with a source of their own carry it (the sandbox pool's input is as it was).
      ...(source?.kind === 'invoices-file'
        ? { source: { kind: 'invoices-file' as const, sha256: source.sha256, rows: source.rows } }
        : {}),
      ...(source?.kind === 'bureau-download' && downloadTaskNo
        ? { source: { kind: 'bureau-download' as const, taskNo: downloadTaskNo } }
        : {}),
      ...(keepSelectedAsIs ? { keepSelectedAsIs } : {}),
      // Later rounds send again exactly what the previous round's tasks asked for, so a retried
      // round rebuilds the same batches (activities/selectionCandidates.ts).
      ...(round > 1 ? { retryOf: previousTaskNos } : {}),
    };
  }
}

/** The month's candidate source, for people to read. */
function describeSource(source: CandidateSource): string {
  switch (source.kind) {
    case 'invoices-file': {
      const name = source.fileName ? `${source.fileName} ` : '';
      return `invoices file ${name}(${source.rows} rows, sha256 ${source.sha256.slice(0, 12)}…)`;
    }
    case 'bureau-download':
      return 'bureau download 进项表头归集';
    case 'sandbox-pool':
      return 'sandbox pool query invoicePoolQuery (sandbox only)';
  }
}

/** What the month meant to have selected: what the bureau answered selected, and what it found selected. */
function plannedFigures(tally: SelectionTally): { count: number; tax: string | undefined } {
  const elsewhere = tally.alreadySelectedInSource ?? { count: 0, tax: '0.00' };
  return {
    count: tally.selected + tally.alreadySelected + elsewhere.count,
    tax:
      tally.selectedTax !== undefined && elsewhere.tax !== undefined
        ? sumMoney([tally.selectedTax, elsewhere.tax])
        : undefined,
  };
}

function addResults(tally: SelectionTally, results: SelectionTaskResult[]): number {
  let toRetry = 0;
  for (const r of results) {
    tally.selectedTax =
      tally.selectedTax !== undefined && r.selectedTax !== undefined
        ? sumMoney([tally.selectedTax, r.selectedTax])
        : undefined;
    tally.selected += r.selected;
    tally.alreadySelected += r.alreadySelected;
    tally.failed += r.failed;
    toRetry += r.toRetry;
    tally.failures.push(...r.failures.slice(0, MAX_FAILURES_KEPT - tally.failures.length));
  }
  return toRetry;
}

function summarize(statistic: StatisticQueryReply): StatisticSummary {
  const totals = statisticTotals(statistic);
  return {
    digest: statisticDigest(statistic),
    statisticStatus: statistic.statisticStatus,
    updateTime: statistic.updateTime,
    deductionDeadline: statistic.deductionDeadline,
    items: statistic.items,
    ...(statistic.total ? { total: statistic.total } : {}),
    deductibleCount: totals.deductibleCount,
    deductibleAmount: totals.deductibleAmount,
    deductibleTax: totals.deductibleTax,
  };
}

/** The most specific message of a failure: the bureau's own text where there is one. */
function failureMessage(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) return error.cause.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
