import { ApplicationFailure } from '@temporalio/workflow';
import { FailureType } from '../../protocol/failureTypes.js';
import { StatisticStatus } from '../../protocol/codes.js';
import type { BureauPeriod } from '../../activities/deductionActivities.js';
import { approvalDeadline } from '../../rules/approvalDeadline.js';
import { type MonthlyDeductionResult, Stage } from '../contract.js';
import { tenantCheck } from '../tenantQueues.js';
import type { Month } from './month.js';

export interface OpenPeriod {
  period: BureauPeriod;
  approveBy: Date;
}

/**
 * Steps 1-2 (4.02, 4.04): log in, and let the bureau say which period is open. A month whose
 * statistic is already confirmed ends here.
 */
export async function logInAndReadPeriod(month: Month): Promise<OpenPeriod | { ended: MonthlyDeductionResult }> {
  const { input, progress, taxNo, taxPeriod } = month;
  // Months without a tenant (all those recorded before tenants) schedule nothing new here.
  if (input.tenant) {
    await tenantCheck.checkTenantServed.executeWithOptions({ summary: `tenant ${input.tenant}` }, [
      { tenant: input.tenant },
    ]);
  }
  await month.bureau.logInToBureau.executeWithOptions({ summary: '税局登录 bureau login' }, [{ taxNo }]);
  month.enterStage(Stage.QueryingPeriod);
  const period = await month.bureau.queryTaxPeriod.executeWithOptions({ summary: '查询税款所属期 query tax period' }, [
    { taxNo },
  ]);
  if (period.taxPeriod !== taxPeriod) {
    throw ApplicationFailure.nonRetryable(
      `The bureau's current tax period for ${taxNo} is ${period.taxPeriod}, not ${taxPeriod}. ` +
        `Start the month for ${period.taxPeriod}, or change the bureau's period first.`,
      FailureType.PeriodMismatch,
    );
  }
  progress.deductionDeadline = period.deductionDeadline;
  month.retryUntilDeadline(period.deductionDeadline);
  const approveBy = approvalDeadline(period.deductionDeadline, input.approvalDeadline);
  progress.approvalDeadline = approveBy.toISOString();
  if (period.statisticStatus === StatisticStatus.Confirmed) {
    await month.refreshStatistic();
    return {
      ended: month.finish('COMPLETED', `The statistic for ${taxPeriod} was already confirmed; nothing was done again.`),
    };
  }
  return { period, approveBy };
}
