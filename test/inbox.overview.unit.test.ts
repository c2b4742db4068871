import assert from 'node:assert/strict';
import { stageOf, summarizePeriod, visibleTaxpayers, type PeriodMonth, type StageFigures } from '../inbox/overview.js';
import { OverviewQuery } from '../inbox/overviewRoutes.js';
import { stageChart } from '../inbox/overviewView.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import { Stage, type ApprovalMemo } from '../workflows/contract.js';
import { TEST_PERIOD, yyyymm } from './support/calendar.js';

const taxNo = (n: number) => withCheckCharacter(`91440300MA${String(n).padStart(7, '0')}`);
const A = taxNo(1);
const B = taxNo(2);
const C = taxNo(3);
const D = taxNo(4);
const E = taxNo(5);
const HIDDEN = taxNo(9);

/** 00:00 Beijing on the 15th of the month after the period: worked out here, not by the product. */
function defaultDeadlineOf(period: string): Date {
  const next = yyyymm(Number(period.slice(0, 4)), Number(period.slice(4)) + 1);
  return new Date(`${next.slice(0, 4)}-${next.slice(4)}-15T00:00:00+08:00`);
}
const DEADLINE = defaultDeadlineOf(TEST_PERIOD);
const HOUR = 3600_000;
const at = (offsetHours: number) => new Date(DEADLINE.getTime() + offsetHours * HOUR);

function memo(amount: string, tax: string, count = 3): ApprovalMemo {
  return {
    deductibleCount: count,
    deductibleAmount: amount,
    deductibleTax: tax,
    statisticDigest: 'abcd0123',
    failedInvoices: 0,
  };
}

function month(tax: string, stage: Stage, extra: Partial<PeriodMonth> = {}): PeriodMonth {
  return {
    workflowId: `deduction-${tax}-${TEST_PERIOD}`,
    taxNo: tax,
    taxPeriod: TEST_PERIOD,
    stage,
    running: ![Stage.Completed, Stage.Rejected, Stage.Expired, Stage.Failed, Stage.Canceled].includes(stage as never),
    startedAt: at(-200).toISOString(),
    ...extra,
  };
}

const figures = (o: { stages: StageFigures[] }, stage: Stage) => o.stages.find((s) => s.stage === stage)!;

describe('the period overview: stages from visibility', () => {
  it('takes the DeductionStage attribute, or the execution status where the run ended without a final stage', () => {
    assert.equal(stageOf('AWAITING_APPROVAL', 'RUNNING'), Stage.AwaitingApproval);
    assert.equal(stageOf(undefined, 'RUNNING'), Stage.LoggingIn);
    assert.equal(stageOf('COMPLETED', 'COMPLETED'), Stage.Completed);
    assert.equal(stageOf('REJECTED', 'COMPLETED'), Stage.Rejected);
    assert.equal(stageOf('FAILED', 'FAILED'), Stage.Failed);
    assert.equal(stageOf('AWAITING_APPROVAL', 'TERMINATED'), Stage.Failed, 'terminated while waiting');
    assert.equal(stageOf('SELECTING', 'TIMED_OUT'), Stage.Failed);
    assert.equal(stageOf('SELECTING', 'CANCELLED'), Stage.Canceled);
    assert.equal(stageOf('CANCELED', 'CANCELLED'), Stage.Canceled);
    assert.equal(stageOf('SELECTING', 'CONTINUED_AS_NEW'), undefined, 'its successor is listed instead');
    assert.equal(stageOf('NOT_A_STAGE', 'RUNNING'), Stage.LoggingIn);
  });
});

