import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { AccountingRules } from '../rules/accountingRulesSchema.js';
import { AccountStatus } from '../protocol/codes.js';
import { describeZodError, type PoolInvoice } from '../protocol/interfaces.js';
import {
  addCounts,
  batchesByRule,
  compareKeys,
  decidePage,
  describeKey,
  emptyCounts,
  firstPageNo,
  isAfter,
  keyOf,
  outOfOrder,
  pageBookings,
  type BookingLine,
  type PageCounts,
  type PoolKey,
} from '../rules/accountingPages.js';
import { FailureType } from '../protocol/failureTypes.js';
import { classified } from './failures.js';
import type { InvoiceCloudClient } from './invoiceCloudClient.js';
import { stableRequestId } from './requestIds.js';
import { sentKey } from './selectionProgress.js';
import { throwIfAbandoned } from './writeIntent.js';

/** The pool query's largest page. */
export const MAX_POOL_PAGE_SIZE = 1000;

export interface BookPageInput {
  taxNo: string;
  accountPeriod: string;
  rules: AccountingRules;
  batchSize: number;
  /** Lines the run may still book (maxInvoicesPerRun less what earlier pages booked). */
  limit: number;
  /** The last invoice earlier pages decided; absent on the first page. */
  after?: PoolKey;
  /** Invoices at or before `after` on its date that stayed unbooked (a lower bound; where reading starts). */
  keptOnDate?: number;
  /** Invoices per pool query (default and maximum 1000). */
  pageSize?: number;
}

export interface BookedTask {
  taskNo: string;
  /** Every line of the task was booked by this rule. */
  rule: string;
  lines: number;
}

/** One page booked (or the rest of the pool counted): counts only, never invoice lists. */
export interface BookPageResult extends PageCounts {
  examined: number;
  deferred: number;
  tasks: BookedTask[];
  /** Lines of a batch whose answer was lost that the pool then showed booked, by rule. */
  confirmedByRule: Record<string, number>;
  /** The last invoice decided: where the next page starts. */
  through?: PoolKey;
  keptOnDate: number;
  /** Nothing unbooked is left after `through`. */
  done: boolean;
  poolReads: number;
}

const Key = z.object({ invoiceDate: z.string(), invoiceCode: z.string(), invoiceNo: z.string() });
const Count = z.number().int().nonnegative();
const Batch = z.object({ rule: z.string(), keys: z.array(z.string()) });

/**
 * A page's progress, kept in the activity's heartbeat details so that a retried attempt resumes
 * where the failed one stopped. Temporal keeps a failed attempt's last details; a worker killed
 * before its heartbeat left loses the last batch's taskNo, and the pool's accounting status covers
 * that gap (the batch is not sent again; its invoices are counted by nobody).
 */
const PageProgress = z.object({
  /** Invoices up to this one are decided and counted below. */
  through: Key.optional(),
  keptOnDate: Count,
  examined: Count,
  skippedByRule: z.record(z.string(), Count),
  noRule: Count,
  conflicts: Count,
  deferred: Count,
  poolReads: Count,
  /** The page being booked: the invoices after `through` up to `to`. */
  booking: z
    .object({
      to: Key,
      last: z.boolean(),
      sent: z.array(Batch.extend({ taskNo: z.string() })),
      confirmedByRule: z.record(z.string(), Count),
      /** Sent, no answer yet. */
      inFlight: Batch.optional(),
    })
    .optional(),
});
type PageProgress = z.infer<typeof PageProgress>;
type Booking = NonNullable<PageProgress['booking']>;

const lineKey = (line: Pick<BookingLine, 'invoiceCode' | 'invoiceNo'>) => sentKey(line.invoiceCode, line.invoiceNo);

/**
 * Reads the unbooked pool after a cursor: query pages from the cursor's date on, keeping the
 * invoices after it. Offsets hold only while nothing is booked, so a reader is used until its
 * first booking. Checks the order paging relies on.
 */
class PoolReader {
  private pageNo: number;
  private previous: PoolKey | undefined;
  private reads = 0;

  constructor(
    private readonly client: InvoiceCloudClient,
    private readonly taxNo: string,
    private readonly after: PoolKey | undefined,
    keptOnDate: number,
    private readonly pageSize: number,
    private readonly onRead: () => void,
  ) {
    this.pageNo = after ? firstPageNo(keptOnDate, pageSize) : 1;
  }

