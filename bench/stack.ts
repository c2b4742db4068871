import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listDeductions, approve, statisticAwaitingApproval } from '../client/deductions.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import { projectScript, type ManagedProcess } from '../scripts/processes.js';
import { startDevServer, type DevServer } from '../scripts/devServer.js';
import { startCluster, type Cluster } from '../scripts/cluster/cluster.js';
import { freeBase } from '../scripts/cluster/config.js';
import { SandboxAdmin } from '../simulator/adminClient.js';
import { startSandbox, type RunningSandbox } from '../simulator/server.js';
import { WORKFLOWS_PATH } from '../workers/createWorker.js';
import { Stage } from '../workflows/contract.js';
import { startCountingProxy, type CountingProxy } from './countingProxy.js';
import { sleep } from './figures.js';
import { filingWindowContaining } from '../simulator/filingWindow.js';

/** Benchmarks run inside the filing window of the current month (their deadlines are weeks away). */
const WINDOW = filingWindowContaining(new Date());
export const PERIOD = WINDOW.period;
export const SANDBOX_NOW = WINDOW.sandboxNow;
export const APPROVER = '自动审批';

export interface BenchStackOptions {
  /** Worker processes to start now (more with startWorkers). */
  workers?: number;
  /** INVOICE_CLOUD_MAX_RPS of each worker process (the client's own rate limit). */
  maxRpsPerWorker?: number;
  /** Extra environment for the worker processes. */
  workerEnv?: Record<string, string>;
  /**
   * The two-node Temporal cluster on PostgreSQL (`npm run cluster`'s launcher, in the bench's own
   * temporary folder on free ports) instead of the dev server; workers alternate between the nodes.
   */
  cluster?: boolean;
}

export interface BenchStack {
  temporal: Pick<DevServer, 'address' | 'namespace' | 'stop'>;
  /** Set when the stack runs on the cluster: its PostgreSQL, nodes and membership. */
  cluster?: Cluster;
  client: Client;
  admin: SandboxAdmin;
  sandbox: RunningSandbox;
  /** The counting proxy the workers (and the baseline) call the sandbox through. */
  proxy: CountingProxy;
  workers: ManagedProcess[];
  workerPids(): number[];
  dataDir: string;
  startWorkers(count: number, maxRpsPerWorker?: number, env?: Record<string, string>): ManagedProcess[];
  stopWorkers(): Promise<void>;
  stop(): Promise<void>;
}

let bundlePromise: Promise<string> | undefined;
/** Bundles the workflow code once per bench process, so worker processes start fast. */
function workflowBundle(dataDir: string): Promise<string> {
  bundlePromise ??= (async () => {
    const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
    const path = join(dataDir, 'workflow-bundle.js');
    writeFileSync(path, code);
    return path;
  })();
  return bundlePromise;
}

/**
 * The embedded stack on loopback, as the benchmarks need it: a Temporal dev server (in memory),
 * the sandbox in this process behind a counting proxy, and worker processes started from a
 * prebuilt workflow bundle (separate processes, so their memory and CPU can be read from /proc).
 */