describe('the period overview: summarizePeriod', () => {
  const visible = new Map([
    [A, { name: '甲公司' }],
    [B, { name: '乙公司' }],
    [C, {}],
    [D, { name: '丁公司' }],
    [E, { name: '戊公司' }],
  ]);

  it('counts months by stage and adds amounts as decimals, only of taxpayers the identity may see', () => {
    const overview = summarizePeriod({
      period: TEST_PERIOD,
      visible,
      now: at(-24 * 10),
      months: [
        month(A, Stage.Completed, { totals: memo('0.10', '0.01', 1) }),
        month(B, Stage.Completed, { totals: memo('0.20', '0.02', 2) }),
        month(C, Stage.Completed, { totals: memo('1234567890123.45', '160493825716.05', 4) }),
        month(D, Stage.AwaitingApproval, { totals: memo('100.00', '13.00'), approvalDeadline: at(24).toISOString() }),
        month(E, Stage.Rejected, { totals: memo('50.50', '6.57') }),
        // Another taxpayer's month and another period's: never counted.
        month(HIDDEN, Stage.Completed, { totals: memo('999999.99', '99999.99') }),
        { ...month(A, Stage.Completed, { totals: memo('7.00', '0.91') }), taxPeriod: yyyymm(2000, 1) },
      ],
    });
    assert.equal(overview.months, 5);
    assert.equal(overview.taxpayers, 5);
    assert.equal(overview.confirmed.months, 3);
    assert.equal(overview.confirmed.amount, '1234567890123.75', '0.10 + 0.20 + … is exact');
    assert.equal(overview.confirmed.tax, '160493825716.08');
    assert.equal(overview.confirmed.deductibleCount, 7);
    assert.equal(figures(overview, Stage.AwaitingApproval).months, 1);
    assert.equal(figures(overview, Stage.AwaitingApproval).amount, '100.00');
    assert.equal(figures(overview, Stage.Rejected).tax, '6.57');
    assert.equal(figures(overview, Stage.Selecting).months, 0);
    assert.deepEqual(overview.notStarted, []);
    assert.deepEqual(overview.overdue, [], 'ten days before the deadline nothing is late');
    assert.equal(overview.defaultApprovalDeadline, DEADLINE.toISOString());
    assert.equal(
      overview.stages.reduce((n, s) => n + s.months, 0),
      overview.months,
      'every counted month is in exactly one stage',
    );
  });

  it('an overdue month: not completed or rejected, past its own deadline or else the default one', () => {
    const months = [
      month(A, Stage.AwaitingApproval, { approvalDeadline: at(-48).toISOString(), totals: memo('1.00', '0.13') }),
      month(B, Stage.Expired, { approvalDeadline: at(-72).toISOString(), totals: memo('2.00', '0.26') }),
      month(C, Stage.Selecting),
      month(D, Stage.Completed, { approvalDeadline: at(-72).toISOString(), totals: memo('3.00', '0.39') }),
      month(E, Stage.AwaitingApproval, { approvalDeadline: at(60).toISOString(), totals: memo('4.00', '0.52') }),
    ];
    const before = summarizePeriod({ period: TEST_PERIOD, visible, months, now: at(-1) });
    assert.deepEqual(
      before.overdue.map((o) => [o.taxNo, o.stage, o.defaultDeadline]),
      [
        [B, Stage.Expired, false],
        [A, Stage.AwaitingApproval, false],
      ],
      'soonest deadline first; the running month without a deadline of its own is not late yet',
    );
    assert.equal(before.dueSoon, 1, 'the selecting month is due within two days of the default deadline');
    const after = summarizePeriod({ period: TEST_PERIOD, visible, months, now: at(1) });
    assert.deepEqual(
      after.overdue.map((o) => o.taxNo),
      [B, A, C],
    );
    assert.equal(after.overdue[2]!.deadline, DEADLINE.toISOString());
    assert.equal(after.overdue[2]!.defaultDeadline, true);
    assert.equal(after.overdue[0]!.name, '乙公司');
    assert.equal(after.dueSoon, 0, "E's own deadline is 59 hours away");
  });

  it('lists visible taxpayers without a month, overdue once the default deadline has passed', () => {
    const months = [month(A, Stage.Completed, { totals: memo('1.00', '0.13') })];
    const early = summarizePeriod({ period: TEST_PERIOD, visible, months, now: at(-24) });
    assert.deepEqual(
      early.notStarted.map((t) => t.taxNo),
      [B, C, D, E].sort(),
    );
    assert.equal(early.overdue.length, 0);
    const late = summarizePeriod({ period: TEST_PERIOD, visible, months, now: at(0) });
    assert.deepEqual(late.overdue.map((o) => [o.taxNo, o.stage, o.workflowId]).sort(), [
      [B, undefined, undefined],
      [C, undefined, undefined],
      [D, undefined, undefined],
      [E, undefined, undefined],
    ]);
  });

  it('counts a month without usable totals apart, and adds nothing for it', () => {
    const overview = summarizePeriod({
      period: TEST_PERIOD,
      visible,
      now: at(-100),
      months: [
        month(A, Stage.Completed),
        month(B, Stage.Completed, { totals: { ...memo('1e3', '0.13'), deductibleCount: 2 } }),
        month(C, Stage.Completed, { totals: memo('10.00', '1.30', 5) }),
      ],
    });
    assert.equal(overview.confirmed.months, 3);
    assert.equal(overview.confirmed.withoutTotals, 2);
    assert.equal(overview.confirmed.amount, '10.00');
    assert.equal(overview.confirmed.deductibleCount, 5);
  });
});

