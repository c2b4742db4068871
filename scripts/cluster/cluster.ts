/**
 * `npm run cluster`'s parts: PostgreSQL, two Temporal nodes sharing it (every service in each,
 * membership on distinct loopback ports), the namespace and search attributes, the Web UI server,
 * the sandbox and workers. Used by scripts/cluster/main.ts and its --check.
 */
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SandboxAdmin } from '../../simulator/adminClient.js';
import { WORKFLOWS_PATH } from '../../workers/createWorker.js';
import { ensureSearchAttributes } from '../devServer.js';
import { SEARCH_ATTRIBUTE_NAMES } from '../../workflows/contract.js';
import {
  clusterPorts,
  clusterWorkerEnv,
  DEFAULT_NAMESPACE,
  nodeEnvironment,
  NODE_COUNT,
  retentionSeconds,
  temporalChoices,
  type ClusterPorts,
} from './config.js';
import { clusterBinaries, type ClusterBinaries } from './paths.js';
import { ensureTemporalSchema, startPostgres, type Postgres } from './postgres.js';
import { ManagedProcess, projectScript } from '../processes.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface ClusterOptions {
  dataDir: string;
  basePort: number;
  /** Web UI port; none when undefined or when the UI server is not built. */
  uiPort?: number;
  /** The sandbox's port; no sandbox when undefined (the chaos run starts its own). */
  sandboxPort?: number;
  namespace?: string;
  log?: (line: string) => void;
}

export interface TemporalNode {
  name: string;
  address: string;
  process: ManagedProcess;
  /** Starts the node again on its configuration and waits until its frontend answers. */
  restart(): Promise<void>;
}

export interface Cluster {
  ports: ClusterPorts;
  namespace: string;
  postgres: Postgres;
  nodes: TemporalNode[];
  ui?: { url: string; process: ManagedProcess };
  sandboxUrl?: string;
  sandbox?: ManagedProcess;
  admin?: SandboxAdmin;
  /** A worker connected to node `nodeIndex` (not started); needs the sandbox. */
  worker(name: string, nodeIndex: number): ManagedProcess;
  /** Live cluster members from the membership table: `role@address:port`. */
  members(): Promise<string[]>;
  stop(): Promise<void>;
}

/** Thrown inside `until` to stop waiting at once (the process being waited for has exited). */
class GaveUp extends Error {}

async function until<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof GaveUp) throw error;
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(500);
  }
}

