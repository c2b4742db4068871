/**
 * The auto-accounting rules file (自动入账规则, 补充说明 2): by data source, bound document type and
 * invoice type, which pool invoices are booked (入账) and into which accounting period.
 * See docs/auto-accounting.md and config/accounting-rules.example.json.
 */
import { z } from 'zod';
import { INVOICE_TYPE_NAMES } from '../protocol/codes.js';
import { zodErrorLines } from '../protocol/zodErrors.js';
import { BoundBillTypeName, DataSourceName } from './poolFilter.js';

const KNOWN_INVOICE_TYPES = Object.keys(INVOICE_TYPE_NAMES).map(Number);

const list = <T extends z.ZodType>(item: T) =>
  z.array(item).min(1, 'list at least one value, or leave the field out to match any');

/** Which invoices a rule applies to: every listed dimension must match; a missing one matches any. */
export const RuleMatch = z
  .object({
    dataSource: list(DataSourceName).optional(),
    boundBillType: list(BoundBillTypeName).optional(),
    invoiceType: list(
      z
        .number()
        .int()
        .refine(
          (t) => KNOWN_INVOICE_TYPES.includes(t),
          `unknown invoice type; known: ${KNOWN_INVOICE_TYPES.join(', ')}`,
        ),
    ).optional(),
  })
  .strict();
export type RuleMatch = z.infer<typeof RuleMatch>;

/** runPeriod: the period the run books for; invoiceMonth: the month of the invoice date. */
export const AccountPeriodChoice = z.enum(['runPeriod', 'invoiceMonth']);
export type AccountPeriodChoice = z.infer<typeof AccountPeriodChoice>;

const RuleName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'name must be 1-64 letters, digits, "_", "." or "-"');

export const AccountingRule = z.discriminatedUnion('action', [
  z
    .object({
      name: RuleName,
      description: z.string().max(200).optional(),
      match: RuleMatch,
      action: z.literal('book'),
      accountPeriod: AccountPeriodChoice.default('runPeriod'),
    })
    .strict(),
  z
    .object({
      name: RuleName,
      description: z.string().max(200).optional(),
      match: RuleMatch,
      action: z.literal('skip'),
    })
    .strict(),
]);
export type AccountingRule = z.infer<typeof AccountingRule>;

export const AccountingRules = z
  .object({
    $schema: z.string().optional(),
    rules: z.array(AccountingRule).min(1, 'list at least one rule'),
  })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>();
    file.rules.forEach((rule, i) => {
      const first = seen.get(rule.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'name'],
          message: `duplicate rule name (also rules[${first}])`,
        });
      } else seen.set(rule.name, i);
    });
  });
export type AccountingRules = z.infer<typeof AccountingRules>;

/** Rules-file errors naming the rule and the field, one per line. */
export function describeRulesError(error: z.ZodError, raw: unknown): string {
  const rules = (raw as { rules?: unknown } | null)?.rules;
  return zodErrorLines(error, (path) => {
    const [top, index, ...rest] = path;
    if (top !== 'rules' || typeof index !== 'number') return path.map(String).join('.') || '(file)';
    const name = Array.isArray(rules) ? (rules[index] as { name?: unknown } | undefined)?.name : undefined;
    const label = typeof name === 'string' ? `rule "${name}" (rules[${index}])` : `rules[${index}]`;
    const field = rest.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    return `${label}${field ? ` field ${field.replace(/^\./, '')}` : ''}`;
  }).join('\n');
}

export class AccountingRulesError extends Error {
  override name = 'AccountingRulesError';
}

/** Parses a rules document, or throws AccountingRulesError listing every problem. */
export function parseAccountingRules(raw: unknown, source = 'accounting rules'): AccountingRules {
  const parsed = AccountingRules.safeParse(raw);
  if (!parsed.success) {
    throw new AccountingRulesError(`${source} is invalid:\n${describeRulesError(parsed.error, raw)}`);
  }
  return parsed.data;
}
