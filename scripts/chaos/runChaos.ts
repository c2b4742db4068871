import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import {
  approve,
  DeductionInputError,
  DeductionNotFoundError,
  DeductionStateError,
  startMonthlyDeduction,
  statisticAwaitingApproval,
} from '../../client/deductions.js';
import { addMonths } from '../../protocol/period.js';
import { withCheckCharacter } from '../../protocol/taxNo.js';
import { SandboxAdmin, type FaultsServed } from '../../simulator/adminClient.js';
import { filingWindowContaining } from '../../simulator/filingWindow.js';
import { prng } from '../../simulator/random.js';
import { WORKFLOWS_PATH } from '../../workers/createWorker.js';
import { deductionWorkflowId, progressQuery, type MonthlyDeductionResult } from '../../workflows/contract.js';
import { freePort, startDevServer, type DevServer } from '../devServer.js';
import { startCluster } from '../cluster/cluster.js';
import { freeBase } from '../cluster/config.js';
import { pregenerateTable } from './pregenerated.js';
import { checkInvariants, type ApprovalSent, type InvariantResult, type MonthEvidence } from './invariants.js';
import { projectScript } from '../processes.js';

/** One taxpayer in this many starts with a table generated before its month (revoked by the month). */
const PREGENERATED_EVERY = 5;

export const ChaosOptions = z.object({
  taxpayers: z.number().int().min(1).max(1000).default(50),
  invoicesPerTaxpayer: z.number().int().min(1).max(5000).default(200),
  workers: z.number().int().min(1).max(8).default(2),
  workerKills: z.number().int().min(0).default(20),
  temporalRestarts: z.number().int().min(0).default(2),
  sandboxRestarts: z.number().int().min(0).default(1),
  http5xxRate: z.number().min(0).max(1).default(0.1),
  hangRate: z.number().min(0).max(1).default(0.05),
  /** Tokens and bureau logins are expired this many times each. */
  expiries: z.number().int().min(0).default(3),
  /** Pause between chaos actions (ms, uniformly drawn between the two). */
  actionGapMs: z.tuple([z.number().int().positive(), z.number().int().positive()]).default([1500, 4000]),
  timeoutMs: z
    .number()
    .int()
    .positive()
    .default(15 * 60_000),
  /**
   * How much longer than timeoutMs a month may take when it is waiting for the next attempt its
   * retry policy scheduled (Temporal's pending activity says when). A step's retry interval doubles
   * after each failed attempt up to its cap, 30 minutes for the confirmation (workflows/month/
   * confirmStatistic.ts): a run of failed attempts near the end legitimately postpones a month
   * beyond timeoutMs. A month with no attempt scheduled is not waited for.
   */
  retryWaitMs: z
    .number()
    .int()
    .min(0)
    .default(32 * 60_000),
  seed: z.number().int().default(2026),
  /**
   * Against `npm run cluster`'s topology instead of the dev server: PostgreSQL and two Temporal
   * nodes; a Temporal restart then SIGKILLs node 1 and starts it again, and PostgreSQL is restarted
   * `postgresRestarts` times.
   */
  cluster: z.boolean().default(false),
  postgresRestarts: z.number().int().min(0).default(1),
  /** The day the run's period and sandbox clock derive from (an ISO instant; default: now). */
  today: z.iso.datetime({ offset: true }).optional(),
  keepData: z.boolean().default(false),
});
export type ChaosOptions = z.input<typeof ChaosOptions>;

export type InvariantCheck = InvariantResult;

/** Faults that actually happened, as the processes and the sandbox's fault injector counted them. */
export interface FaultsFired {
  /** Worker SIGKILLs that hit a live worker process, and of those, one that had started polling. */
  liveWorkerKills: number;
  readyWorkerKills: number;
  /** Sandbox SIGKILLs that hit a live sandbox. */
  liveSandboxKills: number;
  temporalRestarts: number;
  /** Cluster mode: PostgreSQL restarts. */
  postgresRestarts: number;
  /** What the sandbox's fault injector served (persisted across its restarts). */
  served: FaultsServed;
}

