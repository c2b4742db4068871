import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import {
  cents,
  checkInvariants,
  everyMonthCompletedAndConfirmed,
  moneyMatches,
  noApprovalLost,
  noInvoiceSelectedTwice,
  oneConfirmation,
  oneStatisticGeneration,
  type ChaosEvidence,
  type InvariantResult,
  type LedgerWrite,
} from '../scripts/chaos/invariants.js';

/** The chaos invariants (scripts/chaos/invariants.ts) on hand-made evidence: each holds on a clean run and fails on a violation. */

const TAX = '91440300MA5C00001X';
const PERIOD = '202510';
const OFFSET = -10 * 86_400_000; // the sandbox clock runs ten days behind real time
const APPROVED_AT = Date.parse('2026-01-10T02:00:00Z');
/** A ledger time (sandbox clock) `ms` after the approval was sent. */
const at = (ms: number) => new Date(APPROVED_AT + ms + OFFSET).toISOString();

let seq = 0;
function write(interfaceCode: string, o: Partial<LedgerWrite> = {}): LedgerWrite {
  seq += 1;
  return {
    time: at(-60_000 + seq * 1000),
    taxNo: TAX,
    interfaceCode,
    requestId: `req-${seq}`,
    taskNo: `task-${seq}`,
    accepted: true,
    refusal: null,
    period: PERIOD,
    statisticStatus: '01',
    operateType: '',
    authenticateFlag: '',
    selectAction: '',
    invoices: [],
    taskResult: null,
    ...o,
  };
}

const line = (invoiceNo: string, effectiveTaxAmount = '13.00', purpose = '1') => ({
  invoiceCode: '',
  invoiceNo,
  effectiveTaxAmount,
  purpose,
});

/** A select request and the per-invoice result codes its task settled with. */
function select(lines: ReturnType<typeof line>[], codes: number[], o: Partial<LedgerWrite> = {}): LedgerWrite {
  return write('invoiceSelect', {
    authenticateFlag: '1',
    selectAction: 'select',
    invoices: lines,
    taskResult: {
      lines: lines.map((l, i) => ({ invoiceCode: l.invoiceCode, invoiceNo: l.invoiceNo, resultCode: codes[i] })),
    },
    ...o,
  });
}
const cancel = (lines: ReturnType<typeof line>[], codes: number[]) =>
  select(lines, codes, { authenticateFlag: '0', selectAction: 'cancel' });
const generate = (statisticStatus = '01') => write('statisticCreate', { operateType: '1', statisticStatus });
const confirm = (o: Partial<LedgerWrite> = {}) =>
  write('statisticConfirm', {
    statisticStatus: '02',
    time: at(5_000),
    taskResult: { success: true, statisticStatus: '05' },
    ...o,
  });
const refused = (interfaceCode: string, code: string, o: Partial<LedgerWrite> = {}) =>
  write(interfaceCode, { accepted: false, refusal: { code, message: 'refused' }, taskNo: '', ...o });

/**
 * A clean month: I1 selected at once; I2 answered 36 (login lapsed) and selected on resubmission;
 * I3 refused (24); I4 selected not-deductible (purpose 2); one generation, one confirmation after
 * the approval. The bureau and the workflow show I1 + I2.
 */
function clean(): ChaosEvidence {
  return {
    months: [
      {
        taxNo: TAX,
        period: PERIOD,
        workflowStatus: 'COMPLETED',
        workflowTotals: { deductibleCount: 2, deductibleAmount: '300.50', deductibleTax: '39.07' },
        bureau: {
          statisticStatus: '05',
          items: [
            { deductibleCount: 1, deductibleAmount: '100.00', deductibleTax: '13.00' },
            { deductibleCount: 1, deductibleAmount: '200.50', deductibleTax: '26.07' },
          ],
        },
        pool: [
          { invoiceCode: '', invoiceNo: 'I1', invoiceAmount: '100.00' },
          { invoiceCode: '', invoiceNo: 'I2', invoiceAmount: '200.50' },
          { invoiceCode: '', invoiceNo: 'I3', invoiceAmount: '50.00' },
          { invoiceCode: '', invoiceNo: 'I4', invoiceAmount: '80.00' },
        ],
      },
    ],
    ledger: [
      write('taxLogin'),
      select([line('I1'), line('I2', '26.07'), line('I3')], [1, 36, 24]),
      select([line('I4', '10.40', '2')], [1]),
      write('taxLogin'),
      select([line('I2', '26.07')], [1]),
      generate(),
      confirm(),
    ],
    approvals: [
      { taxNo: TAX, period: PERIOD, sentAt: APPROVED_AT - 2_000, accepted: false },
      { taxNo: TAX, period: PERIOD, sentAt: APPROVED_AT, accepted: true },
    ],
    sandboxClockOffsetMs: OFFSET,
  };
}

