/**
 * `npm run cluster`: the production topology on this machine. PostgreSQL, a two-node Temporal
 * cluster sharing it (every service in each node), the Web UI, the sandbox and two workers (one on
 * each node); then the demo months, as `npm start` starts them. Ctrl-C stops everything; a second
 * run resumes from the same database (.data/cluster/, or VAT_CLUSTER_DIR).
 *
 * `npm run cluster -- --check`: starts a fresh cluster in a temporary folder on free ports, runs a
 * month to AWAITING_APPROVAL through a worker on node 1, approves it through node 2 (with a worker
 * on node 2), reads COMPLETED through node 2, stops the cluster, starts it again on the same
 * database and checks the month is still there. Prints what it did; exits 1 if a step failed.
 */
import { Client, Connection } from '@temporalio/client';
import { Command } from 'commander';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approve, startMonthlyDeduction, statisticAwaitingApproval } from '../../client/deductions.js';
import { TaxPeriod } from '../../protocol/period.js';
import { deductionWorkflowId, type MonthlyDeductionResult } from '../../workflows/contract.js';
import {
  decisionLines,
  DEMO_APPROVERS,
  DEMO_TAXPAYERS,
  demoPeriod,
  seedDemoTenant,
  waitForDecisionPoint,
} from '../demo.js';
import { freePort } from '../devServer.js';
import { startCluster, waitForWorker, type Cluster, type ClusterOptions } from './cluster.js';
import { allPorts, busyPorts, clusterPorts, freeBase } from './config.js';
import { killAllNow } from '../processes.js';
import { clusterBinaries, defaultClusterDataDir, TEMPORAL_SERVER_VERSION } from './paths.js';

const program = new Command('cluster')
  .description('Run PostgreSQL, a two-node Temporal cluster, the Web UI, the sandbox and two workers')
  .option('--check', 'start a fresh cluster, run one month through both nodes, restart, check it; then stop')
  .option('--keep-data', 'with --check: keep the temporary folder (logs, database)', false)
  .parse();
const opts = program.opts<{ check?: boolean; keepData: boolean }>();

function port(variable: string, fallback: number): number {
  const raw = process.env[variable];
  const value = raw ? Number(raw) : fallback;
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    throw new Error(`${variable}=${raw}: must be a TCP port number`);
  return value;
}

const stamp = () => new Date().toISOString().slice(11, 19);
const say = (line: string) => console.log(`[cluster ${stamp()}] ${line}`);

async function clientOn(address: string, namespace: string): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = await Connection.connect({ address });
  return { client: new Client({ connection, namespace }), close: () => connection.close() };
}

/**
 * What Ctrl-C does: until the cluster is up, end every server at once and exit; then stop them in
 * order. `on`, not `once`: the signal arrives twice (from the terminal and relayed by tsx), and a
 * signal without a listener would end this process before the servers are stopped.
 */
let onSignal: () => void = () => {
  killAllNow();
  process.exit(130);
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => onSignal());