export interface ChaosReport {
  options: z.output<typeof ChaosOptions>;
  /** Why each month that did not complete failed (its workflow's failure, root cause last). */
  failures: string[];
  durationMs: number;
  actions: Record<string, number>;
  faultsFired: FaultsFired;
  workflows: { total: number; completed: number; other: Record<string, number> };
  /** Approval signals sent (some while Temporal restarted: outcome unknown), and those Temporal accepted. */
  approvalsSent: number;
  approvalsAccepted: number;
  /** Write requests that reached the bureau, per interface: accepted, and refused. */
  bureauWrites: Record<string, { accepted: number; refused: number }>;
  invariants: InvariantCheck[];
  ok: boolean;
  dataDir: string;
}

const APPROVER = '自动审批';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`chaos: timed out waiting for ${what}`);
    await sleep(250);
  }
}

/**
 * Runs many taxpayer-months to completion while killing workers, the Temporal server and the
 * sandbox, with the sandbox injecting HTTP faults and expiring tokens and bureau logins; then
 * checks the invariants (./invariants.ts) from the bureau's ledger of the write requests that
 * reached it, its pool and tables, Temporal's describe status and the approvals sent.
 */
export async function runChaos(
  input: ChaosOptions,
  log: (line: string) => void = () => undefined,
): Promise<ChaosReport> {
  const options = ChaosOptions.parse(input);
  // Inside the filing window of the current month: its deadline is weeks after the run.
  const { period, sandboxNow } = filingWindowContaining(options.today ? new Date(options.today) : new Date());
  const random = prng(options.seed);
  const began = Date.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'vat-chaos-'));
  const actions: Record<string, number> = {};
  const did = (action: string) => (actions[action] = (actions[action] ?? 0) + 1);

  const bundlePath = join(dataDir, 'workflow-bundle.js');
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  writeFileSync(bundlePath, code);

  const temporal = await startChaosTemporal(options.cluster, dataDir, log);
  const sandboxPort = await freePort();

  const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
  const admin = new SandboxAdmin(sandboxUrl);
  const sandbox = projectScript(
    'sandbox',
    'simulator/main.ts',
    { SANDBOX_PORT: String(sandboxPort), SANDBOX_DB: join(dataDir, 'sandbox.sqlite') },
    join(dataDir, 'sandbox.log'),
  );
  const faults = (injectAt: 'before' | 'after') =>
    admin.setFaults({
      http5xxRate: options.http5xxRate,
      hangRate: options.hangRate,
      injectAt,
      seed: options.seed,
    });
  async function startSandboxProcess(): Promise<void> {
    sandbox.start();
    await until('the sandbox', 30_000, async () => (await admin.health()).status === 'ok' || undefined);
    await faults('after');
  }
  await startSandboxProcess();

  // The tenant, the taxpayers and their pools, the clock inside the filing window, task latencies.
  await admin.seedDemo({ taxPeriod: period, now: sandboxNow, invoicesPerTaxpayer: 1, seed: options.seed });
  await admin.setClock(sandboxNow);
  const taxNos = Array.from({ length: options.taxpayers }, (_, i) =>
    withCheckCharacter(`91440300MA5C${String(i).padStart(5, '0')}`),
  );
  await admin.clearFaults();
  for (const [i, taxNo] of taxNos.entries()) {
    await admin.upsertTaxpayer({
      taxNo,
      name: `混沌测试${i}有限公司`,
      softCertificate: true,
      periodChangeSupported: true,
      taxPeriod: period,
      confirmPassword: '1234567',
    });
    await admin.generateInvoices(taxNo, { count: options.invoicesPerTaxpayer, seed: options.seed + i, period: period });
    // Every fifth month finds its table generated by someone else: it revokes it first.
    if (i % PREGENERATED_EVERY === 0) await pregenerateTable(sandboxUrl, taxNo, period, sandboxNow.slice(0, 10));
  }
  for (const kind of ['select', 'statistic', 'confirm'] as const) {
    await admin.setTaskLatency({
      kind,
      distribution: { type: 'uniform', minMs: 300, maxMs: 2500 },
      seed: options.seed,
    });
  }
  await faults('after');

  const profileFile = join(dataDir, 'profile.json');
  writeFileSync(profileFile, JSON.stringify({ writeSettleMs: 3_000 }));
  const workerEnv = {
    INVOICE_CLOUD_BASE_URL: sandboxUrl,
    INVOICE_CLOUD_TIMEOUT_MS: '3000',
    // The sandbox shows a processing write at once (21, isAllowQxTj/isAllowQrtj false) and settles
    // its tasks within seconds: a write that got no answer is waited for 3 s, not the default 10 min.
    INVOICE_CLOUD_PROFILE: profileFile,
    WORKFLOW_BUNDLE_PATH: bundlePath,
    LOG_LEVEL: 'info',
  };
  const workers = Array.from({ length: options.workers }, (_, i) =>
    projectScript(
      `worker-${i}`,
      'workers/main.ts',
      { ...workerEnv, TEMPORAL_ADDRESS: temporal.workerAddress(i) },
      join(dataDir, `worker-${i}.log`),
      'Worker started on task queue',
    ),
  );
  workers.forEach((w) => w.start());

  const connection = await Connection.connect({ address: temporal.clientAddress });
  const client = new Client({ connection, namespace: 'default' });
  for (const taxNo of taxNos) {
    await startMonthlyDeduction(client, {
      taxNo,
      taxPeriod: period,
      approvers: [APPROVER],
      batchSize: 100,
      // After confirmation the bureau is moved on to the next period: the chaos run changes periods too.
      changePeriodTo: addMonths(period, 1),
      polling: { initialIntervalMs: 500, maximumIntervalMs: 2000, backoffCoefficient: 1.5 },
    });
  }
  log(`started ${taxNos.length} taxpayer-months of ${options.invoicesPerTaxpayer} invoices`);

  // The test approver: approves whatever awaits approval, as a person with the inbox would. Each
  // approval it sent is kept with when it was sent and whether Temporal accepted the signal; a
  // call that failed where the signal may have gone out counts as sent, not accepted.
  const approved = new Set<string>();
  const approvals: ApprovalSent[] = [];
  let finished = false;
  const approver = (async () => {
    while (!finished) {
      for (const taxNo of taxNos) {
        if (approved.has(taxNo) || finished) continue;
        const sentAt = Date.now();
        try {
          const decided = await approve(client, taxNo, period, {
            approver: APPROVER,
            statisticDigest: (await statisticAwaitingApproval(client, taxNo, period)).digest,
          });
          // Voided (the table changed after the approval): the next pass approves the new table.
          if (decided.outcome === 'voided') continue;
          approved.add(taxNo);
          approvals.push({ taxNo, period, sentAt, accepted: true });
        } catch (error) {
          // Not awaiting approval yet (nothing was sent), or Temporal is restarting: next pass.
          const notSent =
            error instanceof DeductionStateError ||
            error instanceof DeductionInputError ||
            error instanceof DeductionNotFoundError;
          if (!notSent) approvals.push({ taxNo, period, sentAt, accepted: false });
        }
      }
      await sleep(500);
    }
  })();

  // The chaos plan: every action, shuffled, one after another with random gaps.
  const plan: string[] = [
    ...Array<string>(options.workerKills).fill('kill-worker'),
    ...Array<string>(options.temporalRestarts).fill('restart-temporal'),
    ...Array<string>(options.sandboxRestarts).fill('restart-sandbox'),
    ...Array<string>(options.cluster ? options.postgresRestarts : 0).fill('restart-postgres'),
    ...Array<string>(options.expiries).fill('expire-tokens'),
    ...Array<string>(options.expiries).fill('expire-bureau-logins'),
    ...Array<string>(options.expiries).fill('toggle-fault-point'),
  ];
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [plan[i], plan[j]] = [plan[j]!, plan[i]!];
  }
  let faultPoint: 'before' | 'after' = 'after';
  let readyWorkerKills = 0;
  let liveSandboxKills = 0;
  for (const action of plan) {
    const [low, high] = options.actionGapMs;
    await sleep(low + random() * (high - low));
    try {
      switch (action) {
        case 'kill-worker': {
          const victim = workers[Math.floor(random() * workers.length)]!;
          const wasReady = victim.ready;
          const hit = await victim.kill();
          if (hit && wasReady) readyWorkerKills++;
          log(
            `chaos: SIGKILL ${victim.name}: ${hit ? (wasReady ? 'live, polling' : 'live, starting up') : 'was not running'}`,
          );
          await sleep(200 + random() * 1500);
          victim.start();
          break;
        }
        case 'restart-temporal':
          // Same port and database; the client's and the workers' connections reconnect.
          await temporal.killAndRestart();
          break;
        case 'restart-postgres':
          await temporal.restartDatabase?.();
          break;
        case 'restart-sandbox':
          if (await sandbox.kill()) liveSandboxKills++;
          await sleep(500);
          await startSandboxProcess();
          break;
        case 'expire-tokens':
          await admin.expireTokens();
          break;
        case 'expire-bureau-logins':
          await admin.expireBureauLogins();
          break;
        case 'toggle-fault-point':
          faultPoint = faultPoint === 'after' ? 'before' : 'after';
          await faults(faultPoint);
          break;
      }
      did(action);
      log(`chaos: ${action}`);
    } catch (error) {
      log(`chaos: ${action} failed: ${(error as Error).message}`);
    }
  }
  log('chaos plan done; waiting for every workflow to close');

  // Let the run finish. Past the timeout, a month still open is waited for while Temporal has its
  // next attempt scheduled, until that attempt has had time to run; a month that goes nowhere for
  // two minutes is stuck.
  const closed = new Map<string, { status: string; result?: MonthlyDeductionResult }>();
  const failures: string[] = [];
  const waiting = new Map<string, PendingStep>();
  const deadline = began + options.timeoutMs;
  const lastChance = deadline + options.retryWaitMs;
  let waitedForRetries = 0;
  const reported = new Set<string>();
  const keepWaiting = () =>
    closed.size < taxNos.length &&
    stillWaiting(
      taxNos.filter((t) => !closed.has(t)).map((t) => waiting.get(t)),
      Date.now(),
      deadline,
      lastChance,
    );
  while (keepWaiting()) {
    for (const taxNo of taxNos) {
      if (closed.has(taxNo)) continue;
      // Looked at from now on, even if Temporal does not answer: due at once, then two minutes.
      if (!waiting.has(taxNo)) waiting.set(taxNo, { attempt: 0, dueAt: Date.now() });
      try {
        const handle = client.workflow.getHandle(deductionWorkflowId(taxNo, period));
        const description = await handle.describe();
        const status = description.status.name;
        if (status === 'RUNNING') {
          const step = pendingStep(description.raw.pendingActivities ?? [], waiting.get(taxNo));
          waiting.set(taxNo, step);
          if (Date.now() >= deadline && !reported.has(taxNo)) {
            reported.add(taxNo);
            waitedForRetries++;
            log(`${taxNo} is still open past the timeout: ${describeStep(step)}; waiting while it has a step due`);
          }
          continue;
        }
        waiting.delete(taxNo);
        if (status === 'COMPLETED')
          closed.set(taxNo, { status, result: (await handle.result()) as MonthlyDeductionResult });
        else {
          // Why a month did not complete, down to the root cause, for the report.
          const error = await handle.result().then(
            () => undefined,
            (e: unknown) => e,
          );
          const causes: string[] = [];
          for (let c = error as (Error & { cause?: unknown }) | undefined; c; c = c.cause as typeof c)
            causes.push(c.message);
          closed.set(taxNo, { status });
          const selection = await handle
            .query(progressQuery)
            .then((p) => JSON.stringify(p.selection))
            .catch(() => 'no progress');
          failures.push(`${taxNo} ${period} ${status}: ${causes.join(' <- ')}; selection ${selection}`);
        }
      } catch {
        // Temporal busy: next pass.
      }
    }
    await sleep(1000);
  }
  for (const taxNo of taxNos) {
    if (closed.has(taxNo)) continue;
    const step = waiting.get(taxNo);
    failures.push(`${taxNo} ${period} still RUNNING: ${step ? describeStep(step) : 'not seen since the timeout'}`);
  }
  finished = true;
  await approver;
  await admin.clearFaults();

  // The evidence, from the bureau's side (the sandbox's ledger, pool and tables), Temporal's
  // describe status and the approver's own record; the invariants are computed from it alone.
  const ledger = (await admin.ledger({ includeRefused: 'true' })).filter((w) => taxNos.includes(w.taxNo));
  const months: MonthEvidence[] = [];
  for (const taxNo of taxNos) {
    const month = closed.get(taxNo);
    const statistic = await admin.statistic(taxNo, period);
    const totals = month?.result?.statistic;
    months.push({
      taxNo,
      period,
      workflowStatus: month?.status ?? 'RUNNING',
      ...(totals
        ? {
            workflowTotals: {
              deductibleCount: totals.deductibleCount,
              deductibleAmount: totals.deductibleAmount,
              deductibleTax: totals.deductibleTax,
            },
          }
        : {}),
      bureau: { statisticStatus: statistic.statisticStatus, items: statistic.items },
      pool: await admin.listInvoices(taxNo),
    });
  }
  const invariants = checkInvariants({
    months,
    ledger,
    approvals,
    sandboxClockOffsetMs: (await admin.getClock()).offsetMs,
  });
  const served = await admin.faultsServed();

  const other: Record<string, number> = {};
  for (const m of months)
    if (m.workflowStatus !== 'COMPLETED') other[m.workflowStatus] = (other[m.workflowStatus] ?? 0) + 1;
  const bureauWrites: Record<string, { accepted: number; refused: number }> = {};
  for (const w of ledger) {
    const counts = (bureauWrites[w.interfaceCode] ??= { accepted: 0, refused: 0 });
    if (w.accepted) counts.accepted++;
    else counts.refused++;
  }

  await Promise.all(workers.map((w) => w.stop()));
  await sandbox.stop();
  await connection.close().catch(() => undefined);
  await temporal.stop();
  if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });

  return {
    options,
    durationMs: Date.now() - began,
    actions: {
      ...actions,
      'worker process starts': workers.reduce((n, w) => n + w.starts, 0),
      'months waited for past the timeout': waitedForRetries,
    },
    faultsFired: {
      liveWorkerKills: workers.reduce((n, w) => n + w.kills, 0),
      readyWorkerKills,
      liveSandboxKills,
      temporalRestarts: actions['restart-temporal'] ?? 0,
      postgresRestarts: actions['restart-postgres'] ?? 0,
      served,
    },
    workflows: {
      total: taxNos.length,
      completed: taxNos.length - Object.values(other).reduce((a, b) => a + b, 0),
      other,
    },
    approvalsSent: approvals.length,
    approvalsAccepted: approvals.filter((a) => a.accepted).length,
    bureauWrites,
    invariants,
    failures,
    ok: invariants.every((i) => i.held),
    dataDir,
  };
}

