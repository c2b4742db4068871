import {
  allHandlersFinished,
  condition,
  isCancellation,
  log,
  patched,
  upsertMemo,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { BureauPeriod } from '../../activities/deductionActivities.js';
import {
  APPROVAL_MEMO_KEY,
  type ApprovalMemo,
  ApprovalDeadlineSearchAttribute,
  type Decision,
  type MonthlyDeductionResult,
  type SelectionTally,
  Stage,
} from '../contract.js';
import { notifyApprovers, remindApprovers } from './approverNotices.js';
import { checkTableAgainstPlan } from './checkTableAgainstPlan.js';
import type { DecisionDesk } from './decisionDesk.js';
import { failureMessage } from './failureMessage.js';
import type { Month } from './month.js';

export interface AwaitingDecision {
  period: BureauPeriod;
  approveBy: Date;
  tally: SelectionTally;
  checksPlan: boolean;
}

/**
 * Step 8: a person checks the table and decides, before the approval deadline. An approval stands
 * only if the bureau's table is still the one the approver saw. A rejection revokes the table and
 * ends the month, as does the deadline passing.
 */
export async function awaitDecision(
  month: Month,
  desk: DecisionDesk,
  { period, approveBy, tally, checksPlan }: AwaitingDecision,
): Promise<{ approved: Decision } | { ended: MonthlyDeductionResult }> {
  const { input, progress, taxNo, taxPeriod } = month;
  month.enterStage(Stage.AwaitingApproval);
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
    remindApprovers(month, desk, notices, approveBy).catch((error: unknown) => {
      if (!isCancellation(error)) log.warn('Reminders stopped', { taxNo, taxPeriod, error: failureMessage(error) });
    });
  }
  for (;;) {
    const decided = await condition(() => desk.decision !== undefined, Math.max(approveBy.getTime() - Date.now(), 1));
    const decision = desk.decision;
    if (!decided || !decision) {
      const expired = month.finish(
        'EXPIRED',
        `No approval arrived by ${progress.approvalDeadline}; the statistic was not confirmed. Confirm it by hand before ${period.deductionDeadline} or file without it.`,
      );
      if (notices) await notifyApprovers(month, notices, 'deadline-missed');
      await condition(allHandlersFinished);
      return { ended: expired };
    }
    if (decision.decision === 'rejected') {
      desk.outcomes.set(decision, { outcome: 'rejected' });
      break;
    }
    const approvedDigest = progress.statistic?.digest;
    const current = await month.refreshStatistic();
    if (progress.statistic?.digest === approvedDigest) {
      desk.outcomes.set(decision, { outcome: 'accepted', statisticDigest: approvedDigest ?? '' });
      break;
    }
    // The new table must still count what the month selected before anyone approves it.
    if (checksPlan && patched('plan-vs-bureau-on-change')) checkTableAgainstPlan(month, current, tally);
    const voided = `the bureau's statistic changed from ${approvedDigest} to ${progress.statistic?.digest} after it was approved; approve the new table`;
    desk.refuse('approve', voided, decision.approver, decision.via);
    desk.outcomes.set(decision, { outcome: 'voided', reason: voided, statisticDigest: progress.statistic?.digest });
    desk.decision = undefined;
    if (listedForApproval) publishForApproval();
  }
  const decision = desk.decision!;
  progress.decision = decision;
  if (decision.decision === 'rejected') {
    await month.runStatisticOperation('revoke');
    await month.refreshStatistic();
    const rejected = month.finish(
      'REJECTED',
      `Rejected by ${decision.approver}: ${decision.comment ?? ''}. The statistic was revoked.`,
    );
    await condition(allHandlersFinished);
    return { ended: rejected };
  }
  return { approved: decision };
}