  private async read(): Promise<{ rows: PoolInvoice[]; last: boolean }> {
    const reply = await this.client.call('invoicePoolQuery', {
      taxNo: this.taxNo,
      accountStatus: AccountStatus.NotBooked,
      ...(this.after ? { invoiceDateStart: this.after.invoiceDate } : {}),
      pageNo: this.pageNo,
      pageSize: this.pageSize,
    });
    this.reads++;
    this.onRead();
    const first = reply.invoices[0];
    if (this.reads === 1 && this.pageNo > 1 && (!first || isAfter(first, this.after))) {
      // Fewer invoices were kept than the hint said (booked meanwhile): the first page, then.
      this.pageNo = 1;
      return this.read();
    }
    const disorder = outOfOrder(reply.invoices, this.previous);
    if (disorder) {
      throw ApplicationFailure.nonRetryable(
        `invoicePoolQuery for ${this.taxNo} answered ${describeKey(disorder.row)} after ` +
          `${describeKey(disorder.after)} (page ${this.pageNo}): auto-accounting pages the pool by invoice ` +
          'date, code and number and cannot page one in another order (docs/assumptions.md)',
        FailureType.Protocol,
      );
    }
    this.previous = reply.invoices.at(-1) ?? this.previous;
    const last = reply.invoices.length < this.pageSize || this.pageNo * this.pageSize >= reply.total;
    this.pageNo++;
    return { rows: reply.invoices.filter((i) => isAfter(i, this.after)), last };
  }

  /** The next page: at least pageSize unbooked invoices after the cursor, or all that are left. */
  async nextPage(): Promise<{ rows: PoolInvoice[]; last: boolean }> {
    const rows: PoolInvoice[] = [];
    for (;;) {
      const page = await this.read();
      rows.push(...page.rows);
      if (page.last || rows.length >= this.pageSize) return { rows, last: page.last };
    }
  }

  /** The unbooked invoices after the cursor up to `to`: a page read again by a retried attempt. */
  async through(to: PoolKey): Promise<PoolInvoice[]> {
    const rows: PoolInvoice[] = [];
    for (;;) {
      const page = await this.read();
      rows.push(...page.rows.filter((i) => compareKeys(i, to) <= 0));
      const lastRow = page.rows.at(-1);
      if (page.last || (lastRow && compareKeys(lastRow, to) >= 0)) return rows;
    }
  }
}

function earlierProgress(input: BookPageInput): PageProgress {
  const parsed = PageProgress.safeParse(Context.current().info.heartbeatDetails);
  if (parsed.success) return parsed.data;
  return {
    ...(input.after ? { through: keyOf(input.after) } : {}),
    keptOnDate: input.keptOnDate ?? 0,
    examined: 0,
    ...emptyCounts(),
    deferred: 0,
    poolReads: 0,
  };
}

const beat = (progress: PageProgress) => Context.current().heartbeat(progress);

/**
 * Counts a decided page into the progress and moves the cursor to its end. The invoices it leaves
 * on the end's date add to the kept ones when the cursor stays on that date.
 */
function passPage(
  progress: PageProgress,
  end: PoolKey | undefined,
  counts: PageCounts,
  page: { examined: number; deferred: number; leftOnEndDate: number },
): void {
  addCounts(progress, counts);
  progress.examined += page.examined;
  progress.deferred += page.deferred;
  if (!end) return;
  const sameDate = progress.through?.invoiceDate === end.invoiceDate;
  progress.keptOnDate = (sameDate ? progress.keptOnDate : 0) + page.leftOnEndDate;
  progress.through = keyOf(end);
}

function resultOf(progress: PageProgress, done: boolean, booking?: Booking): BookPageResult {
  return {
    examined: progress.examined,
    skippedByRule: progress.skippedByRule,
    noRule: progress.noRule,
    conflicts: progress.conflicts,
    deferred: progress.deferred,
    tasks: (booking?.sent ?? []).map((b) => ({ taskNo: b.taskNo, rule: b.rule, lines: b.keys.length })),
    confirmedByRule: booking?.confirmedByRule ?? {},
    ...(progress.through ? { through: progress.through } : {}),
    keptOnDate: progress.keptOnDate,
    done,
    poolReads: progress.poolReads,
  };
}

/**
 * bookPoolPage: decides the next page of the unbooked pool by the rules and books it, in batches of
 * one rule each; pages with nothing to book are counted and reading goes on, to the end of the pool
 * if need be. Heartbeats after every pool query and every batch. Reads before it writes: a retried
 * attempt reads the page again and sends only what no earlier attempt got a taskNo for, and of a
 * batch that got no answer only the invoices the pool still shows unbooked.
 */
