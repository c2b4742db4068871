import {
  ApplicationFailure,
  condition,
  isCancellation,
  log,
  proxyLocalActivities,
  setHandler,
} from '@temporalio/workflow';
import { FailureType } from '../../protocol/failureTypes.js';
import type { DecisionActivities } from '../../activities/decisionVerification.js';
import { describeZodError } from '../../protocol/interfaces.js';
import {
  ApproveDecisionInput,
  ApproveSignalInput,
  approveSignal,
  approveUpdate,
  DECISION_REFUSED,
  type Decision,
  type DecisionOutcome,
  type DecisionRefusalCode,
  type DecisionSignature,
  type RefusedSignal,
  progressQuery,
  RejectDecisionInput,
  RejectSignalInput,
  rejectSignal,
  rejectUpdate,
  Stage,
} from '../contract.js';
import { failureMessage } from './failureMessage.js';
import type { Month } from './month.js';

const MAX_REFUSALS_KEPT = 50;

/** Checks a signed decision's signature on the worker running the Update (DECISION_VERIFY_KEYS). */
const verifier = proxyLocalActivities<DecisionActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1s', maximumAttempts: 3 },
});
/** A signed decision is sent as it is signed: one signed longer ago (or ahead of the clock) is refused. */
const SIGNATURE_MAX_AGE_MS = 3600_000;
const SIGNATURE_MAX_AHEAD_MS = 5 * 60_000;

const FINAL_STAGES: readonly Stage[] = [Stage.Completed, Stage.Rejected, Stage.Expired, Stage.Failed, Stage.Canceled];

/** Why a decision is refused, with a code for programs (DECISION_REFUSAL_CODES). */
interface Refusal {
  code: DecisionRefusalCode;
  reason: string;
}

type Kind = 'approve' | 'reject';

/**
 * The month's decision: the approve / reject signals and Updates, their validators, the refusals
 * recorded in the month, and the decision the month waits on.
 */
export class DecisionDesk {
  /** The decision taken and not yet acted on (an approval of a table that changed is voided). */
  decision: Decision | undefined;
  /** What each decision came to, set by the month; an Update's handler answers with it. */
  readonly outcomes = new Map<Decision, DecisionOutcome>();
  /** A signed decision whose signature is being checked: no other decision is taken meanwhile. */
  private verifying = false;

  constructor(private readonly month: Month) {}

  /** Sets the query, Update and signal handlers. */
  listen(): void {
    const { input, progress } = this.month;
    setHandler(progressQuery, () => progress);
    // Updates add no command until one is accepted, so months started before them replay unchanged.
    setHandler(approveUpdate, (raw) => this.decideByUpdate('approve', ApproveDecisionInput.parse(raw)), {
      validator: (raw) => this.validateUpdate('approve', raw),
      description: 'Approve the statistic table awaiting approval; answers after the bureau re-check',
    });
    setHandler(rejectUpdate, (raw) => this.decideByUpdate('reject', RejectDecisionInput.parse(raw)), {
      validator: (raw) => this.validateUpdate('reject', raw),
      description: 'Reject the statistic table awaiting approval (it is revoked)',
    });
    setHandler(approveSignal, (raw) => {
      if (input.decisionPolicy === 'signed') return this.refuseSignalUnderSignedPolicy('approve', raw);
      const signal = ApproveSignalInput.safeParse(raw);
      if (!signal.success) return this.refuse('approve', `invalid approve signal: ${describeZodError(signal.error)}`);
      const { approver, comment, statisticDigest: named } = signal.data;
      const problem = this.decisionProblem(approver) ?? this.staleTable('approve', named);
      if (problem) return this.refuse('approve', problem.reason, approver);
      this.decision = { decision: 'approved', approver, comment, decidedAt: new Date().toISOString() };
    });
    setHandler(rejectSignal, (raw) => {
      if (input.decisionPolicy === 'signed') return this.refuseSignalUnderSignedPolicy('reject', raw);
      const signal = RejectSignalInput.safeParse(raw);
      if (!signal.success) return this.refuse('reject', `invalid reject signal: ${describeZodError(signal.error)}`);
      const problem = this.decisionProblem(signal.data.approver);
      if (problem) return this.refuse('reject', problem.reason, signal.data.approver);
      this.decision = {
        decision: 'rejected',
        approver: signal.data.approver,
        comment: signal.data.reason,
        decidedAt: new Date().toISOString(),
      };
    });
  }

  refuse(signal: RefusedSignal['signal'], reason: string, approver?: string, via?: 'update'): void {
    const { taxNo, taxPeriod, progress } = this.month;
    log.warn('Refused a decision', { taxNo, taxPeriod, signal, approver, reason, via: via ?? 'signal' });
    const refused = (progress.refusedSignals ??= []);
    if (refused.length < MAX_REFUSALS_KEPT) {
      refused.push({ signal, approver, reason, at: new Date().toISOString(), ...(via ? { via } : {}) });
    }
    this.month.publish();
  }

