import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { SandboxAdmin } from '../simulator/adminClient.js';
import { startSandbox } from '../simulator/server.js';
import {
  approveSignal,
  deductionWorkflowId,
  type MonthlyDeductionResult,
  Stage,
  TASK_QUEUE,
  WORKFLOW_TYPE,
} from '../workflows/contract.js';
import { shanghaiDate, testToday, yyyymm } from './support/calendar.js';
import { serverTimeWorker } from './support/serverTimeWorker.js';
import { startTimeSkippingServer } from './support/timeSkipping.js';
import { waitForStage } from './support/workflows.js';
import { TEST_APPROVERS } from './support/approvers.js';

/**
 * The same month, started on a day in each part of the month, with workflow time, the worker's
 * clock and the sandbox's calendar all on the time-skipping server's clock. Every expectation is
 * worked out by hand from the bureau's rules: until the 15th the previous month is open and may be
 * confirmed at once; after it the current month is open and can be confirmed only once it has
 * ended; approvals close when the deadline day begins (Beijing time).
 */
const TAX_NO = '91440300591872133B';
const APPROVER = '王会计';

const pad = (n: number) => String(n).padStart(2, '0');
const day = (period: string, d: number) => `${period.slice(0, 4)}-${period.slice(4)}-${pad(d)}`;

interface Case {
  name: string;
  /** The Beijing wall-clock instant the month starts at. */
  startsAt: string;
  period: string;
  deadline: string;
  outcome: 'COMPLETED' | 'EXPIRED';
  /** The Beijing date-time prefix the confirmation must carry (COMPLETED only). */
  confirmedOn?: string;
}

function cases(): Case[] {
  // All after the tests' "today", so the test server (which starts at the real now) can skip there.
  const today = shanghaiDate(testToday());
  const next = yyyymm(today.year, today.month + 1);
  const current = yyyymm(today.year, today.month);
  const afterNext = yyyymm(today.year, today.month + 2);
  const december = today.month === 12 && today.day === 31 ? `${today.year + 1}12` : `${today.year}12`;
  const newYear = `${Number(december.slice(0, 4)) + 1}01`;
  return [
    {
      name: 'before the 15th: the previous month, confirmed the same day',
      startsAt: `${day(next, 10)}T10:00:00+08:00`,
      period: current,
      deadline: day(next, 15),
      outcome: 'COMPLETED',
      confirmedOn: day(next, 10),
    },
    {
      // 07:30 in Beijing is still the 14th in UTC: the deadline day has begun all the same.
      name: 'on the 15th: the previous month, but approvals closed when the day began',
      startsAt: `${day(next, 15)}T07:30:00+08:00`,
      period: current,
      deadline: day(next, 15),
      outcome: 'EXPIRED',
    },
    {
      name: 'after the 15th: the current month, confirmed once the month has ended',
      startsAt: `${day(next, 20)}T10:00:00+08:00`,
      period: next,
      deadline: day(afterNext, 15),
      outcome: 'COMPLETED',
      confirmedOn: `${day(afterNext, 1)} 00:`,
    },
    {
      // 20:00 in Beijing is noon UTC; the month ends at 16:00 UTC.
      name: 'on 31 December: December, confirmed on New Year’s Day',
      startsAt: `${december.slice(0, 4)}-12-31T20:00:00+08:00`,
      period: december,
      deadline: day(newYear, 15),
      outcome: 'COMPLETED',
      confirmedOn: `${day(newYear, 1)} 00:`,
    },
  ];
}

describe('a month started in each part of the month (time-skipping server)', function () {
  this.timeout(240_000);

  for (const c of cases()) {
    it(`${c.name} (${c.startsAt})`, async () => {
      const env = await startTimeSkippingServer();
      const clock = { ms: await env.currentTimeMs() };
      const refresh = async () => (clock.ms = await env.currentTimeMs());
      const sandbox = await startSandbox({ port: 0, dbFile: ':memory:', followClock: refresh });
      try {
        await env.sleep(Date.parse(c.startsAt) - (await env.currentTimeMs()));
        const admin = new SandboxAdmin(sandbox.url);
        await admin.seedDemo({ taxPeriod: c.period, now: c.startsAt, invoicesPerTaxpayer: 12, seed: 5 });
        const result = await runMonth(env, sandbox.url, c, refresh, () => new Date(clock.ms));

        assert.equal(result.outcome, c.outcome, result.note);
        assert.equal(result.taxPeriod, c.period);
        assert.equal(result.deductionDeadline, c.deadline);
        const confirmations = await admin.ledger({ taxNo: TAX_NO, interfaceCode: 'statisticConfirm' });
        if (c.outcome === 'EXPIRED') {
          assert.equal(confirmations.length, 0, 'nothing was confirmed');
          assert.ok(result.note.includes(c.deadline), `the note names the deadline: ${result.note}`);
          return;
        }
        assert.equal(confirmations.length, 1, 'confirmed exactly once');
        assert.ok(
          result.confirmedAt?.startsWith(c.confirmedOn!),
          `confirmed at ${result.confirmedAt}, expected ${c.confirmedOn}…`,
        );
        const bureau = await admin.getTaxpayer(TAX_NO);
        assert.ok(bureau.confirmedPeriods.includes(c.period), `the bureau shows ${c.period} confirmed`);
      } finally {
        await sandbox.close();
        await env.teardown();
      }
    });
  }
});

/** Runs one month on a fresh worker whose activities read the test server's clock. */
async function runMonth(
  env: TestWorkflowEnvironment,
  sandboxUrl: string,
  c: Case,
  refresh: () => Promise<number>,
  now: () => Date,
): Promise<MonthlyDeductionResult> {
  const worker = await serverTimeWorker(env, sandboxUrl, refresh, now);
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: TASK_QUEUE,
      workflowId: deductionWorkflowId(TAX_NO, c.period),
      args: [
        {
          taxNo: TAX_NO,
          taxPeriod: c.period,
          approvers: TEST_APPROVERS,
          polling: { initialIntervalMs: 200, maximumIntervalMs: 500 },
        },
      ],
    });
    if (c.outcome === 'COMPLETED') {
      const waiting = await waitForStage(handle, Stage.AwaitingApproval);
      await handle.signal(approveSignal, { approver: APPROVER, statisticDigest: waiting.statistic!.digest });
    }
    return (await handle.result()) as MonthlyDeductionResult;
  });
}
