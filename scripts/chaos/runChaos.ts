import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { approve, startMonthlyDeduction } from '../../client/deductions.js';
import { withCheckCharacter } from '../../protocol/taxNo.js';
import { SandboxAdmin } from '../../simulator/adminClient.js';
import { filingWindowContaining } from '../../simulator/filingWindow.js';
import { prng } from '../../simulator/random.js';
import { WORKFLOWS_PATH } from '../../workers/createWorker.js';
import { deductionWorkflowId, type MonthlyDeductionResult } from '../../workflows/contract.js';
import { freePort, startDevServer, type DevServer } from '../devServer.js';
import { ManagedProcess } from './processes.js';

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
  seed: z.number().int().default(2026),
  /** The day the run's period and sandbox clock derive from (an ISO instant; default: now). */
  today: z.iso.datetime({ offset: true }).optional(),
  keepData: z.boolean().default(false),
});
export type ChaosOptions = z.input<typeof ChaosOptions>;

export interface InvariantCheck {
  name: string;
  held: boolean;
  detail: string;
}

export interface ChaosReport {
  options: z.output<typeof ChaosOptions>;
  durationMs: number;
  actions: Record<string, number>;
  workflows: { total: number; completed: number; other: Record<string, number> };
  approvalsSent: number;
  bureauWrites: Record<string, number>;
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
 * checks from the sandbox's ledger and from Temporal that every guarantee held.
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

  const temporalPort = await freePort();
  const sandboxPort = await freePort();
  const temporalDb = join(dataDir, 'temporal.sqlite');
  const startTemporal = () =>
    startDevServer({ port: temporalPort, headless: true, dbFile: temporalDb, logFile: join(dataDir, 'temporal.log') });
  let temporal: DevServer = await startTemporal();

  const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
  const admin = new SandboxAdmin(sandboxUrl);
  const sandbox = new ManagedProcess(
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
  }
  for (const kind of ['select', 'statistic', 'confirm'] as const) {
    await admin.setTaskLatency({
      kind,
      distribution: { type: 'uniform', minMs: 300, maxMs: 2500 },
      seed: options.seed,
    });
  }
  await faults('after');

