import { CancellationScope, condition, isCancellation, log, patched, proxyActivities } from '@temporalio/workflow';
import { NotificationFailureType } from '../../protocol/failureTypes.js';
import type { NoticeKind } from '../../protocol/notice.js';
import type { NotificationActivities } from '../../activities/notifications.js';
import { plannedReminders } from '../../rules/reminders.js';
import { type ParsedMonthlyDeductionInput, Stage } from '../contract.js';
import type { DecisionDesk } from './decisionDesk.js';
import { failureMessage } from './failureMessage.js';
import type { Month } from './month.js';

/** Approver notices: retried for a while, then given up on; never the month's failure. */
const notifier = proxyActivities<NotificationActivities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '30 minutes',
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    nonRetryableErrorTypes: [NotificationFailureType.UnknownChannel, NotificationFailureType.InvalidRequest],
  },
});

export type Notifications = NonNullable<ParsedMonthlyDeductionInput['notifications']>;

/** Posts one notice to the approvers; an undeliverable notice is logged, and the month goes on. */
export async function notifyApprovers(
  month: Month,
  notices: Notifications,
  kind: NoticeKind,
  hoursBeforeDeadline?: number,
  extra: { decidedBy?: string; reason?: string } = {},
): Promise<void> {
  const { input, progress, taxNo, taxPeriod } = month;
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
export async function remindApprovers(
  month: Month,
  desk: DecisionDesk,
  notices: Notifications,
  deadline: Date,
): Promise<void> {
  const { progress } = month;
  const stillWaiting = () => progress.stage === Stage.AwaitingApproval && desk.decision === undefined;
  await noticeWhileWaiting(month, desk, notices, 'approval-needed');
  for (;;) {
    const [next] = plannedReminders(deadline, notices.remindHoursBeforeDeadline, new Date());
    if (!next) return;
    const interrupted = await condition(() => !stillWaiting(), next.at.getTime() - Date.now());
    // The reminder's timer and the decision can land in one workflow task: the decision wins.
    const decidedAsDue = !interrupted && !stillWaiting() && patched('reminders-stop-at-decision');
    if (!interrupted && !decidedAsDue) {
      await noticeWhileWaiting(month, desk, notices, 'reminder', next.hoursBeforeDeadline);
      continue;
    }
    // A decision is being checked; an approval of a table that changed is voided: wait on then.
    await condition(() => desk.decision === undefined || progress.stage !== Stage.AwaitingApproval);
    if (progress.stage !== Stage.AwaitingApproval) return;
  }
}

/**
 * A notice that still asks for a decision: while it is being sent (or retried, for up to half an
 * hour) a decision stops it, so nobody is asked to decide a month already decided.
 */
async function noticeWhileWaiting(
  month: Month,
  desk: DecisionDesk,
  notices: Notifications,
  kind: 'approval-needed' | 'reminder',
  hoursBeforeDeadline?: number,
): Promise<void> {
  const scope = new CancellationScope();
  const sending = scope.run(() => notifyApprovers(month, notices, kind, hoursBeforeDeadline));
  let settled = false;
  let stoppedAtDecision = false;
  // Only a decision stops it: a month that ends otherwise (expiry) lets the notice finish.
  void condition(() => settled || desk.decision !== undefined).then(() => {
    // Months recorded before this let the notice run on; they replay as they ran.
    if (settled || !patched('reminders-stop-at-decision')) return;
    stoppedAtDecision = true;
    scope.cancel();
  });
  try {
    await sending;
  } catch (error) {
    if (!(stoppedAtDecision && isCancellation(error))) throw error;
    log.info('A notice was stopped: the decision arrived while it was being sent', {
      taxNo: month.taxNo,
      taxPeriod: month.taxPeriod,
      kind,
    });
  } finally {
    settled = true;
  }
}
