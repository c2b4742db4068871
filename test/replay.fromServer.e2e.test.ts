import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { applyAccountingSchedule, runAccountingNow } from '../client/accounting.js';
import { approve, startMonthlyDeduction, statisticAwaitingApproval } from '../client/deductions.js';
import { parseRegistry } from '../client/registry.js';
import { LIVE_WORKFLOWS_QUERY, runReplay } from '../client/replay.js';
import { applySchedules, triggerSchedule } from '../client/schedules.js';
import { parseAccountingRules } from '../rules/accountingRulesSchema.js';
import { PROJECT_ROOT } from '../scripts/temporalTools.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import type { AccountingReport } from '../workflows/accountingContract.js';
import { TASK_QUEUE } from '../workflows/contract.js';
import type { LauncherResult } from '../workflows/launcherContract.js';
import { TEST_APPROVERS } from './support/approvers.js';
import { TEST_WINDOW } from './support/calendar.js';
import { recordHistory } from './support/recordHistory.js';
import { startStack, type TestStack } from './support/stack.js';
import { addTaxpayer } from './support/taxpayers.js';
import { temporalCli } from './support/versionedWorker.js';
import { waitForStage } from './support/workflows.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const [WAITING, APPROVED] = ['91440300591872133B', '91440300MA5G9GK78Y'];
const LAUNCHED = withCheckCharacter('914403000REP00001');
const ALSO_WAITING = withCheckCharacter('914403000REP00002');
const ACCOUNTING = '91440300MA5DC6QB6G';
const ALL_OURS = `TaskQueue = "${TASK_QUEUE}"`;
const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500, backoffCoefficient: 1.5 };
const RULES = parseAccountingRules(
  JSON.parse(readFileSync(fileURLToPath(new URL('../config/accounting-rules.example.json', import.meta.url)), 'utf8')),
);
const INCOMPATIBLE_WORKFLOWS = fileURLToPath(new URL('./support/incompatibleWorkflows.ts', import.meta.url));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Run {
  code: number;
  out: string;
  err: string;
}

