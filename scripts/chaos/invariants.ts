import { GatewayCode, SelectResultCode, StatisticStatus } from '../../protocol/codes.js';
import type { LedgerRecord } from '../../simulator/adminClient.js';

/**
 * The chaos run's invariants, computed from plain data only: the bureau's ledger of write
 * requests that reached it (accepted or refused, with the settled tasks' results), the sandbox's
 * pool and statistic tables, Temporal's describe status of each month, and the approvals the
 * test approver sent. Nothing here asks the product what it did, and money is summed here in
 * integer cents (BigInt), not with the product's helpers. Pure: the unit tests feed it by hand.
 */

/** A write request that reached the bureau, as the sandbox admin API's ledger gives it. */
// The fields the invariants read; the admin API's record has a few more (id, invoiceNos, outcome).
export type LedgerWrite = Omit<LedgerRecord, 'id' | 'invoiceNos' | 'outcome'>;

export interface Totals {
  deductibleCount: number;
  deductibleAmount: string;
  deductibleTax: string;
}

/** One taxpayer-month of the run, as Temporal and the bureau show it. */
export interface MonthEvidence {
  taxNo: string;
  period: string;
  /** Temporal's describe status of the month's workflow (RUNNING when it never closed). */
  workflowStatus: string;
  /** The totals in the workflow's result, when it completed with a statistic. */
  workflowTotals?: Totals;
  /** The period's statistic table as the bureau holds it (per invoice type). */
  bureau: { statisticStatus: string; items: Totals[] };
  /** The pool, for the amounts of the invoices. */
  pool: { invoiceCode: string; invoiceNo: string; invoiceAmount: string }[];
}

/** An approval signal the test approver sent. */
export interface ApprovalSent {
  taxNo: string;
  period: string;
  /** Real time (ms epoch) just before the approval was sent. */
  sentAt: number;
  /** True when Temporal accepted the signal; false when the call failed after it may have been sent. */
  accepted: boolean;
}

export interface ChaosEvidence {
  months: MonthEvidence[];
  /** Every write request that reached the bureau, refused ones included, oldest first. */
  ledger: LedgerWrite[];
  approvals: ApprovalSent[];
  /** Sandbox clock minus real time: a ledger time minus this is real time. */
  sandboxClockOffsetMs: number;
}

export interface InvariantResult {
  name: string;
  held: boolean;
  detail: string;
  /** What broke it, one line each (at most the first 20 are kept in the detail). */
  violations: string[];
}

const monthKey = (taxNo: string, period: string) => `${taxNo}|${period}`;
const invoiceKey = (i: { invoiceCode: string; invoiceNo: string }) => `${i.invoiceCode}|${i.invoiceNo}`;

/** Per-invoice results a selection task can answer that mean "send it again" (35 selecting, 36 login lapsed). */
export const RETRY_SELECT_CODES: readonly number[] = [SelectResultCode.Selecting, SelectResultCode.BureauLoginFailed];

const SELECT_WRITES = ['invoiceSelect', 'preSelectConfirm'];

function resultCodes(taskResult: unknown): Map<string, number> {
  const lines = (taskResult as { lines?: { invoiceCode?: string; invoiceNo?: string; resultCode?: unknown }[] } | null)
    ?.lines;
  const codes = new Map<string, number>();
  for (const line of Array.isArray(lines) ? lines : []) {
    if (typeof line.invoiceNo === 'string' && typeof line.resultCode === 'number') {
      codes.set(invoiceKey({ invoiceCode: line.invoiceCode ?? '', invoiceNo: line.invoiceNo }), line.resultCode);
    }
  }
  return codes;
}

interface Selection {
  purpose: string;
  effectiveTaxAmount: string;
}

/**
 * Replays the accepted select requests in the order they reached the bureau: the invoices each
 * month ends with selected (per the tasks' per-invoice results), and every invoice sent again
 * after a request whose result for it was not "retry" (a cancellation reopens it).
 */