describe('the period overview: who may see which taxpayer', () => {
  const directory = new Map([
    [A, { name: '甲公司', approvers: ['wang', 'Chen@Example.com'] }],
    [B, { name: '乙公司', approvers: ['li'] }],
    [C, { approvers: ['oidc:248289761001'] }],
  ]);

  it('an identity sees the taxpayers whose approvers name it, and no others', () => {
    assert.deepEqual(
      [...visibleTaxpayers({ kind: 'account', id: 'wang', name: '王会计' }, directory)],
      [[A, { name: '甲公司' }]],
    );
    assert.deepEqual([...visibleTaxpayers({ kind: 'account', id: 'li', name: '李经理' }, directory).keys()], [B]);
    assert.deepEqual(
      [...visibleTaxpayers({ kind: 'oidc', sub: '248289761001', email: 'chen@example.com' }, directory).keys()],
      [A, C],
    );
    assert.equal(visibleTaxpayers({ kind: 'account', id: 'zhao', name: '赵出纳' }, directory).size, 0);
  });
});

describe('the period overview: the period in the URL', () => {
  it('takes YYYYMM or YYYY-MM, and names what is wrong otherwise', () => {
    assert.equal(OverviewQuery.parse({ period: TEST_PERIOD }).period, TEST_PERIOD);
    const dashed = `${TEST_PERIOD.slice(0, 4)}-${TEST_PERIOD.slice(4)}`;
    assert.equal(OverviewQuery.parse({ period: dashed }).period, TEST_PERIOD);
    assert.equal(OverviewQuery.parse({}).period, undefined);
    const month13 = OverviewQuery.safeParse({ period: `${TEST_PERIOD.slice(0, 4)}13` });
    assert.equal(month13.success, false);
    assert.match(month13.error!.issues[0]!.message, /month 01-12/);
    assert.match(OverviewQuery.safeParse({ period: 'abc' }).error!.issues[0]!.message, /YYYYMM/);
    assert.equal(OverviewQuery.safeParse({ period: ['1', '2'] }).success, false);
  });
});

describe('the period overview: the chart', () => {
  it('draws one bar per stage with months (and the not-started), longest for the most, without inline style', () => {
    const visible = new Map([A, B, C, D].map((t) => [t, {}]));
    const overview = summarizePeriod({
      period: TEST_PERIOD,
      visible,
      now: at(-100),
      months: [month(A, Stage.Completed), month(B, Stage.Completed), month(C, Stage.AwaitingApproval)],
    });
    const svg = stageChart(overview);
    const bars = [...svg.matchAll(/data-stage="([A-Z_]+)" data-months="(\d+)"[\s\S]*?width="(\d+)"/g)].map((m) => [
      m[1],
      Number(m[2]),
      Number(m[3]),
    ]);
    assert.deepEqual(
      bars.map(([stage, months]) => [stage, months]),
      [
        ['AWAITING_APPROVAL', 1],
        ['COMPLETED', 2],
        ['NOT_STARTED', 1],
      ],
    );
    assert.ok((bars[1]![2] as number) > (bars[0]![2] as number), 'the bar of 2 is longer than the bar of 1');
    assert.match(svg, /已完成 Completed/);
    assert.doesNotMatch(svg, /style=|<script/);
    const empty = summarizePeriod({ period: TEST_PERIOD, visible: new Map(), months: [], now: at(-100) });
    assert.equal(stageChart(empty), '');
  });
});