describe('npm run replay: histories from a real dev server and saved files against the workflow code', function () {
  this.timeout(300_000);
  let stack: TestStack;
  let rulesFile: string | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'replay-'));

  before(async () => {
    // The run without rules must find none on the worker either.
    rulesFile = process.env.ACCOUNTING_RULES_FILE;
    delete process.env.ACCOUNTING_RULES_FILE;
    stack = await startStack();
    await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 20, seed: 9 });
    await addTaxpayer(stack.admin, LAUNCHED, { invoices: 12, seed: 2 });
    await addTaxpayer(stack.admin, ALSO_WAITING, { invoices: 12, seed: 6 });
    await stack.admin.setClock(SANDBOX_NOW);
    await stack.startWorker();
  });
  after(async () => {
    if (rulesFile !== undefined) process.env.ACCOUNTING_RULES_FILE = rulesFile;
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function replay(...args: string[]): Promise<Run> {
    let out = '';
    let err = '';
    const code = await runReplay(
      args,
      { out: (t) => (out += t), err: (t) => (err += t) },
      {
        connect: async (namespace) =>
          new Client({
            connection: await Connection.connect({ address: stack.temporal.address }),
            namespace: namespace ?? stack.temporal.namespace,
          }),
      },
    );
    return { code, out, err };
  }

  /** `npm run replay -- <args>` as an operator runs it, against the stack's server. */
  function npmReplay(...args: string[]): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn('npm', ['run', '--silent', 'replay', '--', ...args], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, TEMPORAL_ADDRESS: stack.temporal.address, TEMPORAL_NAMESPACE: stack.temporal.namespace },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code: code ?? -1, out, err }));
    });
  }

  async function listed(query: string): Promise<{ workflowId: string; type: string }[]> {
    const rows: { workflowId: string; type: string }[] = [];
    for await (const w of stack.client.workflow.list({ query })) rows.push({ workflowId: w.workflowId, type: w.type });
    return rows;
  }

  async function eventually<T>(fn: () => Promise<T | undefined>, what: string, ms = 60_000): Promise<T> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const value = await fn();
      if (value !== undefined) return value;
      await sleep(250);
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  /** Every run of a type for a taxpayer, oldest first, once `count` of them have closed. */
  async function closedRuns(type: string, taxNo: string, count: number): Promise<WorkflowHandle[]> {
    return eventually(async () => {
      const runs: { handle: WorkflowHandle; start: number }[] = [];
      const query = `WorkflowType = "${type}" AND TaxNo = "${taxNo}" AND ExecutionStatus != "Running"`;
      for await (const w of stack.client.workflow.list({ query })) {
        runs.push({ handle: stack.client.workflow.getHandle(w.workflowId, w.runId), start: w.startTime.getTime() });
      }
      return runs.length >= count ? runs.sort((a, b) => a.start - b.start).map((r) => r.handle) : undefined;
    }, `${count} closed ${type} runs for ${taxNo}`);
  }

  function okLines(out: string): string[] {
    return out.split('\n').filter((l) => l.startsWith('ok '));
  }

  it('runs months, scheduled launches and auto-accounting runs on the server', async () => {
    const start = async (taxNo: string) =>
      (
        await startMonthlyDeduction(stack.client, {
          approvers: TEST_APPROVERS,
          taxNo,
          taxPeriod: PERIOD,
          polling: FAST_POLLING,
        })
      ).handle;
    const waiting = [await start(WAITING), await start(ALSO_WAITING)];
    const approved = await start(APPROVED);
    for (const handle of waiting) await waitForStage(handle, 'AWAITING_APPROVAL', 90_000);
    await waitForStage(approved, 'AWAITING_APPROVAL', 90_000);
    const { digest } = await statisticAwaitingApproval(stack.client, APPROVED, PERIOD);
    await approve(stack.client, APPROVED, PERIOD, { approver: '王会计', statisticDigest: digest });
    assert.equal(((await approved.result()) as { outcome: string }).outcome, 'COMPLETED');

    // The taxpayer's schedule, triggered twice: the second launch finds the month running.
    const registry = parseRegistry({
      taxpayers: [
        {
          taxNo: LAUNCHED,
          name: '回放测试有限公司',
          approvers: TEST_APPROVERS,
          schedule: { dayOfMonth: 3, hour: 9, minute: 30 },
        },
      ],
    });
    await applySchedules(stack.client, registry);
    await triggerSchedule(stack.client, LAUNCHED);
    const [firstLaunch] = await closedRuns('ScheduledDeductionLauncher', LAUNCHED, 1);
    const first = (await firstLaunch!.result()) as LauncherResult;
    assert.equal(first.started, true);
    await triggerSchedule(stack.client, LAUNCHED);
    const [, secondLaunch] = await closedRuns('ScheduledDeductionLauncher', LAUNCHED, 2);
    const second = (await secondLaunch!.result()) as LauncherResult;
    assert.equal(second.started, false);
    assert.ok(second.existingStatus, 'the second launch describes the month it found');

    // Auto-accounting: a scheduled run (its period from the scheduled time) and a run without rules.
    const { scheduleId } = await applyAccountingSchedule(stack.client, {
      taxNo: ACCOUNTING,
      dayOfMonth: 5,
      hour: 2,
      minute: 0,
      rules: RULES,
    });
    await stack.client.schedule.getHandle(scheduleId).trigger();
    const [scheduledAccounting] = await closedRuns('AutoAccountingWorkflow', ACCOUNTING, 1);
    const report = (await scheduledAccounting!.result()) as AccountingReport;
    assert.equal(report.status, 'COMPLETED');
    assert.ok(report.booked > 0, 'the scheduled run booked invoices');
    const noRules = await runAccountingNow(stack.client, { taxNo: ACCOUNTING, accountPeriod: PERIOD });
    const failed = stack.client.workflow.getHandle(noRules.workflowId, noRules.runId);
    await assert.rejects(failed.result(), WorkflowFailedError);

    // RECORD_HISTORIES=1 keeps them as fixtures of test/replay.test.ts (docs/versioning.md).
    await recordHistory(firstLaunch!, 'launcher-started-month');
    await recordHistory(secondLaunch!, 'launcher-month-already-exists');
    await recordHistory(scheduledAccounting!, 'accounting-scheduled-run');
    await recordHistory(failed, 'accounting-failed-without-rules');
  });

  it('replays the live workflows (the default query) without nondeterminism, one line each', async () => {
    // The launched month may be running or not: its period comes from today, the sandbox's from TEST_WINDOW.
    const live = await listed(LIVE_WORKFLOWS_QUERY);
    const ids = live.map((w) => w.workflowId);
    for (const taxNo of [WAITING, ALSO_WAITING]) assert.ok(ids.includes(`deduction-${taxNo}-${PERIOD}`), `${ids}`);

    const run = await replay('--from-server');
    assert.equal(run.code, 0, run.out + run.err);
    assert.match(run.out, new RegExp(`matching ${LIVE_WORKFLOWS_QUERY.replace(/[()"]/g, '.')}`));
    const lines = okLines(run.out);
    assert.equal(lines.length, live.length);
    for (const id of ids)
      assert.ok(
        lines.some((l) => l.includes(`${id} (MonthlyDeductionWorkflow, RUNNING`)),
        id,
      );
    assert.match(
      run.out,
      new RegExp(`Replayed ${live.length} workflow history\\(ies\\) .*: ${live.length} ok, 0 failed`),
    );
  });

  it('replays every workflow type with --query, closed ones too; --limit caps the count', async () => {
    const all = await listed(ALL_OURS);
    const types = new Set(all.map((w) => w.type));
    assert.deepEqual([...types].sort(), [
      'AutoAccountingWorkflow',
      'MonthlyDeductionWorkflow',
      'ScheduledDeductionLauncher',
    ]);
    const run = await replay('--from-server', '--query', ALL_OURS, '--namespace', stack.temporal.namespace);
    assert.equal(run.code, 0, run.out + run.err);
    assert.equal(okLines(run.out).length, all.length);
    for (const type of types)
      assert.ok(
        okLines(run.out).some((l) => l.includes(`(${type}, `)),
        type,
      );

    const limited = await replay('--from-server', '--query', ALL_OURS, '--limit', '2');
    assert.equal(limited.code, 0, limited.out + limited.err);
    assert.equal(okLines(limited.out).length, 2);
  });

  it('runs as `npm run replay -- --from-server` and exits 0', async () => {
    const run = await npmReplay('--from-server');
    assert.equal(run.code, 0, run.out + run.err);
    assert.match(run.out, new RegExp(`ok deduction-${WAITING}-${PERIOD} \\(MonthlyDeductionWorkflow, RUNNING`));
    assert.match(run.out, / ok, 0 failed\.\n$/);
  });

  it('exits 1 naming every workflow a changed workflow would break (a bundle where the month differs)', async () => {
    const { code } = await bundleWorkflowCode({
      workflowsPath: INCOMPATIBLE_WORKFLOWS,
      logger: new DefaultLogger('WARN'),
    });
    const bundle = join(dir, 'incompatible-bundle.js');
    writeFileSync(bundle, code);
    const months = (await listed(ALL_OURS)).filter((w) => w.type === 'MonthlyDeductionWorkflow');
    assert.ok(months.length >= 4, `${months.length} months`);

    const run = await npmReplay('--from-server', '--query', ALL_OURS, '--bundle', bundle);
    assert.equal(run.code, 1, run.out + run.err);
    const failed = run.out.split('\n').filter((l) => l.startsWith('FAIL '));
    assert.equal(failed.length, months.length);
    for (const { workflowId } of months) {
      assert.ok(
        failed.some((l) => l.startsWith(`FAIL ${workflowId} (MonthlyDeductionWorkflow`) && /nondeterminism/i.test(l)),
        `${workflowId} fails with nondeterminism:\n${run.out}`,
      );
    }
    // The other types are the released code in that bundle: they still replay.
    assert.ok(okLines(run.out).some((l) => l.includes('(ScheduledDeductionLauncher, ')));
    assert.ok(okLines(run.out).some((l) => l.includes('(AutoAccountingWorkflow, ')));
    assert.match(run.out, new RegExp(`This code would break .*${months[0]!.workflowId}`));
    assert.match(run.out, /patched\('<change-id>'\)/);
  });

  it('replays a saved history (temporal workflow show --output json); a tampered one exits 1', async () => {
    const saved = join(dir, 'approved-month.json');
    writeFileSync(
      saved,
      await temporalCli(
        stack,
        'workflow',
        'show',
        '--workflow-id',
        `deduction-${APPROVED}-${PERIOD}`,
        '--output',
        'json',
      ),
    );
    const ok = await replay('--file', saved);
    assert.equal(ok.code, 0, ok.out + ok.err);
    assert.match(ok.out, /^ok approved-month \(MonthlyDeductionWorkflow, \d+ events\)$/m);

    // The same history with one activity renamed: no code ever scheduled that activity.
    const history = JSON.parse(readFileSync(saved, 'utf8')) as {
      events: { activityTaskScheduledEventAttributes?: { activityType: { name: string } } }[];
    };
    const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes)!;
    scheduled.activityTaskScheduledEventAttributes!.activityType.name = 'renamedActivity';
    const tampered = join(dir, 'tampered-month.json');
    writeFileSync(tampered, JSON.stringify(history));
    const broken = await replay('--file', saved, '--file', tampered);
    assert.equal(broken.code, 1, broken.out + broken.err);
    assert.match(broken.out, /^ok approved-month /m);
    assert.match(broken.out, /^FAIL tampered-month \(MonthlyDeductionWorkflow, \d+ events\): nondeterminism: .+/m);
    assert.match(broken.out, /1 ok, 1 failed\.\nThis code would break tampered-month:/);
  });
});
