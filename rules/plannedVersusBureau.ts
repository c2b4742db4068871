import { compareMoney, sumMoney } from '../protocol/money.js';

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

/** Count and tax of invoices in one statistic category. */
export interface CategoryFigures {
  count: number;
  tax: string;
}

/**
 * What a set of select lines adds to each of the bureau's statistic categories, by the profile's
 * mapping of 发票云 invoice types (docs/protocol.md); types without a category count in the total only.
 */
export function figuresByCategory(
  lines: readonly { invoiceType: string; effectiveTaxAmount: string }[],
  categories: Readonly<Record<string, string>>,
): Record<string, CategoryFigures> {
  const out: Record<string, { count: number; taxes: string[] }> = {};
  for (const line of lines) {
    const category = categories[line.invoiceType];
    if (!category) continue;
    const entry = (out[category] ??= { count: 0, taxes: [] });
    entry.count++;
    entry.taxes.push(line.effectiveTaxAmount);
  }
  return Object.fromEntries(
    Object.entries(out).map(([category, e]) => [category, { count: e.count, tax: sumMoney(e.taxes) }]),
  );
}

/** One category's planned figures beside the bureau's row. */
export interface CategoryComparison {
  category: string;
  planned: CategoryFigures;
  bureau: CategoryFigures;
}

/**
 * The categories where the plan and the bureau's rows differ. Only meaningful when the plan knows
 * every selected invoice's category (every submitted invoice ended selected, none came from
 * elsewhere); the caller decides that.
 */
export function compareCategories(
  planned: Readonly<Record<string, CategoryFigures>>,
  bureau: readonly { category: string; deductibleCount: number; deductibleTax: string }[],
  /** Whether a bureau row the plan has nothing for is a difference (false when some candidates had no category). */
  rowsOutsideThePlanDiffer = true,
): { rows: CategoryComparison[]; problems: string[] } {
  const names = new Set([
    ...Object.keys(planned),
    ...(rowsOutsideThePlanDiffer ? bureau.filter((r) => r.deductibleCount > 0).map((r) => r.category) : []),
  ]);
  const rows = [...names].sort().map((category) => {
    const row = bureau.find((r) => r.category === category);
    return {
      category,
      planned: planned[category] ?? { count: 0, tax: '0.00' },
      bureau: row ? { count: row.deductibleCount, tax: row.deductibleTax } : { count: 0, tax: '0.00' },
    };
  });
  const problems = rows
    .filter((r) => r.planned.count !== r.bureau.count || compareMoney(r.planned.tax, r.bureau.tax) !== 0)
    .map(
      (r) =>
        `category ${r.category}: planned ${r.planned.count} (tax ${r.planned.tax}), the bureau's row ${r.bureau.count} (tax ${r.bureau.tax})`,
    );
  return { rows, problems };
}
