/**
 * Starts and stops a Temporal dev server (`temporal server start-dev`) with the search attributes
 * MonthlyDeductionWorkflow needs. Used by `npm start`, integration tests and
 * operators; `ensureSearchAttributes` also works against any existing server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { Connection, type ConnectionLike } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_NAMES, SEARCH_ATTRIBUTE_TYPES } from '../workflows/contract.js';
import { temporalCliPath } from './temporalTools.js';

export interface DevServerOptions {
  /** Frontend gRPC port; a free one when omitted. */
  port?: number;
  /** Web UI port; a free one when omitted (ignored when headless). */
  uiPort?: number;
  /** No Web UI. */
  headless?: boolean;
  /** SQLite file to persist to; in-memory when omitted. */
  dbFile?: string;
  /** `synchronous=NORMAL` (survives a machine crash with WAL) instead of `OFF` (tests). */
  durable?: boolean;
  /** Append the server's stdout and stderr to this file. */
  logFile?: string;
  /** Namespace to use (created at launch); default `default`. */
  namespace?: string;
  /** How long to wait for the server to be ready; default 60 s. */
  startTimeoutMs?: number;
  /** Remote codec endpoint the Web UI uses to show encrypted payloads (security/codecServer.ts). */
  uiCodecEndpoint?: string;
}

export interface DevServer {
  /** `127.0.0.1:<port>` */
  address: string;
  namespace: string;
  uiUrl?: string;
  pid: number;
  stop(): Promise<void>;
}

/** temporal.api.enums.v1.IndexedValueType of the types our search attributes use. */
export const INDEXED_VALUE_TYPES = { Keyword: 2, Datetime: 6 } as const;
const indexedType = (name: (typeof SEARCH_ATTRIBUTE_NAMES)[number]) =>
  INDEXED_VALUE_TYPES[SEARCH_ATTRIBUTE_TYPES[name]];

/** A TCP port that was free a moment ago on 127.0.0.1 (bind port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not find a free port'))));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Makes sure the namespace has the search attributes of SEARCH_ATTRIBUTE_TYPES (TaxNo, TaxPeriod,
 * DeductionStage: Keyword; ApprovalDeadline: Datetime), registering the missing ones. Returns the names it added. Throws when one exists with another type.
 */
export async function ensureSearchAttributes(
  connection: Pick<ConnectionLike, 'operatorService'>,
  namespace: string,
): Promise<string[]> {
  const listed = await connection.operatorService.listSearchAttributes({ namespace });
  const custom = listed.customAttributes ?? {};
  const wrongType = SEARCH_ATTRIBUTE_NAMES.filter(
    (name) => custom[name] !== undefined && custom[name] !== indexedType(name),
  );
  if (wrongType.length > 0) {
    throw new Error(
      `Search attribute(s) ${wrongType.join(', ')} exist in namespace ${namespace} with another type than ${wrongType.map((n) => SEARCH_ATTRIBUTE_TYPES[n]).join(', ')}; ` +
        'remove them (temporal operator search-attribute remove) or use another namespace',
    );
  }
  const missing = SEARCH_ATTRIBUTE_NAMES.filter((name) => custom[name] === undefined);
  if (missing.length === 0) return [];
  const searchAttributes = Object.fromEntries(missing.map((name) => [name, indexedType(name)]));
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (err) {
    // Someone else may have added them in the meantime (ALREADY_EXISTS): check again below.
    if (!/already exists/i.test(String((err as Error).message))) throw err;
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    const again = await connection.operatorService.listSearchAttributes({ namespace });
    const now = again.customAttributes ?? {};
    if (SEARCH_ATTRIBUTE_NAMES.every((name) => now[name] !== undefined)) return [...missing];
    await sleep(100);
  }
  throw new Error(`Search attributes ${missing.join(', ')} did not appear in namespace ${namespace}`);
}

