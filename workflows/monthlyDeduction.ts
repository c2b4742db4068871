import { ApplicationFailure, isCancellation, patched } from '@temporalio/workflow';
import { FailureType } from '../protocol/failureTypes.js';
import { describeZodError } from '../protocol/interfaces.js';
import { MonthlyDeductionInput, type MonthlyDeductionResult, type ParsedMonthlyDeductionInput } from './contract.js';
import { awaitDecision } from './month/awaitDecision.js';
import { changePeriod } from './month/changePeriod.js';
import { confirmStatistic } from './month/confirmStatistic.js';
import { DecisionDesk } from './month/decisionDesk.js';
import { endCancelled, endConfirmed, endFailed } from './month/endings.js';
import { bringStatisticToGenerated } from './month/generateStatistic.js';
import { logInAndReadPeriod } from './month/logInAndReadPeriod.js';
import { Month } from './month/month.js';
import { selectInvoices } from './month/selectInvoices.js';

/**
 * MonthlyDeductionWorkflow: one taxpayer, one tax period, the ten steps of the month.
 * Bureau tasks are awaited by activity retries (BureauTaskPending), so waiting adds no history.
 */
export async function MonthlyDeductionWorkflow(rawInput: MonthlyDeductionInput): Promise<MonthlyDeductionResult> {
  const month = new Month(validInput(rawInput));
  const desk = new DecisionDesk(month);
  desk.listen();
  try {
    const open = await logInAndReadPeriod(month);
    if ('ended' in open) return open.ended;
    const tally = await selectInvoices(month, open.period);
    const generated = await bringStatisticToGenerated(month, tally);
    if ('ended' in generated) return generated.ended;
    const decided = await awaitDecision(month, desk, { ...open, tally, checksPlan: generated.checksPlan });
    if ('ended' in decided) return decided.ended;
    const confirmedAt = await confirmStatistic(month, open.period);
    const periodAfterChange = await changePeriod(month);
    return await endConfirmed(month, decided.approved, confirmedAt, periodAfterChange);
  } catch (error) {
    if (isCancellation(error)) {
      await endCancelled(month);
      throw error;
    }
    return await endFailed(month, error);
  }
}

function validInput(rawInput: MonthlyDeductionInput): ParsedMonthlyDeductionInput {
  const parsed = MonthlyDeductionInput.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(
      `Invalid workflow input: ${describeZodError(parsed.error)}`,
      FailureType.InvalidInput,
    );
  }
  const input = parsed.data;
  // Months started before approvers were required replay as they ran (anyone could decide them).
  if (!input.approvers?.length && patched('approvers-required')) {
    throw ApplicationFailure.nonRetryable(
      `Invalid workflow input: approvers: ${input.taxNo} names no approver, so nobody could approve its statistic table`,
      FailureType.InvalidInput,
    );
  }
  return input;
}