export function formatChaosReport(report: ChaosReport): string {
  const o = report.options;
  const f = report.faultsFired;
  const lines = [
    `Chaos run${o.cluster ? ' on the cluster (two Temporal nodes on PostgreSQL)' : ''}: ${o.taxpayers} taxpayer-months x ${o.invoicesPerTaxpayer} invoices, ${o.workers} workers, ${(report.durationMs / 1000).toFixed(0)} s`,
    `Faults: HTTP 5xx ${(o.http5xxRate * 100).toFixed(0)}%, hung responses ${(o.hangRate * 100).toFixed(0)}%, injected before or after the sandbox applied the request`,
    '',
    'What it did                          count',
    ...Object.entries(report.actions).map(([k, v]) => `  ${k.padEnd(34)} ${v}`),
    `  ${'approvals sent'.padEnd(34)} ${report.approvalsSent} (${report.approvalsAccepted} accepted by Temporal)`,
    ...Object.entries(report.bureauWrites).map(
      ([k, v]) => `  ${`bureau ${k} requests`.padEnd(34)} ${v.accepted} accepted, ${v.refused} refused`,
    ),
    '',
    'Faults that fired                    count',
    `  ${'SIGKILL hit a live worker'.padEnd(34)} ${f.liveWorkerKills} (${f.readyWorkerKills} of them polling)`,
    `  ${'SIGKILL hit the live sandbox'.padEnd(34)} ${f.liveSandboxKills}`,
    ...(o.cluster
      ? [
          `  ${'Temporal node 1 SIGKILL + restart'.padEnd(34)} ${f.temporalRestarts}`,
          `  ${'PostgreSQL restarts'.padEnd(34)} ${f.postgresRestarts}`,
        ]
      : [`  ${'Temporal server restarts'.padEnd(34)} ${f.temporalRestarts}`]),
    `  ${'HTTP 5xx served'.padEnd(34)} ${f.served.http5xx}`,
    `  ${'hung replies served'.padEnd(34)} ${f.served.hang}`,
    `  ${'replies lost after processing'.padEnd(34)} ${f.served.lostAfterProcessing} (${f.served.writesLostAfterProcessing} of writes)`,
    `  ${'  writes lost, by interface'.padEnd(34)} ${
      Object.entries(f.served.writesLostByInterface ?? {})
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([code, n]) => `${code} ${n}`)
        .join(', ') || 'none'
    }`,
    '',
    'Invariant                                                        held  detail',
    ...report.invariants.map((i) => `  ${i.name.padEnd(62)} ${i.held ? 'yes ' : 'NO  '}  ${i.detail}`),
    '',
    ...(report.failures.length ? ['', 'Months that failed:', ...report.failures.map((f) => `  ${f}`)] : []),
    report.ok ? 'All invariants held.' : 'SOME INVARIANTS FAILED.',
  ];
  return lines.join('\n');
}

