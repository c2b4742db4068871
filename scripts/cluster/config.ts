/**
 * The cluster's ports, its shared Temporal choices (deploy/temporal/temporal.env, which
 * docker-compose.yml reads too) and each node's environment: the nodes run the Temporal server's
 * embedded configuration template, as compose's temporalio/server container does.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { describeZodError } from '../../protocol/zodErrors.js';

/** Where the choices shared with docker-compose.yml live. */
export const SHARED_DIR = fileURLToPath(new URL('../../deploy/temporal/', import.meta.url));
export const SHARED_ENV_FILE = `${SHARED_DIR}temporal.env`;
export const DYNAMIC_CONFIG_FILE = `${SHARED_DIR}dynamicconfig.yaml`;
export const SCHEMA_SCRIPT = `${SHARED_DIR}setup-schema.sh`;

const Version = z.string().regex(/^\d+\.\d+\.\d+$/, 'a version like 1.32.2');
const Name = z.string().regex(/^[a-z][a-z0-9_]*$/, 'a lower-case identifier');
const Count = z.string().regex(/^[1-9]\d*$/, 'a whole number');

export const TemporalChoices = z.object({
  TEMPORAL_SERVER_VERSION: Version,
  TEMPORAL_UI_VERSION: Version,
  DB: z.literal('postgres12'),
  DBNAME: Name,
  VISIBILITY_DBNAME: Name,
  POSTGRES_USER: Name,
  NUM_HISTORY_SHARDS: Count,
  SQL_MAX_CONNS: Count,
  SQL_VIS_MAX_CONNS: Count,
  NAMESPACE_RETENTION: z.string().regex(/^\d+[hd]$/, 'hours or days, like 24h or 3d'),
  SEARCH_ATTRIBUTES: z
    .string()
    .regex(/^(\w+:(Keyword|Datetime))( \w+:(Keyword|Datetime))*$/, 'name:Keyword|Datetime, space-separated'),
});
export type TemporalChoices = z.output<typeof TemporalChoices>;

/** KEY=VALUE lines as docker-compose reads an env_file: no quoting, `#` starts a comment line. */
export function parseEnvFile(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw new Error(`not KEY=VALUE: ${trimmed}`);
    values[trimmed.slice(0, eq)] = trimmed.slice(eq + 1);
  }
  return values;
}

/** deploy/temporal/temporal.env, checked: a bad value names the key. */
export function temporalChoices(file = SHARED_ENV_FILE): TemporalChoices {
  const parsed = TemporalChoices.safeParse(parseEnvFile(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    throw new Error(`${file}: ${describeZodError(parsed.error, '')}`);
  }
  return parsed.data;
}

/** NAMESPACE_RETENTION in seconds. */
export function retentionSeconds(choices: TemporalChoices): number {
  const n = Number(choices.NAMESPACE_RETENTION.slice(0, -1));
  return n * (choices.NAMESPACE_RETENTION.endsWith('d') ? 86_400 : 3600);
}

/** SEARCH_ATTRIBUTES as name -> type. */
export function searchAttributes(choices: TemporalChoices): Record<string, string> {
  return Object.fromEntries(choices.SEARCH_ATTRIBUTES.split(' ').map((pair) => pair.split(':') as [string, string]));
}

export const NODE_COUNT = 2;
/** One worker per node, like compose's worker-1 and worker-2. */
export const WORKER_COUNT = NODE_COUNT;
/** The namespace the launcher registers; compose's TEMPORAL_NAMESPACE defaults to the same. */
export const DEFAULT_NAMESPACE = 'default';

/**
 * A cluster worker's settings beyond the sandbox's defaults: its node, and the fleet size that
 * makes the workers share the tenant's quota (docs/fleet-quota.md), as in docker-compose.yml.
 */
export function clusterWorkerEnv(options: {
  temporalAddress: string;
  namespace: string;
  sandboxUrl: string;
  bundlePath: string;
}): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: options.temporalAddress,
    TEMPORAL_NAMESPACE: options.namespace,
    INVOICE_CLOUD_BASE_URL: options.sandboxUrl,
    INVOICE_CLOUD_FLEET_SIZE: String(WORKER_COUNT),
    WORKFLOW_BUNDLE_PATH: options.bundlePath,
  };
}
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

/**
 * Node n's environment for the server's embedded configuration: the shared choices, then what is
 * the cluster's own (loopback, its ports, its database). Every node names node 1's frontend as the
 * cluster's address, which the first node stores in the database.
 */
export function nodeEnvironment(
  n: number,
  ports: ClusterPorts,
  postgresPassword: string,
  choices: TemporalChoices = temporalChoices(),
): Record<string, string> {
  const p = ports.nodes[n]!;
  const first = ports.nodes[0]!;
  return {
    DB: choices.DB,
    DBNAME: choices.DBNAME,
    VISIBILITY_DBNAME: choices.VISIBILITY_DBNAME,
    POSTGRES_USER: choices.POSTGRES_USER,
    NUM_HISTORY_SHARDS: choices.NUM_HISTORY_SHARDS,
    SQL_MAX_CONNS: choices.SQL_MAX_CONNS,
    SQL_VIS_MAX_CONNS: choices.SQL_VIS_MAX_CONNS,
    DYNAMIC_CONFIG_FILE_PATH: DYNAMIC_CONFIG_FILE,
    POSTGRES_SEEDS: '127.0.0.1',
    DB_PORT: String(ports.postgres),
    POSTGRES_PWD: postgresPassword,
    BIND_ON_IP: '127.0.0.1',
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    FRONTEND_GRPC_PORT: String(p.frontend),
    FRONTEND_HTTP_PORT: String(p.frontendHttp),
    FRONTEND_MEMBERSHIP_PORT: String(p.frontendMembership),
    HISTORY_GRPC_PORT: String(p.history),
    HISTORY_MEMBERSHIP_PORT: String(p.historyMembership),
    MATCHING_GRPC_PORT: String(p.matching),
    MATCHING_MEMBERSHIP_PORT: String(p.matchingMembership),
    WORKER_GRPC_PORT: String(p.worker),
    WORKER_MEMBERSHIP_PORT: String(p.workerMembership),
    CLUSTER_RPC_ADDRESS: `127.0.0.1:${first.frontend}`,
    CLUSTER_HTTP_ADDRESS: `127.0.0.1:${first.frontendHttp}`,
    // The servers' logs go to files in the data folder: warnings and errors only.
    LOG_LEVEL: 'warn',
  };
}