export function replaySelections(ledger: readonly LedgerWrite[]): {
  selected: Map<string, Map<string, Selection>>;
  resentAfterFinalResult: string[];
} {
  const selected = new Map<string, Map<string, Selection>>();
  /** invoice (taxpayer, period, invoice) → the request whose non-retry result closed it. */
  const closedBy = new Map<string, { requestId: string; result: string }>();
  const resent: string[] = [];
  for (const w of ledger) {
    if (!w.accepted || !SELECT_WRITES.includes(w.interfaceCode)) continue;
    const month = monthKey(w.taxNo, w.period);
    const monthSelection = selected.get(month) ?? new Map<string, Selection>();
    selected.set(month, monthSelection);
    const codes = resultCodes(w.taskResult);
    const cancel = w.selectAction === 'cancel';
    for (const inv of w.invoices) {
      const key = invoiceKey(inv);
      const at = `${month}|${key}`;
      const code = codes.get(key);
      if (cancel) {
        closedBy.delete(at);
        if (code === SelectResultCode.Ok) monthSelection.delete(key);
        continue;
      }
      const closed = closedBy.get(at);
      if (closed) {
        resent.push(
          `${w.taxNo} ${w.period} invoice ${inv.invoiceNo}: sent again in request ${w.requestId} after request ${closed.requestId} answered ${closed.result}`,
        );
      }
      if (code !== undefined && RETRY_SELECT_CODES.includes(code)) closedBy.delete(at);
      else
        closedBy.set(at, {
          requestId: w.requestId,
          result: code === undefined ? 'nothing yet (task unsettled)' : String(code),
        });
      if (code === SelectResultCode.Ok) {
        monthSelection.set(key, { purpose: inv.purpose ?? '', effectiveTaxAmount: inv.effectiveTaxAmount ?? '' });
      }
    }
  }
  return { selected, resentAfterFinalResult: resent };
}

function result(name: string, violations: string[], heldDetail: string): InvariantResult {
  const shown = violations.slice(0, 20);
  const more = violations.length > shown.length ? `; and ${violations.length - shown.length} more` : '';
  return {
    name,
    held: violations.length === 0,
    detail: violations.length === 0 ? heldDetail : `${violations.length} violations: ${shown.join('; ')}${more}`,
    violations,
  };
}

/** (a) No invoice is sent to the bureau again once a select request got a final answer for it. */
export function noInvoiceSelectedTwice(e: ChaosEvidence): InvariantResult {
  const writes = e.ledger.filter((w) => w.accepted && SELECT_WRITES.includes(w.interfaceCode));
  const lines = writes.reduce((n, w) => n + w.invoices.length, 0);
  const { resentAfterFinalResult } = replaySelections(e.ledger);
  return result(
    'no invoice sent again after a final select result',
    resentAfterFinalResult,
    `${writes.length} select requests, ${lines} invoice lines, none resent after a final result`,
  );
}

/** (b) Exactly one generate request per month that needed one; none while the table was generating (21). */
export function oneStatisticGeneration(e: ChaosEvidence): InvariantResult {
  const { selected } = replaySelections(e.ledger);
  const violations: string[] = [];
  let generated = 0;
  for (const m of e.months) {
    const creates = e.ledger.filter(
      (w) => w.interfaceCode === 'statisticCreate' && w.taxNo === m.taxNo && w.period === m.period,
    );
    const generates = creates.filter((w) => w.operateType === '1');
    // A revoke the bureau accepted allows one generation more (none happens in a chaos run).
    const revokes = creates.filter((w) => w.operateType === '2' && w.accepted).length;
    const needed = (selected.get(monthKey(m.taxNo, m.period))?.size ?? 0) > 0;
    generated += generates.length;
    if (needed && generates.length === 0)
      violations.push(`${m.taxNo} ${m.period}: selected invoices, no generate request`);
    if (generates.length > 1 + revokes) {
      violations.push(`${m.taxNo} ${m.period}: ${generates.length} generate requests (${revokes} revokes)`);
    }
    for (const w of generates.filter((g) => g.statisticStatus === StatisticStatus.Generating)) {
      violations.push(`${m.taxNo} ${m.period}: generate request ${w.requestId} arrived while the table was generating`);
    }
  }
  return result(
    'one statistic generation per month that needed one',
    violations,
    `${generated} generate requests for ${e.months.length} months, none while generating`,
  );
}

