import { Stage } from '../contract.js';
import type { Month } from './month.js';

/**
 * Step 10 (4.12): when the month asks for it, move the bureau on to another period, then read the
 * period back. Answers the period the bureau names after the change.
 */
export async function changePeriod(month: Month): Promise<string | undefined> {
  const { taxNo } = month;
  const changeTo = month.input.changePeriodTo;
  if (!changeTo) return undefined;
  month.enterStage(Stage.ChangingPeriod);
  await month.writing('period change', () =>
    month.bureau.changeTaxPeriod.executeWithOptions({ summary: `变更所属期 change period to ${changeTo}` }, [
      { taxNo, taxPeriod: changeTo },
    ]),
  );
  const after = await month.bureau.queryTaxPeriod.executeWithOptions({ summary: '查询税款所属期 query tax period' }, [
    { taxNo },
  ]);
  return after.taxPeriod;
}
