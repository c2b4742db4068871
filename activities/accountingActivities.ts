import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { AccountingRulesError, type AccountingRules } from '../rules/accountingRulesSchema.js';
import { loadAccountingRulesFile } from './accountingRulesFile.js';
import { AccountResultCode, AccountStatus } from '../protocol/codes.js';
import type { AccountInvoiceLine, InvoiceAccountQueryReply, PoolInvoice } from '../protocol/interfaces.js';
import type { BookingLine } from '../rules/accountingPages.js';
import { analyzeRules, decide, formatRuleAnalysis } from '../rules/autoAccounting.js';
import { FailureType } from '../protocol/failureTypes.js';
import { createPoolPageBooking } from './accountingPager.js';
import { classified } from './failures.js';
import type { InvoiceCloudClient } from './invoiceCloudClient.js';
import { stableRequestId } from './requestIds.js';

export type { BookingLine };
export type { BookPageInput, BookPageResult, BookedTask } from './accountingPager.js';

export interface AccountingActivityDeps {
  client: InvoiceCloudClient;
  /** The worker's rules file, used when a run carries no rules of its own. */
  rulesFile?: string;
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

/** Reads every unbooked invoice of the taxpayer's pool; `onPage` after each page (e.g. a heartbeat). */
export async function readUnbookedPool(
  client: InvoiceCloudClient,
  taxNo: string,
  onPage: (read: number) => void = () => undefined,
): Promise<PoolInvoice[]> {
  const invoices: PoolInvoice[] = [];
  for (let pageNo = 1; ; pageNo++) {
    const page = await client.call('invoicePoolQuery', {
      taxNo,
      accountStatus: AccountStatus.NotBooked,
      pageNo,
      pageSize: POOL_PAGE_SIZE,
    });
    invoices.push(...page.invoices);
    onPage(invoices.length);
    if (invoices.length >= page.total || page.invoices.length === 0) return invoices;
  }
}

/** What one accounting task did: counts, and the first failures (the rule is the task's). */
export interface AccountingTally {
  taskNo: string;
  total: number;
  booked: number;
  failed: number;
  failures: { invoiceCode: string; invoiceNo: string; resultCode: number; resultMsg: string }[];
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
        FailureType.AccountingRulesInvalid,
      );
    }
    try {
      return { rules: await loadAccountingRulesFile(rulesFile), source: rulesFile };
    } catch (error) {
      if (error instanceof AccountingRulesError)
        throw ApplicationFailure.nonRetryable(error.message, FailureType.AccountingRulesInvalid);
      throw error;
    }
  }

  /** The run's rules, refused when they decide some invoices two ways. */
  async function checkedRules(inline: AccountingRules | undefined) {
    const { rules, source } = await resolveRules(inline);
    const analysis = analyzeRules(rules);
    if (analysis.overlaps.length > 0) {
      throw ApplicationFailure.nonRetryable(
        `Accounting rules (${source}) decide some invoices two ways; nothing was booked.\n${formatRuleAnalysis(analysis)}`,
        FailureType.AccountingRulesInvalid,
      );
    }
    return { rules, source, analysis };
  }

  return {
    /** The run's rules (its own, or the worker's file), checked once for the whole run. */
    async prepareAccounting(input: {
      rules?: AccountingRules;
    }): Promise<{ rules: AccountingRules; rulesSource: string; uncoveredCombinations: number }> {
      const { rules, source, analysis } = await checkedRules(input.rules);
      return { rules, rulesSource: source, uncoveredCombinations: analysis.uncovered };
    },

    bookPoolPage: createPoolPageBooking(client),

    /**
     * invoiceAccountQuery, counted: the task's booked and failed lines and its first failures.
     * Throws BureauTaskPending while the task is processing (6910).
     */
    async awaitAccountingTally(input: {
      taxNo: string;
      taskNo: string;
      keepFailures: number;
    }): Promise<AccountingTally> {
      const reply = await classified(`accounting result ${input.taskNo} for ${input.taxNo}`, () =>
        client.call('invoiceAccountQuery', { taxNo: input.taxNo, taskNo: input.taskNo }),
      );
      const failed = reply.invoices.filter((l) => !isBooked(l.resultCode));
      return {
        taskNo: input.taskNo,
        total: reply.invoices.length,
        booked: reply.invoices.length - failed.length,
        failed: failed.length,
        failures: failed
          .slice(0, Math.max(0, input.keepFailures))
          .map(({ invoiceCode, invoiceNo, resultCode, resultMsg }) => ({
            invoiceCode,
            invoiceNo,
            resultCode,
            resultMsg,
          })),
      };
    },

    /**
     * Runs started before paging (patch accounting-paged): loads and checks the rules, reads the
     * whole unbooked pool (a heartbeat per page) and decides each invoice.
     */
    async planAccounting(input: {
      taxNo: string;
      accountPeriod: string;
      rules?: AccountingRules;
      maxInvoices: number;
    }): Promise<AccountingPlan> {
      const { rules, source, analysis } = await checkedRules(input.rules);
      const pool = await classified(`pool query for ${input.taxNo}`, () =>
        readUnbookedPool(client, input.taxNo, (read) => Context.current().heartbeat({ poolRead: read })),
      );
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
     * Runs started before paging: invoiceAccount, one batch. A retry after a lost reply sends the
     * batch again (nothing documents requestId de-duplication): the bureau answers its already
     * booked invoices 3 and books nothing twice, but the report counts them as failed. Paged runs
     * read the pool before they resend (bookPoolPage, docs/assumptions.md).
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

    /** Runs started before paging: invoiceAccountQuery, every line. Throws BureauTaskPending while processing (6910). */
    async awaitAccountingResult(input: { taxNo: string; taskNo: string }): Promise<InvoiceAccountQueryReply> {
      return classified(`accounting result ${input.taskNo} for ${input.taxNo}`, () =>
        client.call('invoiceAccountQuery', { taxNo: input.taxNo, taskNo: input.taskNo }),
      );
    },
  };
}

export type AccountingActivities = ReturnType<typeof createAccountingActivities>;

/** Whether a booking line booked (1; anything else did not). */
export const isBooked = (resultCode: number) => resultCode === AccountResultCode.Booked;