/** Keeps the last lines a child wrote, for error messages. */
class OutputTail {
  private lines: string[] = [];
  private partial = '';
  constructor(private readonly max = 40) {}
  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts.filter((l) => l.trim() !== ''));
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
  }
  toString(): string {
    const all = this.partial.trim() ? [...this.lines, this.partial] : this.lines;
    return all.length ? all.join('\n') : '(no output)';
  }
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/**
 * Starts `temporal server start-dev` and resolves once the frontend answers and the search
 * attributes exist. A port this function chose can be taken by another process between the check
 * and the server's bind (the server then exits early): it is tried again on a new port, twice.
 */
export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServerOnce(opts);
    } catch (error) {
      const lostPort = error instanceof Error && error.message.includes('exited early');
      if (opts.port !== undefined || attempt >= 3 || !lostPort) throw error;
    }
  }
}

async function startDevServerOnce(opts: DevServerOptions): Promise<DevServer> {
  const namespace = opts.namespace ?? 'default';
  const port = opts.port ?? (await freePort());
  let uiPort = opts.uiPort;
  if (!opts.headless && uiPort === undefined) {
    do uiPort = await freePort();
    while (uiPort === port);
  }
  const address = `127.0.0.1:${port}`;
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port)];
  if (opts.headless) args.push('--headless');
  else args.push('--ui-port', String(uiPort), '--ui-disable-news-fetch');
  if (!opts.headless && opts.uiCodecEndpoint) args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);
  if (opts.dbFile) {
    mkdirSync(dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  args.push('--namespace', namespace, '--log-level', 'warn');
  for (const name of SEARCH_ATTRIBUTE_NAMES) args.push('--search-attribute', `${name}=${SEARCH_ATTRIBUTE_TYPES[name]}`);
  args.push('--sqlite-pragma', 'journal_mode=WAL');
  args.push('--sqlite-pragma', `synchronous=${opts.durable ? 'NORMAL' : 'OFF'}`);

  const executable = temporalCliPath();
  let log: WriteStream | undefined;
  if (opts.logFile) {
    mkdirSync(dirname(opts.logFile), { recursive: true });
    log = createWriteStream(opts.logFile, { flags: 'a' });
  }
  const tail = new OutputTail();
  const child = spawn(executable, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      tail.push(chunk);
      log?.write(chunk);
    });
  }
  // Never leave a server behind when this process exits without calling stop().
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        if (!(await waitForExit(child, 10_000))) {
          child.kill('SIGKILL');
          await waitForExit(child, 5_000);
        }
      }
      process.off('exit', killOnExit);
      if (log) await new Promise<void>((resolve) => log!.end(resolve));
    })();
    return stopped;
  };

  const describe = () =>
    `Temporal dev server (${executable} ${args.join(' ')})\n--- last server output ---\n${tail.toString()}`;
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  try {
    for (;;) {
      if (spawnError) throw new Error(`Could not start ${describe()}\n${spawnError.message}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `The ${describe()}\nexited early (code ${child.exitCode ?? child.signalCode}) before it was ready. ` +
            'Is the port already in use, or the database file locked by another server?',
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `The ${describe()}\nwas not ready after ${timeoutMs} ms` +
            (lastError ? ` (last error: ${(lastError as Error).message})` : ''),
        );
      }
      let connection: Connection | undefined;
      try {
        // No retry interceptor: this loop is the retry.
        connection = await Connection.connect({ address, connectTimeout: 1000, interceptors: [] });
        await connection.workflowService.getSystemInfo({});
        await connection.workflowService.describeNamespace({ namespace });
        await ensureSearchAttributes(connection, namespace);
        break;
      } catch (err) {
        lastError = err;
        await sleep(250);
      } finally {
        await connection?.close().catch(() => undefined);
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    address,
    namespace,
    uiUrl: opts.headless ? undefined : `http://127.0.0.1:${uiPort}`,
    pid: child.pid!,
    stop,
  };
}