async function run(): Promise<void> {
  const dataDir = defaultClusterDataDir();
  const basePort = port('CLUSTER_BASE_PORT', 7233);
  const busy = await busyPorts(allPorts(clusterPorts(basePort)));
  if (busy.length > 0) {
    throw new Error(
      `port(s) ${busy.join(', ')} on 127.0.0.1 are in use (another cluster or \`npm start\`?): stop it, or set CLUSTER_BASE_PORT`,
    );
  }
  const cluster = await startCluster({
    dataDir,
    basePort,
    uiPort: port('TEMPORAL_UI_PORT', 8080),
    sandboxPort: port('SANDBOX_PORT', 8790),
    log: say,
  });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      say('stopping: workers, sandbox, Web UI, Temporal nodes, PostgreSQL');
      await cluster.stop();
      say('stopped');
    })();
    return stopping;
  };
  let signalled: () => void = () => undefined;
  const signalledPromise = new Promise<void>((resolve) => (signalled = resolve));
  onSignal = () => {
    signalled();
    void stop();
  };

  const taxPeriod = process.env.DEMO_TAX_PERIOD ?? demoPeriod(new Date());
  if (!TaxPeriod.safeParse(taxPeriod).success) throw new Error(`DEMO_TAX_PERIOD=${taxPeriod}: must be YYYYMM`);
  if (await seedDemoTenant(cluster.admin!, taxPeriod)) say(`seeded the sandbox demo tenant for ${taxPeriod}`);
  const workers = cluster.nodes.map((_, i) => cluster.worker(`worker-${i + 1}`, i));
  workers.forEach((w) => w.start());
  await Promise.all(workers.map((w, i) => waitForWorker(w, join(dataDir, `worker-${i + 1}.log`))));
  say(`workers: worker-1 on ${cluster.nodes[0]!.address}, worker-2 on ${cluster.nodes[1]!.address}`);

  const { client, close } = await clientOn(cluster.nodes[0]!.address, cluster.namespace);
  for (const taxNo of DEMO_TAXPAYERS) {
    const started = await startMonthlyDeduction(client, { taxNo, taxPeriod, approvers: DEMO_APPROVERS });
    say(`${started.workflowId}: ${started.alreadyStarted ? 'already started earlier: resuming' : 'started'}`);
  }
  const lines = [
    '',
    `Temporal nodes:   ${cluster.nodes.map((n) => n.address).join(', ')} (namespace ${cluster.namespace})`,
    `Members:          ${(await cluster.members()).length} live services in the membership table`,
    `PostgreSQL:       127.0.0.1:${cluster.ports.postgres}, user temporal, password in ${join(dataDir, 'postgres-password')}`,
    cluster.ui
      ? `Temporal Web UI:  ${cluster.ui.url}/namespaces/${cluster.namespace}/workflows`
      : 'Temporal Web UI:  not built (scripts/cluster/setup.sh said why)',
    `Sandbox:          ${cluster.sandboxUrl!}`,
    `Logs:             ${dataDir}`,
    '',
  ];
  for (const taxNo of DEMO_TAXPAYERS) {
    const progress = await waitForDecisionPoint(client, deductionWorkflowId(taxNo, taxPeriod));
    lines.push(...decisionLines(taxNo, taxPeriod, progress));
  }
  const cliAddress =
    cluster.nodes[0]!.address === '127.0.0.1:7233' ? '' : `TEMPORAL_ADDRESS=${cluster.nodes[0]!.address}`;
  lines.push(
    '',
    `The CLI reaches node 1 ${cliAddress ? `with ${cliAddress}` : 'by default'}; node 2: TEMPORAL_ADDRESS=${cluster.nodes[1]!.address} npm run cli -- list`,
    'Stop: Ctrl-C (a second npm run cluster resumes from the same database)',
  );
  console.log(lines.join('\n'));
  await close();
  await signalledPromise;
  await stop();
}