  const workerEnv = {
    TEMPORAL_ADDRESS: temporal.address,
    INVOICE_CLOUD_BASE_URL: sandboxUrl,
    INVOICE_CLOUD_TIMEOUT_MS: '3000',
    WORKFLOW_BUNDLE_PATH: bundlePath,
    LOG_LEVEL: 'info',
  };
  const workers = Array.from(
    { length: options.workers },
    (_, i) => new ManagedProcess(`worker-${i}`, 'workers/main.ts', workerEnv, join(dataDir, `worker-${i}.log`)),
  );
  workers.forEach((w) => w.start());

  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace });
  for (const taxNo of taxNos) {
    await startMonthlyDeduction(client, {
      taxNo,
      taxPeriod: period,
      approvers: [APPROVER],
      batchSize: 100,
      polling: { initialIntervalMs: 500, maximumIntervalMs: 2000, backoffCoefficient: 1.5 },
    });
  }
  log(`started ${taxNos.length} taxpayer-months of ${options.invoicesPerTaxpayer} invoices`);

  // The test approver: approves whatever awaits approval, as a person with the inbox would.
  const approved = new Set<string>();
  let approvalsSent = 0;
  let finished = false;
  const approver = (async () => {
    while (!finished) {
      for (const taxNo of taxNos) {
        if (approved.has(taxNo) || finished) continue;
        try {
          await approve(client, taxNo, period, { approver: APPROVER });
          approved.add(taxNo);
          approvalsSent++;
        } catch {
          // Not awaiting approval yet, or Temporal is restarting: try again on the next pass.
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
    ...Array<string>(options.expiries).fill('expire-tokens'),
    ...Array<string>(options.expiries).fill('expire-bureau-logins'),
    ...Array<string>(options.expiries).fill('toggle-fault-point'),
  ];
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [plan[i], plan[j]] = [plan[j]!, plan[i]!];
  }
  let faultPoint: 'before' | 'after' = 'after';
  for (const action of plan) {
    const [low, high] = options.actionGapMs;
    await sleep(low + random() * (high - low));
    try {
      switch (action) {
        case 'kill-worker': {
          const victim = workers[Math.floor(random() * workers.length)]!;
          await victim.kill();
          await sleep(200 + random() * 1500);
          victim.start();
          break;
        }
        case 'restart-temporal': {
          process.kill(temporal.pid, 'SIGKILL');
          await sleep(500);
          // Same port and database file; the client's and the workers' connections reconnect.
          temporal = await startTemporal();
          break;
        }
        case 'restart-sandbox':
          await sandbox.kill();
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

  // Let the run finish; a workflow still open at the timeout is stuck.
  const results = new Map<string, MonthlyDeductionResult | string>();
  const deadline = began + options.timeoutMs;
  while (results.size < taxNos.length && Date.now() < deadline) {
    for (const taxNo of taxNos) {
      if (results.has(taxNo)) continue;
      try {
        const handle = client.workflow.getHandle(deductionWorkflowId(taxNo, period));
        const description = await handle.describe();
        if (description.status.name === 'RUNNING') continue;
        results.set(
          taxNo,
          description.status.name === 'COMPLETED'
            ? ((await handle.result()) as MonthlyDeductionResult)
            : description.status.name,
        );
      } catch {
        // Temporal busy: next pass.
      }
    }
    await sleep(1000);
  }
  finished = true;
  await approver;
  await admin.clearFaults();

  // The invariants, from the bureau's side (the sandbox ledger) and from Temporal's.
  const invariants: InvariantCheck[] = [];
  const check = (name: string, held: boolean, detail: string) => invariants.push({ name, held, detail });
  const completed = [...results.values()].filter((r): r is MonthlyDeductionResult => typeof r !== 'string');
  const other: Record<string, number> = {};
  for (const r of results.values()) if (typeof r === 'string') other[r] = (other[r] ?? 0) + 1;
  const stuck = taxNos.length - results.size;
  check(
    'every workflow reached COMPLETED',
    completed.length === taxNos.length && completed.every((r) => r.outcome === 'COMPLETED'),
    `${completed.length}/${taxNos.length} completed; other: ${JSON.stringify(other)}`,
  );
  check('no workflow stuck', stuck === 0, `${stuck} still running at the end`);
  const withApproval = completed.filter((r) => r.decision?.decision === 'approved' && r.decision.approver === APPROVER);
  check(
    'no approval lost',
    withApproval.length === completed.length && approvalsSent >= completed.length,
    `${withApproval.length} results carry the approval; ${approvalsSent} approvals sent`,
  );

  const invariantsFromBureau = await admin.invariants();
  check(
    'no invoice selected twice',
    invariantsFromBureau.invoicesSelectedTwice.length === 0,
    `${invariantsFromBureau.invoicesSelectedTwice.length} invoices selected twice`,
  );
  const confirmations = new Map(
    invariantsFromBureau.confirmationsPerTaxpayerPeriod.map((c) => [c.taxNo, c.confirmations]),
  );
  const confirmedOnce = taxNos.filter((t) => confirmations.get(t) === 1).length;
  check(
    'exactly one confirmation per taxpayer and period',
    confirmedOnce === taxNos.length && invariantsFromBureau.periodsConfirmedTwice.length === 0,
    `${confirmedOnce}/${taxNos.length} confirmed exactly once; ${invariantsFromBureau.periodsConfirmedTwice.length} confirmed twice`,
  );

  let consistent = 0;
  for (const r of completed) {
    const state = await admin.getTaxpayer(r.taxNo);
    if (state.selectedCount === r.statistic?.deductibleCount && state.confirmedPeriods.includes(period)) consistent++;
  }
  check(
    "confirmed statistic matches the bureau's selection",
    consistent === completed.length,
    `${consistent}/${completed.length} taxpayers`,
  );

  const ledger = await admin.ledger();
  const bureauWrites: Record<string, number> = {};
  for (const w of ledger)
    if (taxNos.includes(w.taxNo)) bureauWrites[w.interfaceCode] = (bureauWrites[w.interfaceCode] ?? 0) + 1;

  await Promise.all(workers.map((w) => w.stop()));
  await sandbox.stop();
  await connection.close().catch(() => undefined);
  await temporal.stop();
  if (!options.keepData) rmSync(dataDir, { recursive: true, force: true });

  return {
    options,
    durationMs: Date.now() - began,
    actions: { ...actions, 'worker process starts': workers.reduce((n, w) => n + w.starts, 0) },
    workflows: { total: taxNos.length, completed: completed.length, other },
    approvalsSent,
    bureauWrites,
    invariants,
    ok: invariants.every((i) => i.held),
    dataDir,
  };
}

export function formatChaosReport(report: ChaosReport): string {
  const o = report.options;
  const lines = [
    `Chaos run: ${o.taxpayers} taxpayer-months x ${o.invoicesPerTaxpayer} invoices, ${o.workers} workers, ${(report.durationMs / 1000).toFixed(0)} s`,
    `Faults: HTTP 5xx ${(o.http5xxRate * 100).toFixed(0)}%, hung responses ${(o.hangRate * 100).toFixed(0)}%, injected before or after the sandbox applied the request`,
    '',
    'What it did                          count',
    ...Object.entries(report.actions).map(([k, v]) => `  ${k.padEnd(34)} ${v}`),
    `  ${'approvals sent'.padEnd(34)} ${report.approvalsSent}`,
    ...Object.entries(report.bureauWrites).map(([k, v]) => `  ${`bureau ${k} accepted`.padEnd(34)} ${v}`),
    '',
    'Invariant                                         held  detail',
    ...report.invariants.map((i) => `  ${i.name.padEnd(48)} ${i.held ? 'yes ' : 'NO  '}  ${i.detail}`),
    '',
    report.ok ? 'All invariants held.' : 'SOME INVARIANTS FAILED.',
  ];
  return lines.join('\n');
}