/** How long a month's due step (its next attempt, or one running) is given before it counts as stuck. */
export const STEP_GRACE_MS = 120_000;

/**
 * Whether the run waits on for the months still open (undefined: not looked at yet): always
 * before the deadline; after it, until each has been looked at and while one of them has a step
 * due within the grace (its next attempt, its running one, or its state between steps since first
 * seen), but never past lastChance.
 */
export function stillWaiting(
  open: readonly (Pick<PendingStep, 'dueAt'> | undefined)[],
  now: number,
  deadline: number,
  lastChance: number,
): boolean {
  if (now < deadline) return true;
  if (now >= lastChance) return false;
  return open.some((step) => step === undefined || now < step.dueAt + STEP_GRACE_MS);
}

/** A month's pending activity as Temporal describes it: what it is doing or when it tries again. */
export interface PendingStep {
  /** Undefined when no activity is pending (the workflow is between steps, or waiting). */
  activity?: string;
  /** The attempt running, or the one scheduled next. */
  attempt: number;
  /** When Temporal runs the next attempt (epoch ms); undefined while an attempt is running. */
  nextAttemptAt?: number;
  /** The next attempt's time, or when this running attempt (or this state) was first seen. */
  dueAt: number;
  lastFailure?: string;
}

/** What the run reads of Temporal's pending activities (describe's raw.pendingActivities). */
export type PendingActivities = readonly {
  activityType?: { name?: string | null } | null;
  attempt?: number | null;
  /** Seconds come as a Long from the API. */
  nextAttemptScheduleTime?: { seconds?: number | { toNumber(): number } | null } | null;
  lastFailure?: { message?: string | null } | null;
}[];

