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
import { BinaryProcess } from './process.js';
import { postgresBinDir, postgresUser, type ClusterBinaries } from './paths.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const POSTGRES_USER = 'temporal';
/** Same plugin as docker-compose.yml's Temporal service (DB=postgres12). */
export const SQL_PLUGIN = 'postgres12';
export const DATABASES = { temporal: 'temporal', visibility: 'temporal_visibility' } as const;

export interface Postgres {
  port: number;
  password: string;
  process: BinaryProcess;
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
async function initialise(dataDir: string, pgData: string, password: string): Promise<void> {
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
      ['-D', pgData, '-U', POSTGRES_USER, `--pwfile=${pwFile}`, '-A', 'scram-sha-256', '-E', 'UTF8', '--locale=C'],
      { ...(user ?? {}), maxBuffer: 16 * 1024 * 1024 },
    );
  } finally {
    rmSync(pwFile, { force: true });
  }
}

/** Initialises the database folder when new, starts PostgreSQL on `port` and waits until it answers. */
export async function startPostgres(dataDir: string, port: number): Promise<Postgres> {
  // PostgreSQL's own user must reach its folder through this one.
  chmodSync(dataDir, 0o755);
  const pgData = join(dataDir, 'postgres');
  const password = passwordOf(dataDir);
  await initialise(dataDir, pgData, password);
  const user = postgresUser();
  const process_ = new BinaryProcess('postgresql', join(postgresBinDir(), 'postgres'), {
    args: ['-D', pgData, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    logFile: join(dataDir, 'postgres.log'),
    ...(user ? { user } : {}),
    stopSignal: 'SIGINT',
  });
  const psql = existsSync(join(postgresBinDir(), 'psql')) ? join(postgresBinDir(), 'psql') : 'psql';
  const query = async (database: string, sql: string): Promise<string[]> => {
    const { stdout } = await run(
      psql,
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        POSTGRES_USER,
        '-d',
        database,
        '-tAX',
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        sql,
      ],
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
 * The Temporal and visibility databases at the module's newest schema version: each created and
 * given the base schema when missing, then brought up to date (a no-op when it already is).
 */
export async function ensureTemporalSchema(pg: Postgres, binaries: ClusterBinaries): Promise<string[]> {
  const did: string[] = [];
  const tool = async (database: string, ...args: string[]) => {
    await run(
      binaries.sqlTool,
      [
        '--plugin',
        SQL_PLUGIN,
        '--ep',
        '127.0.0.1',
        '-p',
        String(pg.port),
        '-u',
        POSTGRES_USER,
        '--db',
        database,
        ...args,
      ],
      { env: { ...process.env, SQL_PASSWORD: pg.password }, maxBuffer: 16 * 1024 * 1024 },
    ).catch((error: Error & { stderr?: string }) => {
      throw new Error(`temporal sql tool ${args[0]} on ${database} failed: ${error.stderr || error.message}`);
    });
  };
  for (const [kind, database] of Object.entries(DATABASES)) {
    const exists = await pg.query('postgres', `SELECT 1 FROM pg_database WHERE datname = '${database}'`);
    if (exists.length === 0) {
      await tool(database, 'create-database');
      did.push(`created database ${database}`);
    }
    const versioned = await pg.query(
      database,
      "SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_version'",
    );
    if (versioned.length === 0) {
      await tool(database, 'setup-schema', '-v', '0.0');
      did.push(`base schema in ${database}`);
    }
    const before = await pg.query(database, 'SELECT curr_version FROM schema_version');
    await tool(database, 'update-schema', '-d', join(binaries.schemaDir, kind, 'versioned'));
    const after = await pg.query(database, 'SELECT curr_version FROM schema_version');
    if (before.join() !== after.join()) did.push(`${database} schema ${before[0] ?? 'none'} -> ${after[0]}`);
  }
  return did;
}
