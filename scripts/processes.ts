/**
 * The service processes the launchers start, stop, kill and restart: the cluster's server binaries
 * (PostgreSQL, the Temporal nodes, the Web UI server) and the project's own entry points (workers,
 * the sandbox) for `npm run cluster`, the chaos run and the benchmarks. Output goes to a log file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { PROJECT_ROOT } from './temporalTools.js';

/**
 * Children still alive, with the signal that ends them at once; sent when the launcher exits,
 * however it exits, so none is orphaned.
 */
const live = new Map<ChildProcess, NodeJS.Signals>();
/** Ends every child at once: PostgreSQL with its fast shutdown (SIGINT), the others with SIGKILL. */
export function killAllNow(): void {
  for (const [child, signal] of live) child.kill(signal);
}
process.once('exit', killAllNow);

function baseEnv(): NodeJS.ProcessEnv {
  const { PATH, HOME } = process.env;
  return { ...(PATH ? { PATH } : {}), ...(HOME ? { HOME } : {}) };
}

export interface ManagedProcessOptions {
  command: string;
  args: string[];
  logFile: string;
  cwd?: string;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /**
   * False: the process gets `env` and PATH / HOME only, not the launcher's whole environment (a
   * server configured by environment variables takes no stray ones). Default true.
   */
  inheritEnv?: boolean;
  /** Run as this user (PostgreSQL under root). */
  user?: { uid: number; gid: number };
  /** What a graceful stop sends (PostgreSQL: SIGINT, its fast shutdown); default SIGTERM. */
  stopSignal?: NodeJS.Signals;
  /** How long a graceful stop waits before SIGKILL; default 10 s. */
  stopGraceMs?: number;
  /**
   * In a process group of its own: the terminal's Ctrl-C then reaches only the launcher, which
   * stops the process in its turn.
   */
  detached?: boolean;
  /** Text the process prints on stdout once it is up (e.g. a worker polling its task queue). */
  readyText?: string;
}

export class ManagedProcess {
  private child?: ChildProcess;
  private readyChild?: ChildProcess;
  starts = 0;
  /** SIGKILLs sent to a live process (a kill of an already-dead one is not counted). */
  kills = 0;

  constructor(
    readonly name: string,
    private readonly options: ManagedProcessOptions,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Running and has printed its readyText (false without one). */
  get ready(): boolean {
    return this.running && this.readyChild === this.child;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** How the last run ended, for error messages. */
  get exit(): string | undefined {
    const c = this.child;
    if (!c || this.running) return undefined;
    return c.signalCode ? `signal ${c.signalCode}` : `code ${c.exitCode}`;
  }

  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    const o = this.options;
    const log = createWriteStream(o.logFile, { flags: 'a' });
    const child = spawn(o.command, o.args, {
      cwd: o.cwd,
      env: { ...(o.inheritEnv === false ? baseEnv() : process.env), ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: o.detached ?? false,
      ...(o.user ?? {}),
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    child.once('error', (err) => log.write(`\n[launcher] could not start ${o.command}: ${err.message}\n`));
    const readyText = o.readyText;
    if (readyText !== undefined) {
      let seen = '';
      const watch = (chunk: Buffer) => {
        seen = (seen + chunk.toString('utf8')).slice(-4096);
        if (!seen.includes(readyText)) return;
        this.readyChild = child;
        child.stdout?.off('data', watch);
      };
      child.stdout?.on('data', watch);
    }
    live.set(child, o.stopSignal === 'SIGINT' ? 'SIGINT' : 'SIGKILL');
    child.once('exit', () => live.delete(child));
    this.child = child;
    this.starts++;
  }

  /**
   * SIGKILL: no shutdown, no goodbye — what a crash or an OOM kill does. True when it hit a live
   * process; false when there was none running (nothing was killed).
   */
  async kill(): Promise<boolean> {
    const child = this.child;
    if (!child || !this.running) return false;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.kills++;
    return true;
  }

  /** The graceful stop signal, then SIGKILL after `graceMs`. */
  async stop(graceMs = this.options.stopGraceMs ?? 10_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(this.options.stopSignal ?? 'SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * One of the project's TypeScript entry points (a worker, the sandbox) under tsx, from the
 * project's folder, logging JSON lines.
 */
export function projectScript(
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  logFile: string,
  readyText?: string,
): ManagedProcess {
  return new ManagedProcess(name, {
    command: process.execPath,
    args: ['--import', 'tsx', script],
    cwd: PROJECT_ROOT,
    env: { ...env, LOG_FORMAT: 'json' },
    logFile,
    ...(readyText !== undefined ? { readyText } : {}),
  });
}