  /** Why `approver` may not decide now, or undefined when they may. Never names who may. */
  private decisionProblem(approver: string): Refusal | undefined {
    const { input, taxNo, progress } = this.month;
    if (input.approvers && !input.approvers.includes(approver)) {
      return { code: 'not-an-approver', reason: `${approver} is not an approver of ${taxNo}` };
    }
    if (progress.stage !== Stage.AwaitingApproval) {
      return { code: 'wrong-stage', reason: `arrived at stage ${progress.stage}, not AWAITING_APPROVAL` };
    }
    if (this.decision) {
      return { code: 'already-decided', reason: `a decision was already made by ${this.decision.approver}` };
    }
    if (this.verifying) return { code: 'already-decided', reason: 'another decision is being verified' };
    return undefined;
  }

  /** A decision that names a table other than the one awaiting approval. */
  private staleTable(kind: Kind, named: string | undefined): Refusal | undefined {
    const shown = this.month.progress.statistic?.digest;
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
  private updateRefusal(kind: Kind, raw: unknown): Refusal | undefined {
    const parsed = (kind === 'approve' ? ApproveDecisionInput : RejectDecisionInput).safeParse(raw);
    if (!parsed.success) return { code: 'invalid-input', reason: `invalid ${kind}: ${describeZodError(parsed.error)}` };
    const { approver, statisticDigest, signature } = parsed.data;
    const problem = this.decisionProblem(approver) ?? this.staleTable(kind, statisticDigest);
    if (problem) return problem;
    if (signature && statisticDigest === undefined) {
      return { code: 'invalid-input', reason: `invalid ${kind}: a signed decision names the statisticDigest signed` };
    }
    return undefined;
  }

  /** Why a signature (or its absence) cannot decide, before it is verified. */
  private signatureProblem(signature: DecisionSignature | undefined): Refusal | undefined {
    if (!signature) {
      if (this.month.input.decisionPolicy !== 'signed') return undefined;
      return {
        code: 'unsigned',
        reason: `${this.month.taxNo} takes only signed decisions (decisionPolicy signed): decide in the inbox, or with the CLI's --signing-key`,
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
  private refusedUpdate(kind: Kind, approver: string, refusal: Refusal): ApplicationFailure {
    this.refuse(kind, refusal.reason, approver, 'update');
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
  private async decideByUpdate(kind: Kind, data: ApproveDecisionInput | RejectDecisionInput): Promise<DecisionOutcome> {
    const { taxNo, taxPeriod, progress } = this.month;
    const { approver, signature, statisticDigest } = data;
    const unfit = this.signatureProblem(signature);
    if (unfit) throw this.refusedUpdate(kind, approver, unfit);
    // The validator refused this already; checked again so that no path takes it unverified.
    if (signature && !statisticDigest) {
      throw this.refusedUpdate(kind, approver, { code: 'invalid-input', reason: 'a signed decision names its digest' });
    }
    if (signature && statisticDigest) {
      this.verifying = true;
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
        this.verifying = false;
      }
      if (!verdict.valid) {
        throw this.refusedUpdate(kind, approver, {
          code: 'bad-signature',
          reason: `signature refused: ${verdict.reason}`,
        });
      }
      // The month may have moved on while the signature was checked (the approval deadline).
      const problem = this.decisionProblem(approver) ?? this.staleTable(kind, statisticDigest);
      if (problem) throw this.refusedUpdate(kind, approver, problem);
    }
    const taken: Decision = {
      decision: kind === 'approve' ? 'approved' : 'rejected',
      approver,
      comment: kind === 'approve' ? (data as ApproveDecisionInput).comment : (data as RejectDecisionInput).reason,
      decidedAt: new Date().toISOString(),
      via: 'update',
      ...(signature ? { signature: { keyId: signature.keyId, signedAt: signature.signedAt } } : {}),
    };
    this.decision = taken;
    await condition(() => this.outcomes.has(taken) || FINAL_STAGES.includes(progress.stage));
    const outcome = this.outcomes.get(taken);
    if (outcome) return outcome;
    throw ApplicationFailure.create({
      message: `the month ended ${progress.stage} before the ${kind} was acted on${progress.lastBureauError ? `: ${progress.lastBureauError}` : ''}`,
      type: FailureType.DecisionNotActedOn,
      nonRetryable: true,
    });
  }

  private validateUpdate(kind: Kind, raw: unknown): void {
    const refusal = this.updateRefusal(kind, raw);
    if (!refusal) return;
    const approver =
      typeof (raw as { approver?: unknown })?.approver === 'string'
        ? (raw as { approver: string }).approver
        : undefined;
    const { taxNo, taxPeriod } = this.month;
    log.warn('Refused a decision', { taxNo, taxPeriod, signal: kind, approver, reason: refusal.reason, via: 'update' });
    throw ApplicationFailure.create({
      message: refusal.reason,
      type: DECISION_REFUSED,
      nonRetryable: true,
      details: [refusal.code],
    });
  }

  /** Under the signed policy a signal never decides; it is recorded. */
  private refuseSignalUnderSignedPolicy(kind: Kind, raw: unknown): void {
    const claimed = (raw as { approver?: unknown } | undefined)?.approver;
    this.refuse(
      kind,
      `${this.month.taxNo} takes only signed decisions (decisionPolicy signed): a ${kind} signal does not decide; decide in the inbox, or with the CLI's --signing-key`,
      typeof claimed === 'string' ? claimed.slice(0, 64) : undefined,
    );
  }
}