async function withConnection<T>(address: string, use: (c: Connection) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address, connectTimeout: 2000, interceptors: [] });
  try {
    return await use(connection);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Waits until the node's frontend answers and serves the namespace. */
async function waitForNode(node: TemporalNode, namespace: string, logFile: string): Promise<void> {
  await until(`${node.name} at ${node.address}`, 120_000, async () => {
    if (!node.process.running) throw new GaveUp(`${node.name} exited (${node.process.exit}): see ${logFile}`);
    return withConnection(node.address, async (c) => {
      await c.workflowService.getSystemInfo({});
      await c.workflowService.describeNamespace({ namespace });
      return true;
    });
  }).catch((error: Error) => {
    if (!node.process.running) throw new Error(`${node.name} exited (${node.process.exit}): see ${logFile}`);
    throw error;
  });
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const log = options.log ?? (() => undefined);
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  const binaries: ClusterBinaries = clusterBinaries();
  const { dataDir } = options;
  mkdirSync(dataDir, { recursive: true });
  const ports = clusterPorts(options.basePort);
  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const part of started.reverse()) await part.stop().catch(() => undefined);
  };

  try {
    const choices = temporalChoices();
    const postgres = await startPostgres(dataDir, ports.postgres, choices);
    started.push({ stop: () => postgres.process.stop(30_000) });
    log(`PostgreSQL on 127.0.0.1:${ports.postgres} (data in ${join(dataDir, 'postgres')})`);
    for (const line of await ensureTemporalSchema(postgres, binaries, choices)) log(`schema: ${line}`);

    const nodes: TemporalNode[] = [];
    for (let n = 0; n < NODE_COUNT; n++) {
      const logFile = join(dataDir, `node-${n + 1}.log`);
      const root = join(dataDir, `node-${n + 1}`);
      mkdirSync(root, { recursive: true });
      // The server's embedded configuration, from the environment: as compose's Temporal container.
      const process_ = new ManagedProcess(`temporal-node-${n + 1}`, {
        command: binaries.temporalServer,
        args: ['--allow-no-auth', 'start'],
        cwd: root,
        env: nodeEnvironment(n, ports, postgres.password, choices),
        inheritEnv: false,
        logFile,
        stopGraceMs: 20_000,
        detached: true,
      });
      const node: TemporalNode = {
        name: `node ${n + 1}`,
        address: `127.0.0.1:${ports.nodes[n]!.frontend}`,
        process: process_,
        restart: async () => {
          process_.start();
          await waitForNode(node, namespace, logFile);
        },
      };
      nodes.push(node);
      process_.start();
      started.push({ stop: () => process_.stop(30_000) });
      if (n === 0) {
        // The first node makes the namespace (the second then finds it) and the search attributes.
        await until(`node 1 at ${node.address}`, 120_000, async () => {
          if (!process_.running) throw new GaveUp(`node 1 exited (${process_.exit}): see ${logFile}`);
          return withConnection(node.address, async (c) => {
            await c.workflowService.getSystemInfo({});
            try {
              await c.workflowService.registerNamespace({
                namespace,
                workflowExecutionRetentionPeriod: msToTs(retentionSeconds(choices) * 1000),
              });
              log(`registered namespace ${namespace}`);
            } catch (error) {
              if (!/already exists|AlreadyExists/i.test(String((error as Error).message))) throw error;
            }
            await c.workflowService.describeNamespace({ namespace });
            const added = await ensureSearchAttributes(c, namespace);
            if (added.length) log(`registered search attributes ${added.join(', ')}`);
            return true;
          });
        });
      }
      await waitForNode(node, namespace, logFile);
      log(`Temporal ${node.name} on ${node.address} (log ${logFile})`);
    }
    // Both nodes see the search attributes.
    for (const node of nodes) {
      await until(`the search attributes on ${node.name}`, 60_000, () =>
        withConnection(node.address, async (c) => {
          const listed = await c.operatorService.listSearchAttributes({ namespace });
          const custom = listed.customAttributes ?? {};
          return SEARCH_ATTRIBUTE_NAMES.every((name) => custom[name] !== undefined) || undefined;
        }),
      );
    }

    let ui: Cluster['ui'];
    if (options.uiPort !== undefined && binaries.uiServer) {
      const uiDir = join(dataDir, 'ui');
      mkdirSync(join(uiDir, 'config'), { recursive: true });
      // The same settings as docker-compose.yml's temporal-ui service (read-only UI).
      writeFileSync(
        join(uiDir, 'config', 'cluster.yaml'),
        [
          `temporalGrpcAddress: ${nodes[0]!.address}`,
          'host: 127.0.0.1',
          `port: ${options.uiPort}`,
          'enableUi: true',
          'disableWriteActions: true',
          'hideLogs: true',
          'notifyOnNewVersion: false',
          `defaultNamespace: ${namespace}`,
          'cors:',
          '  allowOrigins:',
          `    - http://127.0.0.1:${options.uiPort}`,
          `    - http://localhost:${options.uiPort}`,
          '',
        ].join('\n'),
      );
      const uiProcess = new ManagedProcess('temporal-ui', {
        command: binaries.uiServer,
        args: ['--root', uiDir, '--config', 'config', '--env', 'cluster', 'start'],
        cwd: uiDir,
        logFile: join(dataDir, 'ui.log'),
        detached: true,
      });
      uiProcess.start();
      started.push({ stop: () => uiProcess.stop(10_000) });
      const url = `http://127.0.0.1:${options.uiPort}`;
      await until('the Web UI', 60_000, async () => {
        if (!uiProcess.running) throw new GaveUp(`the Web UI server exited (${uiProcess.exit}): see ui.log`);
        return (await fetch(`${url}/api/v1/settings`)).ok || undefined;
      });
      ui = { url, process: uiProcess };
      log(`Web UI on ${url}`);
    }

    let sandboxPart: Pick<Cluster, 'sandboxUrl' | 'sandbox' | 'admin'> = {};
    if (options.sandboxPort !== undefined) {
      const sandboxUrl = `http://127.0.0.1:${options.sandboxPort}`;
      const admin = new SandboxAdmin(sandboxUrl);
      const sandbox = projectScript(
        'sandbox',
        'simulator/main.ts',
        { SANDBOX_PORT: String(options.sandboxPort), SANDBOX_DB: join(dataDir, 'sandbox.sqlite') },
        join(dataDir, 'sandbox.log'),
      );
      sandbox.start();
      started.push({ stop: () => sandbox.stop() });
      await until('the sandbox', 60_000, async () => {
        if (!sandbox.running) throw new GaveUp(`the sandbox exited: see ${join(dataDir, 'sandbox.log')}`);
        return (await admin.health()).status === 'ok' || undefined;
      });
      log(`Sandbox on ${sandboxUrl}`);
      sandboxPart = { sandboxUrl, sandbox, admin };
    }
    const { sandboxUrl } = sandboxPart;

    // One bundle for every worker (each would otherwise bundle the workflows itself).
    const bundlePath = join(dataDir, 'workflow-bundle.js');
    if (sandboxUrl) {
      const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
      writeFileSync(bundlePath, code);
    }

    const workers: ManagedProcess[] = [];
    const worker = (name: string, nodeIndex: number) => {
      if (!sandboxUrl) throw new Error('a cluster started without the sandbox has no workers of its own');
      const w = projectScript(
        name,
        'workers/main.ts',
        clusterWorkerEnv({ temporalAddress: nodes[nodeIndex]!.address, namespace, sandboxUrl, bundlePath }),
        join(dataDir, `${name}.log`),
        'Worker started on task queue',
      );
      workers.push(w);
      return w;
    };
    // Workers stop first, then the rest in reverse order of start.
    started.push({ stop: () => Promise.all(workers.map((w) => w.stop())).then(() => undefined) });

    return {
      ports,
      namespace,
      postgres,
      nodes,
      ...(ui ? { ui } : {}),
      ...sandboxPart,
      worker,
      members: async () =>
        postgres.query(
          'temporal',
          "SELECT CASE role WHEN 1 THEN 'frontend' WHEN 2 THEN 'history' WHEN 3 THEN 'matching' WHEN 4 THEN 'worker' ELSE role::text END || '@' || rpc_address || ':' || rpc_port FROM cluster_membership WHERE last_heartbeat > now() - interval '20 seconds' ORDER BY rpc_port",
        ),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Waits until a worker has started polling (or throws when its process exits first). */
export async function waitForWorker(worker: ManagedProcess, logFile: string): Promise<void> {
  await until(`${worker.name}`, 180_000, async () => {
    if (!worker.running) throw new GaveUp(`${worker.name} exited: see ${logFile}`);
    return worker.ready || undefined;
  });
}