/** Confirm requests that count: every one that reached the bureau but those refused as "not yet open". */
const countedConfirms = (e: ChaosEvidence, m: { taxNo: string; period: string }) =>
  e.ledger.filter(
    (w) =>
      w.interfaceCode === 'statisticConfirm' &&
      w.taxNo === m.taxNo &&
      w.period === m.period &&
      w.refusal?.code !== GatewayCode.ConfirmationNotOpen,
  );

/** (c) Exactly one confirm request per taxpayer-period. */
export function oneConfirmation(e: ChaosEvidence): InvariantResult {
  const violations: string[] = [];
  for (const m of e.months) {
    const confirms = countedConfirms(e, m);
    if (confirms.length !== 1) {
      const how = confirms.map((w) => (w.accepted ? 'accepted' : `refused ${w.refusal?.code}`)).join(', ');
      violations.push(`${m.taxNo} ${m.period}: ${confirms.length} confirm requests${how ? ` (${how})` : ''}`);
    }
  }
  return result(
    'exactly one confirm request per taxpayer and period',
    violations,
    `${e.months.length}/${e.months.length} months confirmed by exactly one request`,
  );
}

/** Integer cents of a decimal amount with at most two decimals, or undefined. */
export function cents(amount: string): bigint | undefined {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(amount.trim());
  if (!m) return undefined;
  const value = BigInt(m[2]!) * 100n + BigInt((m[3] ?? '').padEnd(2, '0'));
  return m[1] === '-' ? -value : value;
}

const yuan = (c: bigint) => {
  const sign = c < 0n ? '-' : '';
  const abs = c < 0n ? -c : c;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
};

interface CentTotals {
  count: number;
  amount: bigint;
  tax: bigint;
}
const showTotals = (t: CentTotals) => `${t.count} invoices, ${yuan(t.amount)} / tax ${yuan(t.tax)}`;

/** (d) The bureau's confirmed table and the workflow's totals equal the sum of what the ledger shows selected. */
export function moneyMatches(e: ChaosEvidence): InvariantResult {
  const { selected } = replaySelections(e.ledger);
  const violations: string[] = [];
  let total: CentTotals = { count: 0, amount: 0n, tax: 0n };
  for (const m of e.months) {
    const where = `${m.taxNo} ${m.period}`;
    const amounts = new Map(m.pool.map((i) => [invoiceKey(i), i.invoiceAmount]));
    const expected: CentTotals = { count: 0, amount: 0n, tax: 0n };
    for (const [key, s] of selected.get(monthKey(m.taxNo, m.period)) ?? []) {
      if (s.purpose !== '1') continue;
      const amount = amounts.get(key);
      const amountCents = amount === undefined ? undefined : cents(amount);
      const taxCents = cents(s.effectiveTaxAmount);
      if (amountCents === undefined || taxCents === undefined) {
        violations.push(
          `${where}: invoice ${key} has no usable amount (${amount ?? 'not in the pool'} / ${s.effectiveTaxAmount})`,
        );
        continue;
      }
      expected.count += 1;
      expected.amount += amountCents;
      expected.tax += taxCents;
    }
    total = {
      count: total.count + expected.count,
      amount: total.amount + expected.amount,
      tax: total.tax + expected.tax,
    };

    const compare = (what: string, lines: Totals[]) => {
      const got: CentTotals = { count: 0, amount: 0n, tax: 0n };
      for (const line of lines) {
        const amount = cents(line.deductibleAmount);
        const tax = cents(line.deductibleTax);
        if (amount === undefined || tax === undefined) {
          violations.push(
            `${where}: ${what} has an unreadable amount (${line.deductibleAmount} / ${line.deductibleTax})`,
          );
          return;
        }
        got.count += line.deductibleCount;
        got.amount += amount;
        got.tax += tax;
      }
      if (got.count !== expected.count || got.amount !== expected.amount || got.tax !== expected.tax) {
        violations.push(`${where}: ${what} ${showTotals(got)}, the ledger's selection ${showTotals(expected)}`);
      }
    };
    if (m.bureau.statisticStatus !== StatisticStatus.Confirmed) {
      violations.push(`${where}: the bureau's table is not confirmed (status ${m.bureau.statisticStatus})`);
    } else compare("the bureau's confirmed table", m.bureau.items);
    if (!m.workflowTotals) violations.push(`${where}: the workflow has no totals (status ${m.workflowStatus})`);
    else compare("the workflow's result", [m.workflowTotals]);
  }
  return result(
    "confirmed table = ledger's selection = workflow's totals",
    violations,
    `${e.months.length} months, ${showTotals(total)} deductible in all`,
  );
}