/** A month's step from its pending activities; `before` (the last look) keeps when a state was first seen. */
export function pendingStep(
  pending: PendingActivities,
  before: PendingStep | undefined,
  now = Date.now(),
): PendingStep {
  const first = pending[0];
  if (!first) {
    const same = before !== undefined && before.activity === undefined;
    return { attempt: 0, dueAt: same ? before.dueAt : now };
  }
  const activity = first.activityType?.name ?? 'unknown activity';
  const attempt = first.attempt ?? 1;
  const seconds = first.nextAttemptScheduleTime?.seconds;
  const nextAttemptAt =
    seconds === undefined || seconds === null
      ? undefined
      : (typeof seconds === 'number' ? seconds : seconds.toNumber()) * 1000;
  const sameAttempt = before?.activity === activity && before.attempt === attempt;
  return {
    activity,
    attempt,
    ...(nextAttemptAt !== undefined ? { nextAttemptAt } : {}),
    dueAt: nextAttemptAt ?? (sameAttempt ? before.dueAt : now),
    ...(first.lastFailure?.message ? { lastFailure: first.lastFailure.message } : {}),
  };
}

export function describeStep(step: PendingStep): string {
  if (step.activity === undefined) return 'no activity pending';
  const when =
    step.nextAttemptAt !== undefined
      ? `attempt ${step.attempt} of ${step.activity} scheduled for ${new Date(step.nextAttemptAt).toISOString().slice(11, 19)}`
      : `attempt ${step.attempt} of ${step.activity} running`;
  return `${when}${step.lastFailure ? ` (last failure: ${step.lastFailure})` : ''}`;
}

