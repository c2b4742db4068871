/**
 * The cluster's own PostgreSQL instance: a database folder inside the cluster's data folder,
 * listening on 127.0.0.1 only, password authentication (the password is generated once and kept in
 * the data folder, readable by its owner only). Then the Temporal schema, with the module's SQL tool.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ManagedProcess } from '../processes.js';
import { SCHEMA_SCRIPT, type TemporalChoices } from './config.js';
import { postgresBinDir, postgresUser, type ClusterBinaries } from './paths.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Postgres {
  port: number;
  password: string;
  process: ManagedProcess;
  /** Starts PostgreSQL again on the same folder and port and waits until it answers. */
  restart(): Promise<void>;
  /** One value-per-line result of `sql` on `database`. */
  query(database: string, sql: string): Promise<string[]>;
}

/** The password of this data folder's database, made on first use. */
function passwordOf(dataDir: string): string {
  const file = join(dataDir, 'postgres-password');
  if (!existsSync(file)) writeFileSync(file, randomBytes(18).toString('base64url'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/** initdb once (as the `postgres` user when the launcher is root). */
async function initialise(dataDir: string, pgData: string, password: string, role: string): Promise<void> {
  if (existsSync(join(pgData, 'PG_VERSION'))) return;
  const user = postgresUser();
  rmSync(pgData, { recursive: true, force: true });
  mkdirSync(pgData, { recursive: true, mode: 0o700 });
  const pwFile = join(dataDir, 'initdb-password');
  writeFileSync(pwFile, password, { mode: 0o600 });
  try {
    if (user) {
      chownSync(pgData, user.uid, user.gid);
      chownSync(pwFile, user.uid, user.gid);
    }
    await run(
      join(postgresBinDir(), 'initdb'),
      ['-D', pgData, '-U', role, `--pwfile=${pwFile}`, '-A', 'scram-sha-256', '-E', 'UTF8', '--locale=C'],
      { ...(user ?? {}), maxBuffer: 16 * 1024 * 1024 },
    );
  } finally {
    rmSync(pwFile, { force: true });
  }
}

/** Initialises the database folder when new, starts PostgreSQL on `port` and waits until it answers. */
export async function startPostgres(dataDir: string, port: number, choices: TemporalChoices): Promise<Postgres> {
  const dbUser = choices.POSTGRES_USER;
  // PostgreSQL's own user must reach its folder through this one.
  chmodSync(dataDir, 0o755);
  const pgData = join(dataDir, 'postgres');
  const password = passwordOf(dataDir);
  await initialise(dataDir, pgData, password, dbUser);
  const user = postgresUser();
  const process_ = new ManagedProcess('postgresql', {
    command: join(postgresBinDir(), 'postgres'),
    args: ['-D', pgData, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    logFile: join(dataDir, 'postgres.log'),
    ...(user ? { user } : {}),
    stopSignal: 'SIGINT',
    stopGraceMs: 20_000,
    detached: true,
  });
  const psql = existsSync(join(postgresBinDir(), 'psql')) ? join(postgresBinDir(), 'psql') : 'psql';
  const query = async (database: string, sql: string): Promise<string[]> => {
    const { stdout } = await run(
      psql,
      ['-h', '127.0.0.1', '-p', String(port), '-U', dbUser, '-d', database, '-tAX', '-v', 'ON_ERROR_STOP=1', '-c', sql],
      { env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '3' } },
    );
    return stdout.split('\n').filter((l) => l !== '');
  };
  const start = async () => {
    process_.start();
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        await query('postgres', 'SELECT 1');
        return;
      } catch (error) {
        if (!process_.running)
          throw new Error(
            `PostgreSQL exited (${process_.exit}) before it was ready: see ${join(dataDir, 'postgres.log')}`,
          );
        if (Date.now() > deadline)
          throw new Error(`PostgreSQL did not answer within 60 s: ${(error as Error).message}`);
        await sleep(250);
      }
    }
  };
  await start();
  return { port, password, process: process_, query, restart: start };
}

/**
 * The Temporal and visibility databases at the module's newest schema version, by the script
 * docker-compose.yml runs too (deploy/temporal/setup-schema.sh): each created and given the base
 * schema when missing, then brought up to date (a no-op when it already is). Returns what changed.
 */
export async function ensureTemporalSchema(
  pg: Postgres,
  binaries: ClusterBinaries,
  choices: TemporalChoices,
): Promise<string[]> {
  const databases = [choices.DBNAME, choices.VISIBILITY_DBNAME];
  const versions = async () => {
    const found: Record<string, string> = {};
    for (const database of databases) {
      const exists = await pg.query('postgres', `SELECT 1 FROM pg_database WHERE datname = '${database}'`);
      const versioned =
        exists.length > 0 &&
        (await pg.query(database, "SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_version'"))
          .length > 0;
      found[database] = versioned
        ? ((await pg.query(database, 'SELECT curr_version FROM schema_version'))[0] ?? '')
        : '';
    }
    return found;
  };
  const before = await versions();
  await run('sh', [SCHEMA_SCRIPT], {
    env: {
      PATH: process.env.PATH,
      DB: choices.DB,
      DBNAME: choices.DBNAME,
      VISIBILITY_DBNAME: choices.VISIBILITY_DBNAME,
      POSTGRES_USER: choices.POSTGRES_USER,
      POSTGRES_SEEDS: '127.0.0.1',
      DB_PORT: String(pg.port),
      SQL_PASSWORD: pg.password,
      SQL_TOOL: binaries.sqlTool,
      SCHEMA_DIR: binaries.schemaDir,
    },
    maxBuffer: 64 * 1024 * 1024,
  }).catch((error: Error & { stdout?: string; stderr?: string }) => {
    const tail = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim().split('\n').slice(-5).join('\n');
    throw new Error(`${SCHEMA_SCRIPT} failed: ${tail || error.message}`);
  });
  const after = await versions();
  return databases
    .filter((db) => before[db] !== after[db])
    .map((db) => `${db} schema ${before[db] || 'none'} -> ${after[db]}`);
}
