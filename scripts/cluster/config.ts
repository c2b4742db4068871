/**
 * The cluster's ports and the server configuration of each node, rendered from
 * temporal-node.template.yaml into the data folder.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Same as docker-compose.yml's Temporal service (NUM_HISTORY_SHARDS); fixed for a cluster's life. */
export const NUM_HISTORY_SHARDS = 4;
/** Same as docker-compose.yml (DEFAULT_NAMESPACE_RETENTION). */
export const NAMESPACE_RETENTION_SECONDS = 24 * 3600;
export const NODE_COUNT = 2;
/** Ports each node takes from its block of PORTS_PER_NODE. */
const PORTS_PER_NODE = 10;

export interface NodePorts {
  frontend: number;
  history: number;
  matching: number;
  worker: number;
  frontendHttp: number;
  frontendMembership: number;
  historyMembership: number;
  matchingMembership: number;
  workerMembership: number;
}

export interface ClusterPorts {
  nodes: NodePorts[];
  postgres: number;
}

/**
 * Node n (0-based) takes base + 10n … base + 10n + 8: frontend first (7233 and 7243 by default, so
 * `npm run cli` reaches node 1 unchanged); PostgreSQL takes base + 20.
 */
export function clusterPorts(base: number): ClusterPorts {
  const nodes = Array.from({ length: NODE_COUNT }, (_, n) => {
    const b = base + PORTS_PER_NODE * n;
    return {
      frontend: b,
      history: b + 1,
      matching: b + 2,
      worker: b + 3,
      frontendHttp: b + 4,
      frontendMembership: b + 5,
      historyMembership: b + 6,
      matchingMembership: b + 7,
      workerMembership: b + 8,
    };
  });
  return { nodes, postgres: base + PORTS_PER_NODE * NODE_COUNT };
}

export function allPorts(ports: ClusterPorts): number[] {
  return [...ports.nodes.flatMap((n) => Object.values(n)), ports.postgres];
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The ports among these that something on 127.0.0.1 already holds. */
export async function busyPorts(ports: number[]): Promise<number[]> {
  const busy: number[] = [];
  for (const port of ports) if (!(await portFree(port))) busy.push(port);
  return busy;
}

/** The lowest port the kernel hands out for outgoing connections (Linux; 32768 elsewhere). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/**
 * A base port whose whole block is free (for the check, which must not collide with anyone), below
 * the ephemeral range: there, an outgoing connection (ours to PostgreSQL, say) can take a port of
 * the block between this check and the node's bind.
 */
export async function freeBase(): Promise<number> {
  const span = allPorts(clusterPorts(0)).length;
  const high = Math.max(ephemeralLow() - span, 12_000);
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 10_000 + Math.floor(Math.random() * (high - 10_000));
    if ((await busyPorts(allPorts(clusterPorts(base)))).length === 0) return base;
  }
  throw new Error('found no free block of ports on 127.0.0.1');
}

const TEMPLATE = fileURLToPath(new URL('./temporal-node.template.yaml', import.meta.url));
const DYNAMIC_CONFIG = fileURLToPath(new URL('./dynamicconfig.yaml', import.meta.url));

/**
 * Writes node n's configuration into `<dataDir>/node-<n+1>/config/cluster.yaml` (owner-only: it
 * holds the database password) and returns the node's folder (its `--root`).
 */
export function writeNodeConfig(dataDir: string, n: number, ports: ClusterPorts, postgresPassword: string): string {
  const root = join(dataDir, `node-${n + 1}`);
  mkdirSync(join(root, 'config'), { recursive: true });
  const dynamicConfigFile = join(dataDir, 'dynamicconfig.yaml');
  copyFileSync(DYNAMIC_CONFIG, dynamicConfigFile);
  const p = ports.nodes[n]!;
  const values: Record<string, string | number> = {
    numHistoryShards: NUM_HISTORY_SHARDS,
    postgresPort: ports.postgres,
    postgresPassword,
    frontendPort: p.frontend,
    frontendHttpPort: p.frontendHttp,
    frontendMembershipPort: p.frontendMembership,
    historyPort: p.history,
    historyMembershipPort: p.historyMembership,
    matchingPort: p.matching,
    matchingMembershipPort: p.matchingMembership,
    workerPort: p.worker,
    workerMembershipPort: p.workerMembership,
    clusterFrontendPort: ports.nodes[0]!.frontend,
    dynamicConfigFile,
  };
  const text = readFileSync(TEMPLATE, 'utf8').replace(/\$\{(\w+)\}/g, (_, key: string) => {
    if (!(key in values)) throw new Error(`temporal-node.template.yaml: no value for $${key}`);
    return String(values[key]);
  });
  writeFileSync(join(root, 'config', 'cluster.yaml'), text, { mode: 0o600 });
  return root;
}
