import type { AccountingRule, AccountingRules } from './accountingRulesSchema.js';
import {
  BOUND_BILL_TYPE_NAMES,
  BOUND_BILL_TYPES,
  BoundBillType,
  DATA_SOURCE_NAMES,
  DATA_SOURCES,
  DataSource,
  INVOICE_TYPE_NAMES,
  invoiceTypeName,
} from '../protocol/codes.js';
import type { PoolInvoice } from '../protocol/interfaces.js';

/**
 * Auto-accounting decisions (补充说明 2): which rule applies to a pool invoice and what it says,
 * and whether a rule set leaves combinations uncovered (gaps) or decides one combination two
 * different ways (overlaps). Pure: used by the activities, the CLI dry run and the tests.
 */

export type InvoiceFacts = Pick<PoolInvoice, 'dataSource' | 'boundBillType' | 'invoiceType' | 'invoiceDate'>;

export type RuleDecision =
  | { kind: 'book'; rule: string; accountPeriod: string }
  | { kind: 'skip'; rule: string }
  | { kind: 'no-rule' }
  | { kind: 'conflict'; rules: string[] };

const codeOf = (table: Record<string, string>, name: string) => table[name]!;

export function ruleMatches(
  rule: AccountingRule,
  facts: { dataSource: string; boundBillType: string; invoiceType: number },
): boolean {
  const m = rule.match;
  if (m.dataSource && !m.dataSource.some((n) => codeOf(DataSource, n) === facts.dataSource)) return false;
  if (m.boundBillType && !m.boundBillType.some((n) => codeOf(BoundBillType, n) === facts.boundBillType)) return false;
  if (m.invoiceType && !m.invoiceType.includes(facts.invoiceType)) return false;
  return true;
}

/** What a rule does, as a comparable key: "book:runPeriod", "book:invoiceMonth" or "skip". */
export function outcomeOf(rule: AccountingRule): string {
  return rule.action === 'book' ? `book:${rule.accountPeriod}` : 'skip';
}

const invoiceMonth = (isoDate: string) => isoDate.slice(0, 4) + isoDate.slice(5, 7);

/**
 * The decision for one invoice in a run booking for `runPeriod`. Matching rules that agree
 * decide together (the first one is named); rules that disagree are a conflict, never a guess.
 */
export function decide(rules: AccountingRules, invoice: InvoiceFacts, runPeriod: string): RuleDecision {
  const matching = rules.rules.filter((r) => ruleMatches(r, invoice));
  if (matching.length === 0) return { kind: 'no-rule' };
  const outcomes = new Set(matching.map(outcomeOf));
  if (outcomes.size > 1) return { kind: 'conflict', rules: matching.map((r) => r.name) };
  const rule = matching[0]!;
  if (rule.action === 'skip') return { kind: 'skip', rule: rule.name };
  const accountPeriod = rule.accountPeriod === 'invoiceMonth' ? invoiceMonth(invoice.invoiceDate) : runPeriod;
  return { kind: 'book', rule: rule.name, accountPeriod };
}

export interface Combination {
  dataSource: string;
  boundBillType: string;
  invoiceType: number;
}

export interface RuleOverlap {
  /** The rules that decide these combinations differently. */
  rules: string[];
  outcomes: string[];
  combinations: number;
  example: Combination;
}

export interface RuleGap {
  dataSource: string;
  boundBillType: string;
  /** Invoice types no rule covers for this source and document type. */
  invoiceTypes: number[];
}

export interface RuleAnalysis {
  combinations: number;
  overlaps: RuleOverlap[];
  gaps: RuleGap[];
  uncovered: number;
}

/** Every (data source, bound document type, known invoice type) combination. */
export function allCombinations(): Combination[] {
  const types = Object.keys(INVOICE_TYPE_NAMES).map(Number);
  return DATA_SOURCES.flatMap((dataSource) =>
    BOUND_BILL_TYPES.flatMap((boundBillType) =>
      types.map((invoiceType) => ({ dataSource, boundBillType, invoiceType })),
    ),
  );
}

/** Checks the rule set against every combination: overlaps with different outcomes, and gaps. */
export function analyzeRules(rules: AccountingRules): RuleAnalysis {
  const overlaps = new Map<string, RuleOverlap>();
  const gaps = new Map<string, RuleGap>();
  let uncovered = 0;
  const combinations = allCombinations();
  for (const combo of combinations) {
    const matching = rules.rules.filter((r) => ruleMatches(r, combo));
    if (matching.length === 0) {
      uncovered++;
      const key = `${combo.dataSource}|${combo.boundBillType}`;
      const gap = gaps.get(key) ?? {
        dataSource: combo.dataSource,
        boundBillType: combo.boundBillType,
        invoiceTypes: [],
      };
      gap.invoiceTypes.push(combo.invoiceType);
      gaps.set(key, gap);
      continue;
    }
    const byOutcome = new Map<string, string[]>();
    for (const r of matching) byOutcome.set(outcomeOf(r), [...(byOutcome.get(outcomeOf(r)) ?? []), r.name]);
    if (byOutcome.size < 2) continue;
    const names = matching.map((r) => r.name);
    const key = names.join('|');
    const overlap = overlaps.get(key) ?? {
      rules: names,
      outcomes: [...byOutcome.keys()],
      combinations: 0,
      example: combo,
    };
    overlap.combinations++;
    overlaps.set(key, overlap);
  }
  return { combinations: combinations.length, overlaps: [...overlaps.values()], gaps: [...gaps.values()], uncovered };
}

export function describeCombination(c: Combination): string {
  return `${DATA_SOURCE_NAMES[c.dataSource as DataSource]} / ${BOUND_BILL_TYPE_NAMES[c.boundBillType as BoundBillType]} / ${c.invoiceType} ${invoiceTypeName(c.invoiceType) ?? ''}`.trim();
}

/** The analysis as operator text: overlaps first (they stop a run), then gaps (invoices left unbooked). */
export function formatRuleAnalysis(a: RuleAnalysis): string {
  const lines: string[] = [];
  if (a.overlaps.length === 0) lines.push('Overlaps: none (no combination is decided two different ways).');
  else {
    lines.push(
      `Overlaps: ${a.overlaps.length} (rules that decide the same combination differently; fix before running):`,
    );
    for (const o of a.overlaps) {
      lines.push(
        `  - rules ${o.rules.map((r) => `"${r}"`).join(', ')} (${o.outcomes.join(' vs ')}) on ${o.combinations} combination(s), e.g. ${describeCombination(o.example)}`,
      );
    }
  }
  if (a.gaps.length === 0) lines.push(`Gaps: none (all ${a.combinations} combinations are covered).`);
  else {
    lines.push(
      `Gaps: ${a.uncovered} of ${a.combinations} combinations have no rule (their invoices are left unbooked and reported):`,
    );
    for (const g of a.gaps) {
      lines.push(
        `  - ${DATA_SOURCE_NAMES[g.dataSource as DataSource]} / ${BOUND_BILL_TYPE_NAMES[g.boundBillType as BoundBillType]}: invoice types ${g.invoiceTypes.join(', ')}`,
      );
    }
  }
  return lines.join('\n');
}
