/**
 * Time to notice: how long after the bureau settles a task the workflow moves on, and how many
 * result queries that took. `tsx bench/timeToNotice.ts [--scale=0.05] [--only=0|5|60|600]`
 */
import { fileURLToPath } from 'node:url';
import { startMonthlyDeduction } from '../client/deductions.js';
import {
  deductionWorkflowId,
  MonthlyDeductionInput,
  pollingForExpectedTaskMs,
  type MonthlyDeductionInput as Input,
} from '../workflows/contract.js';
import { atMost, formatFigures, info, numericArgs, type Figure } from './figures.js';
import { completedActivities, historyEvents } from './history.js';
import { APPROVER, autoApprover, benchTaxNos, PERIOD, seedTaxpayers, startBenchStack, waitForClosed } from './stack.js';

export interface NoticeCase {
  /** Bureau task latency the targets are stated for. */
  latencyMs: number;
  /** Run at this fraction of real time (sandbox latency and polling intervals alike). */
  scale: number;
  lagTargetMs: number;
  queryTarget: number;
}

export const NOTICE_CASES: NoticeCase[] = [
  { latencyMs: 5_000, scale: 1, lagTargetMs: 2_000, queryTarget: 6 },
  { latencyMs: 60_000, scale: 1, lagTargetMs: 10_000, queryTarget: 15 },
  { latencyMs: 600_000, scale: 0.05, lagTargetMs: 60_000, queryTarget: 30 },
];

const AWAITS: Record<string, string> = {
  awaitSelectionResult: 'invoiceSelect',
  awaitStatisticTask: 'statisticCreate',
  awaitConfirmation: 'statisticConfirm',
};

type Polling = NonNullable<Input['polling']>;
function scaled(p: { initialIntervalMs: number; maximumIntervalMs: number; backoffCoefficient: number }, k: number) {
  return {
    initialIntervalMs: Math.max(1, Math.round(p.initialIntervalMs * k)),
    maximumIntervalMs: Math.max(1, Math.round(p.maximumIntervalMs * k)),
    backoffCoefficient: p.backoffCoefficient,
  } satisfies Polling;
}

export interface NoticeSample {
  policy: 'default' | 'expected';
  lagMs: number;
  queries: number;
}

/** Runs one case with both polling policies (default and expected-latency) side by side. */
export async function measureNotice(c: NoticeCase, taxpayersPerPolicy = 2): Promise<NoticeSample[]> {
  const stack = await startBenchStack({ workers: 1 });
  try {
    const { admin, client } = stack;
    const latency = Math.round(c.latencyMs * c.scale);
    for (const kind of ['select', 'statistic', 'confirm'] as const) {
      await admin.setTaskLatency({ kind, distribution: { type: 'fixed', ms: latency } });
    }
    const defaults = MonthlyDeductionInput.parse({ taxNo: '91440300591872133B', taxPeriod: PERIOD }).polling;
    const policies = {
      default: scaled(defaults, c.scale),
      expected: scaled(pollingForExpectedTaskMs(c.latencyMs), c.scale),
    };
    const plan = (['default', 'expected'] as const).flatMap((policy, p) =>
      benchTaxNos(`TN${p}`, taxpayersPerPolicy).map((taxNo) => ({ policy, taxNo })),
    );
    await seedTaxpayers(
      admin,
      plan.map((p) => p.taxNo),
      20,
    );
    const approver = autoApprover(client);
    for (const { policy, taxNo } of plan) {
      await startMonthlyDeduction(client, {
        approvers: [APPROVER],
        taxNo,
        taxPeriod: PERIOD,
        polling: policies[policy],
      });
    }
    await waitForClosed(
      client,
      plan.map((p) => deductionWorkflowId(p.taxNo, PERIOD)),
      latency * 6 + 120_000,
    );
    await approver.stop();

    const clock = await admin.getClock();
    const offsetMs = Date.parse(clock.now) - Date.now();
    const samples: NoticeSample[] = [];
    for (const { policy, taxNo } of plan) {
      const accepted = new Map((await admin.ledger({ taxNo })).map((r) => [r.taskNo, Date.parse(r.time)]));
      for (const a of completedActivities(await historyEvents(client, deductionWorkflowId(taxNo, PERIOD)))) {
        if (!(a.type in AWAITS)) continue;
        const taskNo = (a.input as { taskNo?: string } | undefined)?.taskNo ?? '';
        const acceptedAt = accepted.get(taskNo);
        if (acceptedAt === undefined) continue;
        const readyAt = acceptedAt - offsetMs + latency;
        samples.push({ policy, lagMs: (a.completedAtMs - readyAt) / c.scale, queries: a.attempt });
      }
    }
    return samples;
  } finally {
    await stack.stop();
  }
}

const label = (ms: number) => (ms >= 60_000 ? `${ms / 60_000} min` : `${ms / 1000} s`);

export function noticeFigures(c: NoticeCase, samples: NoticeSample[]): Figure[] {
  const figures: Figure[] = [];
  const how = c.scale === 1 ? 'real time' : `time scale 1/${Math.round(1 / c.scale)}`;
  for (const policy of ['default', 'expected'] as const) {
    const mine = samples.filter((s) => s.policy === policy);
    const name = `${label(c.latencyMs)} task, ${policy === 'default' ? 'default polling' : 'pollingForExpectedTaskMs'}`;
    if (mine.length === 0) {
      figures.push(info(`${name}: no task measured`, 0, ''));
      continue;
    }
    const lag = Math.max(...mine.map((s) => s.lagMs)) / 1000;
    const queries = Math.max(...mine.map((s) => s.queries));
    figures.push(atMost(`${name}: worst lag`, lag, c.lagTargetMs / 1000, 's', `${mine.length} tasks, ${how}`));
    figures.push(atMost(`${name}: worst result queries per task`, queries, c.queryTarget, ''));
  }
  return figures;
}

export async function runTimeToNotice(options: { only?: number; taxpayersPerPolicy?: number } = {}): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const c of NOTICE_CASES) {
    if (options.only && c.latencyMs !== options.only * 1000) continue;
    figures.push(...noticeFigures(c, await measureNotice(c, options.taxpayersPerPolicy)));
  }
  return figures;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = numericArgs({ only: 0, taxpayers: 2 });
  const figures = await runTimeToNotice({ only: args.only, taxpayersPerPolicy: args.taxpayers });
  console.log(formatFigures('Time to notice bureau results', figures));
  process.exit(0);
}
