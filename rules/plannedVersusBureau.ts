import { compareMoney } from '../protocol/money.js';

/** What the month meant to select and what the bureau's statistic table counts (its total row). */
export interface PlanCheckInput {
  planned: { count: number; tax?: string | undefined };
  bureau: { count: number; tax: string };
  /** Invoices the bureau refused in the month's selection. */
  failed: number;
}

export interface PlanCheck {
  agrees: boolean;
  /** Why they disagree, for the month's failure message; undefined when they agree. */
  problem?: string;
}

/**
 * Whether the bureau's table counts what the month selected. When every invoice came back selected
 * and the table counts fewer, the select flag is the likely cause: a tenant whose authenticateFlag
 * values are the other way round answers a "cancellation" of unselected invoices with success
 * (docs/protocol.md).
 */
export function checkPlanAgainstBureau({ planned, bureau, failed }: PlanCheckInput): PlanCheck {
  const countAgrees = planned.count === bureau.count;
  const taxAgrees = planned.tax === undefined || compareMoney(planned.tax, bureau.tax) === 0;
  if (countAgrees && taxAgrees) return { agrees: true };
  const plannedText = `${planned.count} invoices${planned.tax !== undefined ? ` (tax ${planned.tax})` : ''}`;
  let problem = `the bureau's statistic table counts ${bureau.count} deductible invoices (tax ${bureau.tax}), but the bureau answered ${plannedText} as selected this month`;
  if (bureau.count < planned.count && failed === 0) {
    problem +=
      ". Every invoice came back selected but the table does not count them: the protocol profile's selectFlag (authenticateFlag values for select and cancel) is the likely cause (set it in the INVOICE_CLOUD_PROFILE file, docs/protocol.md)";
  }
  return { agrees: false, problem };
}