/** (e) Every month closed COMPLETED in Temporal, and the bureau shows its period confirmed. */
export function everyMonthCompletedAndConfirmed(e: ChaosEvidence): InvariantResult {
  const violations: string[] = [];
  for (const m of e.months) {
    if (m.workflowStatus !== 'COMPLETED') violations.push(`${m.taxNo} ${m.period}: workflow ${m.workflowStatus}`);
    if (m.bureau.statisticStatus !== StatisticStatus.Confirmed) {
      violations.push(`${m.taxNo} ${m.period}: bureau statistic status ${m.bureau.statisticStatus}, not confirmed`);
    }
  }
  const completed = e.months.filter((m) => m.workflowStatus === 'COMPLETED').length;
  const confirmed = e.months.filter((m) => m.bureau.statisticStatus === StatisticStatus.Confirmed).length;
  return result(
    'every month COMPLETED in Temporal and confirmed at the bureau',
    violations,
    `${completed}/${e.months.length} COMPLETED, ${confirmed}/${e.months.length} confirmed at the bureau`,
  );
}

/** (f) Each accepted approval led to exactly one bureau confirmation; no confirm request came before an approval. */
export function noApprovalLost(e: ChaosEvidence): InvariantResult {
  const violations: string[] = [];
  let accepted = 0;
  for (const m of e.months) {
    const where = `${m.taxNo} ${m.period}`;
    const sent = e.approvals.filter((a) => a.taxNo === m.taxNo && a.period === m.period);
    const confirmedBy = e.ledger.filter(
      (w) =>
        w.interfaceCode === 'statisticConfirm' &&
        w.taxNo === m.taxNo &&
        w.period === m.period &&
        w.accepted &&
        (w.taskResult as { success?: unknown } | null)?.success === true,
    );
    if (sent.some((a) => a.accepted)) {
      accepted += 1;
      if (confirmedBy.length !== 1) {
        violations.push(`${where}: an accepted approval, ${confirmedBy.length} bureau confirmations`);
      }
    }
    const firstSent = Math.min(...sent.map((a) => a.sentAt));
    for (const w of e.ledger.filter(
      (x) => x.interfaceCode === 'statisticConfirm' && x.taxNo === m.taxNo && x.period === m.period,
    )) {
      const arrived = Date.parse(w.time) - e.sandboxClockOffsetMs;
      if (!(arrived >= firstSent)) {
        violations.push(
          `${where}: confirm request ${w.requestId} ${sent.length === 0 ? 'without any approval' : 'before the first approval was sent'}`,
        );
      }
    }
  }
  return result(
    'no approval lost, no confirmation without one',
    violations,
    `${accepted} accepted approvals, each confirmed exactly once; no confirm request before an approval`,
  );
}

export function checkInvariants(e: ChaosEvidence): InvariantResult[] {
  return [
    everyMonthCompletedAndConfirmed(e),
    noInvoiceSelectedTwice(e),
    oneStatisticGeneration(e),
    oneConfirmation(e),
    moneyMatches(e),
    noApprovalLost(e),
  ];
}
