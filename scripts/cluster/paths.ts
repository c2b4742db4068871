/**
 * Where `npm run cluster` finds its binaries and keeps its data. The binaries are built once by
 * scripts/cluster/setup.sh into a cache outside the clone, at the versions deploy/temporal/
 * temporal.env names (docker-compose.yml's images have the same).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { findOnPath, PROJECT_ROOT } from '../temporalTools.js';
import { temporalChoices } from './config.js';

const choices = temporalChoices();
/** As the Go module versions them (the cache folders are named after them). */
export const TEMPORAL_SERVER_VERSION = `v${choices.TEMPORAL_SERVER_VERSION}`;
export const UI_SERVER_VERSION = `v${choices.TEMPORAL_UI_VERSION}`;

/** `${VAT_CACHE_DIR}` or `${XDG_CACHE_HOME:-~/.cache}/vat-deduction`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VAT_CACHE_DIR?.trim()) return env.VAT_CACHE_DIR.trim();
  const xdg = env.XDG_CACHE_HOME?.trim();
  return join(xdg || join(homedir(), '.cache'), 'vat-deduction');
}

export interface ClusterBinaries {
  temporalServer: string;
  sqlTool: string;
  /** The module's PostgreSQL schema folder (`.../schema/postgresql/v12`). */
  schemaDir: string;
  /** The Web UI server; undefined when it could not be built. */
  uiServer?: string;
}

export function clusterBinaries(env: NodeJS.ProcessEnv = process.env): ClusterBinaries {
  const server = join(cacheDir(env), `temporal-${TEMPORAL_SERVER_VERSION}`);
  const ui = join(cacheDir(env), `ui-server-${UI_SERVER_VERSION}`, 'bin', 'server');
  const binaries = {
    temporalServer: join(server, 'bin', 'server'),
    sqlTool: join(server, 'bin', 'sql'),
    schemaDir: join(server, 'schema', 'postgresql', 'v12'),
    ...(existsSync(ui) ? { uiServer: ui } : {}),
  };
  for (const file of [binaries.temporalServer, binaries.sqlTool, binaries.schemaDir]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`bash scripts/cluster/setup.sh\` (it builds it)`);
  }
  return binaries;
}

/** The folder with PostgreSQL's server programs (initdb, postgres): on PATH, else Debian's newest. */
export function postgresBinDir(): string {
  const initdb = findOnPath('initdb');
  if (initdb) return join(initdb, '..');
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((d) => existsSync(join(root, d, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (majors.length === 0) throw new Error('PostgreSQL is not installed: run `bash scripts/cluster/setup.sh`');
  return join(root, majors[0]!, 'bin');
}

/** PostgreSQL refuses to run as root: then it runs as the `postgres` user (Debian's package makes it). */
export function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error('Running as root, and there is no `postgres` user to run PostgreSQL as');
  }
}

/** The cluster's data folder: VAT_CLUSTER_DIR, default `.data/cluster/` in the clone (git-ignored). */
export function defaultClusterDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.VAT_CLUSTER_DIR?.trim() || join(PROJECT_ROOT, '.data', 'cluster');
}