export async function startBenchStack(options: BenchStackOptions = {}): Promise<BenchStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vat-bench-'));
  bundlePromise = undefined;
  const bundlePath = await workflowBundle(dataDir);
  // The cluster without its own sandbox or workers: the bench's sandbox, proxy and workers are below.
  // PostgreSQL runs as its own user when the bench is root: it must reach its folder through this one.
  if (options.cluster) chmodSync(dataDir, 0o755);
  const cluster = options.cluster
    ? await startCluster({ dataDir: join(dataDir, 'cluster'), basePort: await freeBase() })
    : undefined;
  const temporal: BenchStack['temporal'] = cluster
    ? { address: cluster.nodes[0]!.address, namespace: cluster.namespace, stop: () => cluster.stop() }
    : await startDevServer({ headless: true, logFile: join(dataDir, 'temporal.log') });
  const workerAddress = (i: number) => (cluster ? cluster.nodes[i % cluster.nodes.length]!.address : temporal.address);
  const sandbox = await startSandbox({ port: 0, dbFile: ':memory:' });
  const admin = new SandboxAdmin(sandbox.url);
  const proxy = await startCountingProxy(sandbox.url);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace });
  await admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 1, seed: 1 });
  await admin.setClock(SANDBOX_NOW);

  const workers: ManagedProcess[] = [];
  function startWorkers(count: number, maxRps = options.maxRpsPerWorker, env = options.workerEnv): ManagedProcess[] {
    const started = Array.from({ length: count }, (_, i) => {
      const w = projectScript(
        `worker-${workers.length + i}`,
        'workers/main.ts',
        {
          TEMPORAL_ADDRESS: workerAddress(workers.length + i),
          TEMPORAL_NAMESPACE: temporal.namespace,
          INVOICE_CLOUD_BASE_URL: proxy.url,
          WORKFLOW_BUNDLE_PATH: bundlePath,
          LOG_LEVEL: 'warn',
          ...(maxRps ? { INVOICE_CLOUD_MAX_RPS: String(maxRps) } : {}),
          ...env,
        },
        join(dataDir, `worker-${workers.length + i}.log`),
      );
      w.start();
      return w;
    });
    workers.push(...started);
    return started;
  }
  if (options.workers) startWorkers(options.workers);
  // If this process dies before stop() (a timed-out test, Ctrl-C), scripts/processes.ts kills the
  // worker processes with it.
  function workerPids(): number[] {
    return workers.map((w) => w.pid ?? 0);
  }

  return {
    temporal,
    ...(cluster ? { cluster } : {}),
    client,
    admin,
    sandbox,
    proxy,
    workers,
    dataDir,
    workerPids,
    startWorkers,
    async stopWorkers() {
      await Promise.all(workers.map((w) => w.stop()));
      workers.length = 0;
    },
    async stop() {
      await Promise.all(workers.map((w) => w.stop()));
      await connection.close().catch(() => undefined);
      await proxy.close();
      await sandbox.close();
      await temporal.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `--cluster` among the arguments (the rest are `--name=number`, for numericArgs). */
export function clusterArg(argv = process.argv.slice(2)): { cluster: boolean; rest: string[] } {
  return { cluster: argv.includes('--cluster'), rest: argv.filter((a) => a !== '--cluster') };
}

/** Taxpayer numbers for a benchmark, distinct per prefix so runs in one stack don't collide. */
export function benchTaxNos(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) =>
    withCheckCharacter(`9144030${prefix.padEnd(5, '0').slice(0, 5)}${String(i).padStart(5, '0')}`),
  );
}

/** Adds taxpayers to the sandbox tenant, each with `invoices` generated invoices for the period. */
export async function seedTaxpayers(admin: SandboxAdmin, taxNos: string[], invoices: number): Promise<void> {
  for (const [i, taxNo] of taxNos.entries()) {
    await admin.upsertTaxpayer({
      taxNo,
      name: `基准测试${i}有限公司`,
      softCertificate: true,
      periodChangeSupported: true,
      taxPeriod: PERIOD,
      confirmPassword: '1234567',
    });
    for (let left = invoices, part = 0; left > 0; part++) {
      const count = Math.min(left, 5000);
      await admin.generateInvoices(taxNo, { count, seed: i * 1000 + part, period: PERIOD });
      left -= count;
    }
  }
}

/**
 * The test approver: approves every month that waits for approval, as a person with the inbox
 * would, until stopped. Finds them through the DeductionStage search attribute.
 */
export function autoApprover(client: Client, intervalMs = 300): { stop(): Promise<number> } {
  let running = true;
  let approvals = 0;
  const approved = new Set<string>();
  const loop = (async () => {
    while (running) {
      try {
        const rows = await listDeductions(client, { stage: Stage.AwaitingApproval, period: PERIOD });
        for (const { taxNo } of rows) {
          if (!taxNo || approved.has(taxNo)) continue;
          try {
            await approve(client, taxNo, PERIOD, {
              approver: APPROVER,
              statisticDigest: (await statisticAwaitingApproval(client, taxNo, PERIOD)).digest,
            });
            approved.add(taxNo);
            approvals++;
          } catch {
            // Not awaiting approval any more, or visibility was behind: the next pass sees it.
          }
        }
      } catch {
        // Visibility busy: next pass.
      }
      await sleep(intervalMs);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return approvals;
    },
  };
}

/** Waits until every workflow has closed; returns the status names counted. */
export async function waitForClosed(
  client: Client,
  workflowIds: string[],
  timeoutMs: number,
): Promise<Record<string, number>> {
  const open = new Set(workflowIds);
  const statuses: Record<string, number> = {};
  const deadline = Date.now() + timeoutMs;
  while (open.size > 0) {
    if (Date.now() > deadline) throw new Error(`bench: ${open.size} workflows still open after ${timeoutMs} ms`);
    for (const id of [...open]) {
      const d = await client.workflow.getHandle(id).describe();
      if (d.status.name === 'RUNNING') continue;
      open.delete(id);
      statuses[d.status.name] = (statuses[d.status.name] ?? 0) + 1;
    }
    if (open.size > 0) await sleep(500);
  }
  return statuses;
}
