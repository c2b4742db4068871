import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { AccountingRulesError, type AccountingRules } from '../config/accountingRulesSchema.js';
import { loadAccountingRulesFile } from '../config/loadAccountingRules.js';
import { AccountResultCode, AccountStatus } from '../protocol/codes.js';
import type { AccountInvoiceLine, InvoiceAccountQueryReply, PoolInvoice } from '../protocol/interfaces.js';
import { analyzeRules, decide, formatRuleAnalysis } from '../rules/autoAccounting.js';
import { classified } from './failures.js';
import type { InvoiceCloudClient } from './invoiceCloudClient.js';
import { stableRequestId } from './requestIds.js';

export interface AccountingActivityDeps {
  client: InvoiceCloudClient;
  /** The worker's rules file, used when a run carries no rules of its own. */
  rulesFile?: string;
}

export const ACCOUNTING_RULES_INVALID = 'AccountingRulesInvalid';

export interface BookingLine extends AccountInvoiceLine {
  rule: string;
}

export interface AccountingPlan {
  rulesSource: string;
  examined: number;
  toBook: BookingLine[];
  skippedByRule: Record<string, number>;
  noRule: number;
  conflicts: number;
  deferred: number;
  /** Combinations the rules leave uncovered (0 = complete rules). */
  uncoveredCombinations: number;
}

const POOL_PAGE_SIZE = 1000;

/** Reads every unbooked invoice of the taxpayer's pool. */
export async function readUnbookedPool(client: InvoiceCloudClient, taxNo: string): Promise<PoolInvoice[]> {
  const invoices: PoolInvoice[] = [];
  for (let pageNo = 1; ; pageNo++) {
    const page = await client.call('invoicePoolQuery', {
      taxNo,
      accountStatus: AccountStatus.NotBooked,
      pageNo,
      pageSize: POOL_PAGE_SIZE,
    });
    invoices.push(...page.invoices);
    if (invoices.length >= page.total || page.invoices.length === 0) return invoices;
  }
}

/** What the rules decide for each unbooked invoice, in a stable order (date, code, number). */
export function planBookings(
  rules: AccountingRules,
  pool: readonly PoolInvoice[],
  accountPeriod: string,
  maxInvoices: number,
): Omit<AccountingPlan, 'rulesSource' | 'uncoveredCombinations'> {
  const plan = { examined: pool.length, toBook: [] as BookingLine[], skippedByRule: {} as Record<string, number> };
  let noRule = 0;
  let conflicts = 0;
  const sorted = [...pool].sort(
    (a, b) =>
      a.invoiceDate.localeCompare(b.invoiceDate) ||
      a.invoiceCode.localeCompare(b.invoiceCode) ||
      a.invoiceNo.localeCompare(b.invoiceNo),
  );
  for (const invoice of sorted) {
    const decision = decide(rules, invoice, accountPeriod);
    if (decision.kind === 'book') {
      plan.toBook.push({
        invoiceCode: invoice.invoiceCode,
        invoiceNo: invoice.invoiceNo,
        accountPeriod: decision.accountPeriod,
        rule: decision.rule,
      });
    } else if (decision.kind === 'skip') {
      plan.skippedByRule[decision.rule] = (plan.skippedByRule[decision.rule] ?? 0) + 1;
    } else if (decision.kind === 'no-rule') noRule++;
    else conflicts++;
  }
  const deferred = Math.max(0, plan.toBook.length - maxInvoices);
  return { ...plan, toBook: plan.toBook.slice(0, maxInvoices), noRule, conflicts, deferred };
}

/** Auto-accounting (自动入账, 补充说明 2): plan by the rules, book in batches, collect the results. */
export function createAccountingActivities({ client, rulesFile }: AccountingActivityDeps) {
  async function resolveRules(
    inline: AccountingRules | undefined,
  ): Promise<{ rules: AccountingRules; source: string }> {
    if (inline) return { rules: inline, source: 'workflow input' };
    if (!rulesFile) {
      throw ApplicationFailure.nonRetryable(
        'No accounting rules: the run carries none and the worker has no ACCOUNTING_RULES_FILE',
        ACCOUNTING_RULES_INVALID,
      );
    }
    try {
      return { rules: await loadAccountingRulesFile(rulesFile), source: rulesFile };
    } catch (error) {
      if (error instanceof AccountingRulesError)
        throw ApplicationFailure.nonRetryable(error.message, ACCOUNTING_RULES_INVALID);
      throw error;
    }
  }

  return {
    /** Loads and checks the rules, reads the unbooked pool and decides each invoice. */
    async planAccounting(input: {
      taxNo: string;
      accountPeriod: string;
      rules?: AccountingRules;
      maxInvoices: number;
    }): Promise<AccountingPlan> {
      const { rules, source } = await resolveRules(input.rules);
      const analysis = analyzeRules(rules);
      if (analysis.overlaps.length > 0) {
        throw ApplicationFailure.nonRetryable(
          `Accounting rules (${source}) decide some invoices two ways; nothing was booked.\n${formatRuleAnalysis(analysis)}`,
          ACCOUNTING_RULES_INVALID,
        );
      }
      const pool = await classified(`pool query for ${input.taxNo}`, () => readUnbookedPool(client, input.taxNo));
      Context.current().heartbeat({ poolRead: pool.length });
      const plan = planBookings(rules, pool, input.accountPeriod, input.maxInvoices);
      Context.current().log.info('Accounting planned', {
        taxNo: input.taxNo,
        accountPeriod: input.accountPeriod,
        examined: plan.examined,
        toBook: plan.toBook.length,
      });
      return { ...plan, rulesSource: source, uncoveredCombinations: analysis.uncovered };
    },

    /**
     * invoiceAccount: books one batch. A retry after a lost reply sends the batch again (nothing
     * documents requestId de-duplication): the bureau answers its already booked invoices 3 and
     * books nothing twice, but the report counts them as failed. Reading the pool's accountStatus
     * first, as the deduction writes read before they send, is still to be done (docs/assumptions.md).
     */
    async submitAccountingBatch(input: { taxNo: string; lines: AccountInvoiceLine[] }): Promise<{ taskNo: string }> {
      return classified(`accounting batch for ${input.taxNo}`, async () => {
        const accepted = await client.call(
          'invoiceAccount',
          {
            taxNo: input.taxNo,
            asyncFlag: '1',
            invoices: input.lines.map(({ invoiceCode, invoiceNo, accountPeriod }) => ({
              invoiceCode,
              invoiceNo,
              accountPeriod,
            })),
          },
          stableRequestId('account', ...input.lines.map((l) => `${l.invoiceCode}/${l.invoiceNo}/${l.accountPeriod}`)),
        );
        return { taskNo: accepted.taskNo };
      });
    },

    /** invoiceAccountQuery. Throws BureauTaskPending while the task is processing (6910). */
    async awaitAccountingResult(input: { taxNo: string; taskNo: string }): Promise<InvoiceAccountQueryReply> {
      return classified(`accounting result ${input.taskNo} for ${input.taxNo}`, () =>
        client.call('invoiceAccountQuery', { taxNo: input.taxNo, taskNo: input.taskNo }),
      );
    },
  };
}

export type AccountingActivities = ReturnType<typeof createAccountingActivities>;

/** A booking line that did not book (anything but 1). */
export const isBooked = (resultCode: number) => resultCode === AccountResultCode.Booked;