function holds(r: InvariantResult): void {
  assert.ok(r.held, `${r.name}: ${r.detail}`);
  assert.deepEqual(r.violations, []);
}
function fails(r: InvariantResult, pattern: RegExp): void {
  assert.equal(r.held, false, `${r.name} should fail: ${r.detail}`);
  assert.ok(
    r.violations.some((v) => pattern.test(v)),
    `${r.name}: expected a violation like ${pattern}, got ${JSON.stringify(r.violations)}`,
  );
}
const withLedger = (e: ChaosEvidence, ledger: LedgerWrite[]): ChaosEvidence => ({ ...e, ledger });
const withMonth = (e: ChaosEvidence, m: Partial<ChaosEvidence['months'][number]>): ChaosEvidence => ({
  ...e,
  months: [{ ...e.months[0]!, ...m }],
});

describe('chaos invariants', () => {
  it('all hold on a clean run', () => {
    const results = checkInvariants(clean());
    assert.equal(results.length, 6);
    for (const r of results) holds(r);
  });

  describe('(a) no invoice sent again after a final select result', () => {
    it('fails when a selected invoice is sent again (the bureau answers 19)', () => {
      const e = clean();
      fails(noInvoiceSelectedTwice(withLedger(e, [...e.ledger, select([line('I1')], [19])])), /I1: sent again/);
    });

    it('fails when an invoice is sent again after a failure that is not "retry"', () => {
      const e = clean();
      fails(noInvoiceSelectedTwice(withLedger(e, [...e.ledger, select([line('I3')], [24])])), /I3: sent again/);
    });

    it('fails when an invoice is sent again while its first request has no result yet', () => {
      const e = clean();
      const pending = select([line('I5')], [], { taskResult: null });
      fails(noInvoiceSelectedTwice(withLedger(e, [...e.ledger, pending, select([line('I5')], [1])])), /I5: sent again/);
    });

    it('holds when a cancellation comes between, and ignores refused and cached requests', () => {
      const e = clean();
      const ledger = [
        ...e.ledger.slice(0, 2),
        cancel([line('I1')], [1]),
        select([line('I1')], [1]),
        refused('invoiceSelect', '3001', { invoices: [line('I1')] }),
        ...e.ledger.slice(2),
      ];
      holds(noInvoiceSelectedTwice(withLedger(e, ledger)));
    });

    it("reads select or cancel from the sandbox's reading under the tenant profile, not from authenticateFlag", () => {
      const e = clean();
      // A reversed profile: authenticateFlag 1 cancels, 0 selects.
      const reversedCancel = select([line('I1')], [1], { authenticateFlag: '1', selectAction: 'cancel' });
      const reversedSelect = select([line('I1')], [1], { authenticateFlag: '0', selectAction: 'select' });
      holds(noInvoiceSelectedTwice(withLedger(e, [...e.ledger.slice(0, 2), reversedCancel, reversedSelect])));
      fails(noInvoiceSelectedTwice(withLedger(e, [...e.ledger.slice(0, 2), reversedSelect])), /I1: sent again/);
    });
  });

  describe('(b) one statistic generation per month that needed one', () => {
    it('fails on a second generate request', () => {
      const e = clean();
      fails(oneStatisticGeneration(withLedger(e, [...e.ledger, generate('02')])), /2 generate requests/);
    });

    it('fails on a generate request that arrived while the table was generating (21), even refused', () => {
      const e = clean();
      const ledger = e.ledger.map((w) => (w.interfaceCode === 'statisticCreate' ? generate('21') : w));
      fails(oneStatisticGeneration(withLedger(e, ledger)), /arrived while the table was generating/);
      const refusedSecond = refused('statisticCreate', '3001', { operateType: '1', statisticStatus: '05' });
      fails(oneStatisticGeneration(withLedger(e, [...e.ledger, refusedSecond])), /2 generate requests/);
    });

    it('fails when a month with selections never asked for its table', () => {
      const e = clean();
      fails(
        oneStatisticGeneration(
          withLedger(
            e,
            e.ledger.filter((w) => w.interfaceCode !== 'statisticCreate'),
          ),
        ),
        /no generate request/,
      );
    });

    it('holds for a revoke followed by one generation more', () => {
      const e = clean();
      const revoke = write('statisticCreate', { operateType: '2', statisticStatus: '03' });
      holds(oneStatisticGeneration(withLedger(e, [...e.ledger.slice(0, 6), revoke, generate(), e.ledger[6]!])));
    });
  });

  describe('(c) exactly one confirm request per taxpayer and period', () => {
    it('fails on a second confirm request, even one the bureau refused', () => {
      const e = clean();
      fails(oneConfirmation(withLedger(e, [...e.ledger, refused('statisticConfirm', '3001')])), /2 confirm requests/);
      fails(oneConfirmation(withLedger(e, [...e.ledger, confirm()])), /2 confirm requests/);
    });

    it('fails when nothing was confirmed', () => {
      const e = clean();
      fails(
        oneConfirmation(
          withLedger(
            e,
            e.ledger.filter((w) => w.interfaceCode !== 'statisticConfirm'),
          ),
        ),
        /0 confirm requests/,
      );
    });

    it('does not count a confirm refused as "not yet open" (3002)', () => {
      const e = clean();
      holds(
        oneConfirmation(withLedger(e, [...e.ledger.slice(0, 6), refused('statisticConfirm', '3002'), e.ledger[6]!])),
      );
    });
  });

  describe("(d) confirmed table = ledger's selection = workflow's totals", () => {
    it("fails when the bureau's table is a cent off the ledger's selection", () => {
      const e = clean();
      const items = [{ deductibleCount: 2, deductibleAmount: '300.51', deductibleTax: '39.07' }];
      fails(
        moneyMatches(withMonth(e, { bureau: { statisticStatus: '05', items } })),
        /bureau's confirmed table .*300\.51/,
      );
    });

    it("fails when the workflow's totals differ (a count, a tax)", () => {
      const e = clean();
      fails(
        moneyMatches(
          withMonth(e, { workflowTotals: { deductibleCount: 3, deductibleAmount: '300.50', deductibleTax: '39.07' } }),
        ),
        /workflow's result 3 invoices/,
      );
      fails(
        moneyMatches(
          withMonth(e, { workflowTotals: { deductibleCount: 2, deductibleAmount: '300.50', deductibleTax: '39.06' } }),
        ),
        /tax 39\.06/,
      );
    });

    it('fails when the invoice a select request reported selected was then cancelled but the table still counts it', () => {
      const e = clean();
      fails(
        moneyMatches(
          withLedger(e, [...e.ledger.slice(0, 5), cancel([line('I2', '26.07')], [1]), ...e.ledger.slice(5)]),
        ),
        /the ledger's selection 1 invoices, 100\.00/,
      );
    });

    it('fails when the table is not confirmed or the workflow has no totals', () => {
      const e = clean();
      fails(
        moneyMatches(withMonth(e, { bureau: { statisticStatus: '02', items: e.months[0]!.bureau.items } })),
        /not confirmed/,
      );
      const { workflowTotals: _dropped, ...noTotals } = e.months[0]!;
      fails(moneyMatches({ ...e, months: [noTotals] }), /no totals/);
    });

    it('sums in exact cents', () => {
      assert.equal(cents('0.1')! + cents('0.2')!, cents('0.30'));
      assert.equal(cents('-12.05'), -1205n);
      assert.equal(cents('99999999999999.99'), 9999999999999999n);
      assert.equal(cents('1.005'), undefined);
      assert.equal(cents('abc'), undefined);
      const e = clean();
      const pool = [
        { invoiceCode: '', invoiceNo: 'I1', invoiceAmount: '0.1' },
        { invoiceCode: '', invoiceNo: 'I2', invoiceAmount: '0.2' },
      ];
      const totals = { deductibleCount: 2, deductibleAmount: '0.30', deductibleTax: '39.07' };
      holds(
        moneyMatches(
          withMonth(e, { pool, workflowTotals: totals, bureau: { statisticStatus: '05', items: [totals] } }),
        ),
      );
    });
  });

  describe('(e) every month COMPLETED in Temporal and confirmed at the bureau', () => {
    it('fails for a workflow still running or failed', () => {
      fails(everyMonthCompletedAndConfirmed(withMonth(clean(), { workflowStatus: 'RUNNING' })), /workflow RUNNING/);
      fails(everyMonthCompletedAndConfirmed(withMonth(clean(), { workflowStatus: 'FAILED' })), /workflow FAILED/);
    });

    it('fails when Temporal says COMPLETED but the bureau has not confirmed the period', () => {
      const e = clean();
      fails(
        everyMonthCompletedAndConfirmed(withMonth(e, { bureau: { statisticStatus: '02', items: [] } })),
        /status 02, not confirmed/,
      );
    });
  });

  describe('(f) no approval lost, no confirmation without one', () => {
    it('fails when an accepted approval led to no bureau confirmation', () => {
      const e = clean();
      const ledger = e.ledger.map((w) =>
        w.interfaceCode === 'statisticConfirm' ? { ...w, taskResult: { success: false, statisticStatus: '02' } } : w,
      );
      fails(noApprovalLost(withLedger(e, ledger)), /an accepted approval, 0 bureau confirmations/);
    });

    it('fails when a confirmation exists without any approval', () => {
      fails(noApprovalLost({ ...clean(), approvals: [] }), /without any approval/);
    });

    it('fails when the confirm request reached the bureau before the approval was sent', () => {
      const e = clean();
      const early = e.ledger.map((w) => (w.interfaceCode === 'statisticConfirm' ? { ...w, time: at(-2_500) } : w));
      fails(noApprovalLost(withLedger(e, early)), /before the first approval was sent/);
    });

    it('holds with an approval whose signal may have been sent before the accepted one', () => {
      const e = clean();
      const early = e.ledger.map((w) => (w.interfaceCode === 'statisticConfirm' ? { ...w, time: at(-1_000) } : w));
      holds(noApprovalLost(withLedger(e, early)));
    });
  });
});
