import type { AccountingRules } from './accountingRulesSchema.js';
import type { AccountInvoiceLine, PoolInvoice } from '../protocol/interfaces.js';
import { decide } from './autoAccounting.js';
import { chunk } from './selectionPolicy.js';

/**
 * Auto-accounting page by page: where a page of the unbooked pool starts, what the rules
 * decide for its invoices, and how its bookings are batched. Pure: the activity reads and sends.
 *
 * The pool query answers in (invoiceDate, invoiceCode, invoiceNo) order (docs/assumptions.md), and
 * booking takes an invoice out of the unbooked pool, so a page number is no position to come back
 * to. A page is found by its key instead: the unbooked invoices after the last one decided, read
 * from that invoice's date on.
 */
export interface PoolKey {
  invoiceDate: string;
  invoiceCode: string;
  invoiceNo: string;
}

export const keyOf = (i: PoolKey): PoolKey => ({
  invoiceDate: i.invoiceDate,
  invoiceCode: i.invoiceCode,
  invoiceNo: i.invoiceNo,
});

/** The pool query's order: by date, code and number, compared as the bureau's SQL does (code points). */
export function compareKeys(a: PoolKey, b: PoolKey): number {
  const by = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return by(a.invoiceDate, b.invoiceDate) || by(a.invoiceCode, b.invoiceCode) || by(a.invoiceNo, b.invoiceNo);
}

export const isAfter = (key: PoolKey, cursor: PoolKey | undefined) => !cursor || compareKeys(key, cursor) > 0;

export const describeKey = (k: PoolKey) => `${k.invoiceDate} ${k.invoiceCode ? `${k.invoiceCode}/` : ''}${k.invoiceNo}`;

/**
 * The first out-of-order invoice of a page read after `previous` (the last invoice of the page
 * before), or undefined when the page keeps the order paging relies on.
 */
export function outOfOrder(rows: readonly PoolKey[], previous?: PoolKey): { row: PoolKey; after: PoolKey } | undefined {
  let last = previous;
  for (const row of rows) {
    if (last && compareKeys(row, last) <= 0) return { row, after: last };
    last = row;
  }
  return undefined;
}

/**
 * The page to ask for first when the invoices at or before the cursor on its date, which stayed
 * unbooked, are `kept` (a lower bound): every page before it holds only those.
 */
export function firstPageNo(kept: number, pageSize: number): number {
  return Math.floor(Math.max(0, kept) / pageSize) + 1;
}

/** Counts of a page: what the rules left unbooked, by reason. */
export interface PageCounts {
  skippedByRule: Record<string, number>;
  noRule: number;
  conflicts: number;
}

export const emptyCounts = (): PageCounts => ({ skippedByRule: {}, noRule: 0, conflicts: 0 });

export function addCounts(into: PageCounts, more: PageCounts): PageCounts {
  for (const [rule, n] of Object.entries(more.skippedByRule))
    into.skippedByRule[rule] = (into.skippedByRule[rule] ?? 0) + n;
  into.noRule += more.noRule;
  into.conflicts += more.conflicts;
  return into;
}

export interface BookingLine extends AccountInvoiceLine {
  rule: string;
}

export interface DecidedPage extends PageCounts {
  /** What the rules book, in pool order (before the run's limit is applied). */
  toBook: BookingLine[];
  /** Invoices dated `endDate` that the rules leave unbooked. */
  leftOnEndDate: number;
}

/**
 * What the rules decide for each invoice of a page, booking into `runPeriod` where a rule says so.
 * `endDate` is the date of the page's last invoice (given when that invoice may be gone).
 */
export function decidePage(
  rules: AccountingRules,
  rows: readonly PoolInvoice[],
  runPeriod: string,
  endDate = rows.at(-1)?.invoiceDate,
): DecidedPage {
  const page: DecidedPage = { ...emptyCounts(), toBook: [], leftOnEndDate: 0 };
  for (const invoice of rows) {
    const decision = decide(rules, invoice, runPeriod);
    if (decision.kind === 'book') {
      page.toBook.push({
        invoiceCode: invoice.invoiceCode,
        invoiceNo: invoice.invoiceNo,
        accountPeriod: decision.accountPeriod,
        rule: decision.rule,
      });
      continue;
    }
    if (decision.kind === 'skip') page.skippedByRule[decision.rule] = (page.skippedByRule[decision.rule] ?? 0) + 1;
    else if (decision.kind === 'no-rule') page.noRule++;
    else page.conflicts++;
    if (invoice.invoiceDate === endDate) page.leftOnEndDate++;
  }
  return page;
}

/** A booking line's identity as kept in heartbeat details (short, independent of the period). */
export type LineKey = (line: Pick<AccountInvoiceLine, 'invoiceCode' | 'invoiceNo'>) => string;

export interface SentBefore {
  /** Keys of lines an earlier attempt sent and got a taskNo for. */
  sent: ReadonlySet<string>;
  sentCount: number;
  /** The batch an earlier attempt sent without hearing back, if any. */
  inFlight?: { rule: string; keys: readonly string[] };
}

export interface PageBookings {
  /** The unanswered batch's lines the pool still shows unbooked: sent again, as one batch. */
  resend: BookingLine[];
  /** The unanswered batch's lines the pool shows booked: booked by that request. */
  confirmed: number;
  /** Lines never sent, up to the run's limit. */
  fresh: BookingLine[];
  /** Lines over the run's limit: left for the next run. */
  deferred: number;
}

/**
 * What a page books now, given what earlier attempts of it sent (read before write): lines that
 * got a taskNo are not sent again; of a batch that got no answer, the lines the pool shows booked
 * count as booked and the rest is sent again; the rest of the page fills what is left of `limit`.
 * `toBook` is what the rules book among the invoices the pool shows unbooked now.
 */
export function pageBookings(
  toBook: readonly BookingLine[],
  before: SentBefore,
  limit: number,
  keyOfLine: LineKey,
): PageBookings {
  const inFlight = new Set(before.inFlight?.keys ?? []);
  const resend: BookingLine[] = [];
  const candidates: BookingLine[] = [];
  for (const line of toBook) {
    const key = keyOfLine(line);
    if (before.sent.has(key)) continue;
    if (inFlight.has(key)) resend.push(line);
    else candidates.push(line);
  }
  const confirmed = inFlight.size - resend.length;
  const room = Math.max(0, limit - before.sentCount - inFlight.size);
  const fresh = candidates.slice(0, room);
  return { resend, confirmed, fresh, deferred: candidates.length - fresh.length };
}

/** Batches of one rule each (so a task's results count for that rule), at most `batchSize` lines. */
export function batchesByRule(
  lines: readonly BookingLine[],
  batchSize: number,
): { rule: string; lines: BookingLine[] }[] {
  const byRule = new Map<string, BookingLine[]>();
  for (const line of lines) {
    const ruleLines = byRule.get(line.rule);
    if (ruleLines) ruleLines.push(line);
    else byRule.set(line.rule, [line]);
  }
  return [...byRule].flatMap(([rule, ruleLines]) =>
    chunk(ruleLines, batchSize).map((batch) => ({ rule, lines: batch })),
  );
}