export function createPoolPageBooking(client: InvoiceCloudClient) {
  return async function bookPoolPage(input: BookPageInput): Promise<BookPageResult> {
    const context = `auto-accounting page of ${input.taxNo} after ${input.after ? describeKey(input.after) : 'the start'}`;
    const parsedRules = AccountingRules.safeParse(input.rules);
    if (!parsedRules.success) {
      throw ApplicationFailure.nonRetryable(
        `Accounting rules of the run are invalid: ${describeZodError(parsedRules.error)}`,
        FailureType.AccountingRulesInvalid,
      );
    }
    const rules = parsedRules.data;
    const pageSize = Math.min(input.pageSize ?? MAX_POOL_PAGE_SIZE, MAX_POOL_PAGE_SIZE);
    const progress = earlierProgress(input);
    const runId = Context.current().info.workflowExecution?.runId ?? '';

    const book = async (rows: readonly PoolInvoice[], booking: Booking): Promise<BookPageResult> => {
      const decided = decidePage(rules, rows, input.accountPeriod, booking.to.invoiceDate);
      const plan = pageBookings(
        decided.toBook,
        {
          sent: new Set(booking.sent.flatMap((b) => b.keys)),
          sentCount: booking.sent.reduce((n, b) => n + b.keys.length, 0),
          ...(booking.inFlight ? { inFlight: booking.inFlight } : {}),
        },
        input.limit,
        lineKey,
      );
      const unanswered = booking.inFlight;
      if (unanswered && plan.confirmed > 0) {
        booking.confirmedByRule[unanswered.rule] = (booking.confirmedByRule[unanswered.rule] ?? 0) + plan.confirmed;
      }
      const batches = [
        ...(unanswered && plan.resend.length > 0 ? [{ rule: unanswered.rule, lines: plan.resend }] : []),
        ...batchesByRule(plan.fresh, input.batchSize),
      ];
      delete booking.inFlight;
      for (const batch of batches) {
        throwIfAbandoned();
        const keys = batch.lines.map(lineKey);
        booking.inFlight = { rule: batch.rule, keys };
        beat(progress);
        const accepted = await client.call(
          'invoiceAccount',
          {
            taxNo: input.taxNo,
            asyncFlag: '1',
            invoices: batch.lines.map(({ invoiceCode, invoiceNo, accountPeriod }) => ({
              invoiceCode,
              invoiceNo,
              accountPeriod,
            })),
          },
          stableRequestId(
            'account',
            runId,
            ...batch.lines.map((l) => `${l.invoiceCode}/${l.invoiceNo}/${l.accountPeriod}`),
          ),
        );
        booking.sent.push({ taskNo: accepted.taskNo, rule: batch.rule, keys });
        delete booking.inFlight;
        beat(progress);
      }
      const booked = booking.sent.reduce((n, b) => n + b.keys.length, 0);
      const confirmed = Object.values(booking.confirmedByRule).reduce((a, b) => a + b, 0);
      const left = rows.length - decided.toBook.length;
      passPage(progress, booking.to, decided, {
        examined: left + plan.deferred + booked + confirmed,
        deferred: plan.deferred,
        leftOnEndDate: decided.leftOnEndDate,
      });
      const result = resultOf(progress, booking.last, booking);
      Context.current().log.info('Auto-accounting page booked', {
        taxNo: input.taxNo,
        through: describeKey(booking.to),
        tasks: result.tasks.length,
        lines: booked,
        confirmed,
      });
      return result;
    };

    return classified(context, async () => {
      const reader = new PoolReader(client, input.taxNo, progress.through, progress.keptOnDate, pageSize, () => {
        progress.poolReads++;
        beat(progress);
      });
      if (progress.booking) return book(await reader.through(progress.booking.to), progress.booking);
      for (;;) {
        const { rows, last } = await reader.nextPage();
        const decided = decidePage(rules, rows, input.accountPeriod);
        if (decided.toBook.length > 0 && input.limit > 0) {
          progress.booking = { to: keyOf(rows.at(-1)!), last, sent: [], confirmedByRule: {} };
          return book(rows, progress.booking);
        }
        // Nothing to book here: the pool is unchanged, so the same reader goes on.
        passPage(progress, rows.at(-1), decided, {
          examined: rows.length,
          deferred: decided.toBook.length,
          leftOnEndDate: decided.leftOnEndDate,
        });
        beat(progress);
        if (last) return resultOf(progress, true);
      }
    });
  };
}