async function check(): Promise<void> {
  const began = Date.now();
  const binaries = clusterBinaries();
  const dataDir = mkdtempSync(join(tmpdir(), 'vat-cluster-check-'));
  chmodSync(dataDir, 0o755);
  const options: ClusterOptions = {
    dataDir,
    basePort: await freeBase(),
    sandboxPort: await freePort(),
    ...(binaries.uiServer ? { uiPort: await freePort() } : {}),
    log: say,
  };
  const taxNo = DEMO_TAXPAYERS[0]!;
  const taxPeriod = demoPeriod(new Date());
  const workflowId = deductionWorkflowId(taxNo, taxPeriod);
  const results: string[] = [];
  const expect = (what: string, ok: boolean, detail: string) => {
    results.push(`  ${ok ? 'ok  ' : 'FAIL'} ${what}: ${detail}`);
    say(`${ok ? 'ok' : 'FAILED'}: ${what}: ${detail}`);
    if (!ok) throw new Error(`${what}: ${detail}`);
  };
  let cluster: Cluster | undefined;
  let passed = false;
  try {
    say(`data folder ${dataDir}; ports ${options.basePort}..${options.basePort + 20}`);
    let t = Date.now();
    cluster = await startCluster(options);
    expect('cluster started', true, `${((Date.now() - t) / 1000).toFixed(1)} s`);
    const members = await cluster.members();
    const frontends = members.filter((m) => m.startsWith('frontend@')).length;
    expect('two nodes in the membership table', members.length === 8 && frontends === 2, members.join(' '));
    if (cluster.ui) {
      const page = await fetch(`${cluster.ui.url}/namespaces/${cluster.namespace}/workflows`);
      expect('Web UI answers', page.ok, `${cluster.ui.url} HTTP ${page.status}`);
    } else results.push('  skip Web UI: the UI server is not built');

    await seedDemoTenant(cluster.admin!, taxPeriod);
    const worker1 = cluster.worker('worker-1', 0);
    worker1.start();
    await waitForWorker(worker1, join(dataDir, 'worker-1.log'));
    const node1 = await clientOn(cluster.nodes[0]!.address, cluster.namespace);
    const node2 = await clientOn(cluster.nodes[1]!.address, cluster.namespace);
    t = Date.now();
    await startMonthlyDeduction(node1.client, { taxNo, taxPeriod, approvers: DEMO_APPROVERS });
    const progress = await waitForDecisionPoint(node1.client, workflowId);
    expect(
      'month awaits approval (started and run through node 1, worker-1 on node 1)',
      progress?.stage === 'AWAITING_APPROVAL',
      `${workflowId} ${progress?.stage ?? 'unknown'} after ${((Date.now() - t) / 1000).toFixed(1)} s, ` +
        `statistic ${progress?.statistic?.deductibleCount ?? '?'} invoices, tax ${progress?.statistic?.deductibleTax ?? '?'}`,
    );
    // Visibility through node 2: the search attributes the inbox and the CLI query.
    const query = `TaxNo = '${taxNo}' AND TaxPeriod = '${taxPeriod}' AND DeductionStage = 'AWAITING_APPROVAL'`;
    let listed: string[] = [];
    for (let i = 0; i < 40 && listed.length === 0; i++) {
      listed = [];
      for await (const w of node2.client.workflow.list({ query })) listed.push(w.workflowId);
      if (listed.length === 0) await new Promise((r) => setTimeout(r, 500));
    }
    expect(
      'listed through node 2 by search attributes',
      listed.includes(workflowId),
      `${query} -> ${listed.join(', ') || 'nothing'}`,
    );

    // The rest of the month on node 2 only: worker-1 stops, worker-2 polls node 2.
    await worker1.stop();
    const worker2 = cluster.worker('worker-2', 1);
    worker2.start();
    await waitForWorker(worker2, join(dataDir, 'worker-2.log'));
    t = Date.now();
    const digest = (await statisticAwaitingApproval(node2.client, taxNo, taxPeriod)).digest;
    const decided = await approve(node2.client, taxNo, taxPeriod, { approver: '王会计', statisticDigest: digest });
    expect('approved through node 2 (worker-2 on node 2)', decided.accepted, decided.message);
    const handle = node2.client.workflow.getHandle(workflowId);
    const result = (await handle.result()) as MonthlyDeductionResult;
    const described = await handle.describe();
    expect(
      'COMPLETED when read through node 2',
      described.status.name === 'COMPLETED',
      `${described.status.name} ${((Date.now() - t) / 1000).toFixed(1)} s after the approval; history ${described.historyLength} events; ` +
        `result ${JSON.stringify(result.statistic ?? result).slice(0, 160)}`,
    );
    await node1.close();
    await node2.close();

    t = Date.now();
    await cluster.stop();
    cluster = undefined;
    say('cluster stopped; starting it again on the same database');
    cluster = await startCluster(options);
    expect('cluster restarted on the same database', true, `${((Date.now() - t) / 1000).toFixed(1)} s stop + start`);
    for (const [i, node] of cluster.nodes.entries()) {
      const c = await clientOn(node.address, cluster.namespace);
      const again = await c.client.workflow.getHandle(workflowId).describe();
      const sameResult =
        JSON.stringify(await c.client.workflow.getHandle(workflowId).result()) === JSON.stringify(result);
      expect(
        `month still there after the restart, read through node ${i + 1}`,
        again.status.name === 'COMPLETED' && again.historyLength === described.historyLength && sameResult,
        `${again.status.name}, history ${again.historyLength} events, same result: ${sameResult}`,
      );
      await c.close();
    }
    passed = true;
  } finally {
    await cluster?.stop();
    // A failed check keeps its folder: the servers' logs say why.
    const keep = opts.keepData || !passed;
    if (!keep) rmSync(dataDir, { recursive: true, force: true });
    console.log(
      [
        '',
        `Cluster check (Temporal ${TEMPORAL_SERVER_VERSION} x2 on PostgreSQL, ${((Date.now() - began) / 1000).toFixed(0)} s):`,
        ...results,
        keep ? `Data and logs kept in ${dataDir}` : '',
      ].join('\n'),
    );
  }
}

(opts.check ? check() : run()).then(
  () => process.exit(0),
  (error: Error) => {
    console.error(`[cluster] ${error.message}`);
    process.exit(1);
  },
);