/** The Temporal side of a chaos run: the dev server on SQLite, or the two-node cluster on PostgreSQL. */
interface ChaosTemporal {
  /** Where the run's own client (starts, approvals, checks) connects: never the node that is killed. */
  clientAddress: string;
  workerAddress(i: number): string;
  /** SIGKILL (the dev server, or cluster node 1), then start it again and wait until it serves. */
  killAndRestart(): Promise<void>;
  /** Cluster mode: stop PostgreSQL (fast shutdown) and start it again. */
  restartDatabase?(): Promise<void>;
  stop(): Promise<void>;
}

async function startChaosTemporal(
  cluster: boolean,
  dataDir: string,
  log: (line: string) => void,
): Promise<ChaosTemporal> {
  if (cluster) {
    const c = await startCluster({ dataDir, basePort: await freeBase(), log: (line) => log(`cluster: ${line}`) });
    const [victim, survivor] = c.nodes as [(typeof c.nodes)[number], (typeof c.nodes)[number]];
    return {
      clientAddress: survivor.address,
      // Workers on both nodes: those on node 1 lose it at each kill and reconnect after.
      workerAddress: (i) => c.nodes[i % c.nodes.length]!.address,
      killAndRestart: async () => {
        await victim.process.kill();
        await sleep(500);
        await victim.restart();
      },
      restartDatabase: async () => {
        await c.postgres.process.stop();
        await sleep(1000);
        await c.postgres.restart();
      },
      stop: () => c.stop(),
    };
  }
  const port = await freePort();
  const start = () =>
    startDevServer({
      port,
      headless: true,
      dbFile: join(dataDir, 'temporal.sqlite'),
      logFile: join(dataDir, 'temporal.log'),
    });
  let server: DevServer = await start();
  return {
    clientAddress: server.address,
    workerAddress: () => server.address,
    killAndRestart: async () => {
      process.kill(server.pid, 'SIGKILL');
      await sleep(500);
      server = await start();
    },
    stop: () => server.stop(),
  };
}
