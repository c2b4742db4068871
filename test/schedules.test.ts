import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadRegistry, parseRegistry, RegistryError } from '../client/registry.js';
import {
  applySchedules,
  backfillSchedule,
  listSchedules,
  ourScheduleIds,
  triggerSchedule,
} from '../client/schedules.js';
import { runCli } from '../client/cli.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import { deductionWorkflowId } from '../workflows/contract.js';
import { deductionScheduleId, type LauncherResult } from '../workflows/launcherContract.js';
import { startStack, type TestStack } from './support/stack.js';
import { periodOpenOn } from './support/calendar.js';

const A = withCheckCharacter('914403000CHED0001');
const B = withCheckCharacter('914403000CHED0002');
const entry = (taxNo: string, hour = 9) => ({
  taxNo,
  name: `测试公司 ${taxNo.slice(-4)}`,
  approvers: ['王会计'],
  schedule: { dayOfMonth: 3, hour, minute: 30, jitterMinutes: 5 },
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('taxpayer registry validation', () => {
  it('accepts the example file', () => {
    const registry = loadRegistry('config/taxpayers.example.json');
    assert.ok(registry.taxpayers.length >= 2);
    assert.equal(registry.taxpayers[0]!.schedule.minute, 30);
  });

  it('names the entry and the field of every problem', () => {
    const raw = {
      taxpayers: [
        entry(A),
        { ...entry(B), name: '坏公司', schedule: { dayOfMonth: 20, hour: 25 }, approvers: [] },
        { ...entry('91440300591872133C'), name: '校验位错' },
      ],
    };
    assert.throws(
      () => parseRegistry(raw, 'taxpayers.json'),
      (err: Error) => {
        assert.ok(err instanceof RegistryError);
        assert.match(err.message, /taxpayers\[1\] \(坏公司\)\.schedule\.dayOfMonth: must be 1-15/);
        assert.match(err.message, /taxpayers\[1\] \(坏公司\)\.schedule\.hour: must be 0-23/);
        assert.match(err.message, /taxpayers\[1\] \(坏公司\)\.approvers: name at least one approver/);
        assert.match(err.message, /taxpayers\[2\] \(校验位错\)\.taxNo: .*check character/);
        return true;
      },
    );
  });

  it('refuses duplicate taxpayers, unknown fields, and unreadable JSON', () => {
    assert.throws(() => parseRegistry({ taxpayers: [entry(A), entry(A)] }), /taxpayers\[1\].*duplicate taxNo/);
    assert.throws(() => parseRegistry({ taxpayers: [{ ...entry(A), approver: 'x' }] }), /approver/);
    const dir = mkdtempSync(join(tmpdir(), 'registry-'));
    writeFileSync(join(dir, 'bad.json'), '{ "taxpayers": [');
    assert.throws(() => loadRegistry(join(dir, 'bad.json')), /not valid JSON/);
  });
});

describe('schedules apply / trigger / backfill on a real Temporal dev server', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let file: string;

  before(async () => {
    stack = await startStack();
    await stack.startWorker();
    file = join(mkdtempSync(join(tmpdir(), 'registry-')), 'taxpayers.json');
  });
  after(async () => stack?.stop());

  async function cli(...args: string[]): Promise<{ code: number; out: string }> {
    let out = '';
    const code = await runCli(['node', 'cli', ...args], {
      out: (t) => (out += t),
      err: (t) => (out += t),
      connect: async () =>
        new Client({
          connection: await Connection.connect({ address: stack.temporal.address }),
          namespace: stack.temporal.namespace,
        }),
    });
    return { code, out };
  }

  async function eventually<T>(fn: () => Promise<T | undefined>, what: string, ms = 30_000): Promise<T> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const value = await fn();
      if (value !== undefined) return value;
      await sleep(250);
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  async function launcherResults(taxNo: string, count: number): Promise<LauncherResult[]> {
    return eventually(async () => {
      const results: LauncherResult[] = [];
      for await (const w of stack.client.workflow.list({
        query: `WorkflowType = "ScheduledDeductionLauncher" AND TaxNo = "${taxNo}" AND ExecutionStatus = "Completed"`,
      })) {
        results.push(await stack.client.workflow.getHandle(w.workflowId, w.runId).result());
      }
      return results.length >= count ? results : undefined;
    }, `${count} completed launcher runs for ${taxNo}`);
  }

  it('creates, updates and deletes schedules to match the registry file', async () => {
    writeFileSync(file, JSON.stringify({ taxpayers: [entry(A), entry(B)] }));
    let run = await cli('schedules', 'apply', '--file', file, '--json');
    assert.equal(run.code, 0, run.out);
    assert.deepEqual(JSON.parse(run.out).created, [deductionScheduleId(A), deductionScheduleId(B)]);

    const description = await stack.client.schedule.getHandle(deductionScheduleId(A)).describe();
    assert.equal(description.spec.timezone, 'Asia/Shanghai');
    assert.equal(description.spec.jitter, 5 * 60_000);
    const next = description.info.nextActionTimes[0]!;
    const shanghai = new Date(next.getTime() + 8 * 3600_000);
    assert.equal(shanghai.getUTCDate(), 3);
    assert.equal(shanghai.getUTCHours(), 9);
    assert.ok(shanghai.getUTCMinutes() >= 30 && shanghai.getUTCMinutes() <= 35, `next run ${next.toISOString()}`);

    // Unchanged entries are left alone; a changed hour updates that schedule only.
    writeFileSync(file, JSON.stringify({ taxpayers: [entry(A, 11), entry(B)] }));
    const second = await applySchedules(stack.client, loadRegistry(file));
    assert.deepEqual(second, {
      created: [],
      updated: [deductionScheduleId(A)],
      unchanged: [deductionScheduleId(B)],
      deleted: [],
    });
    const updated = await stack.client.schedule.getHandle(deductionScheduleId(A)).describe();
    assert.deepEqual(updated.spec.calendars?.[0]?.hour, [{ start: 11, end: 11, step: 1 }]);

    // Removing B from the file deletes its schedule (once visibility lists it).
    await eventually(async () => ((await ourScheduleIds(stack.client)).length === 2 ? true : undefined), 'listing');
    writeFileSync(file, JSON.stringify({ taxpayers: [entry(A, 11)] }));
    const third = await applySchedules(stack.client, loadRegistry(file));
    assert.deepEqual(third.deleted, [deductionScheduleId(B)]);
    await assert.rejects(stack.client.schedule.getHandle(deductionScheduleId(B)).describe(), /not found/i);

    run = await cli('schedules', 'list');
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, new RegExp(deductionScheduleId(A)));
    run = await cli('schedules', 'pause', B);
    assert.equal(run.code, 4, run.out);
    assert.match(run.out, /No schedule .* schedules apply/);
  });

  it('a trigger starts deduction-<taxNo>-<period> once; a second trigger starts nothing new', async () => {
    const triggeredAt = new Date();
    await triggerSchedule(stack.client, A);
    const [first] = await launcherResults(A, 1);
    assert.equal(first!.started, true);
    await triggerSchedule(stack.client, A);
    const results = await launcherResults(A, 2);
    const before = periodOpenOn(triggeredAt);
    const periods = new Set(results.map((r) => r.taxPeriod));
    assert.ok(periods.size === 1 && [...periods][0] === before, `period from the trigger time: ${[...periods]}`);
    assert.deepEqual(results.map((r) => r.started).sort(), [false, true]);
    const id = deductionWorkflowId(A, before);
    assert.ok(results.every((r) => r.workflowId === id));
    const runs = [];
    for await (const w of stack.client.workflow.list({ query: `WorkflowId = "${id}"` })) runs.push(w);
    assert.equal(runs.length, 1, 'exactly one deduction run for the taxpayer-month');
    assert.equal(runs[0]!.type, 'MonthlyDeductionWorkflow');
  });

  it('a backfill takes the period from the scheduled time in Shanghai', async () => {
    // 2027-02-03 09:30 Shanghai (11:00 after the update above, so use a window around it).
    await backfillSchedule(
      stack.client,
      A,
      new Date('2027-02-03T00:00:00+08:00'),
      new Date('2027-02-04T00:00:00+08:00'),
    );
    const results = await launcherResults(A, 3);
    const backfilled = results.find((r) => r.taxPeriod === '202701');
    assert.ok(backfilled, `a launcher for 202701: ${JSON.stringify(results)}`);
    assert.equal(backfilled.started, true);
    assert.equal(backfilled.workflowId, deductionWorkflowId(A, '202701'));
    const rows = await listSchedules(stack.client);
    assert.ok(rows.find((r) => r.taxNo === A)!.recentRuns.length >= 1);
  });
});
