import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';

/** Children still alive; killed when the launcher exits, however it exits, so none is orphaned. */
const live = new Map<ChildProcess, NodeJS.Signals>();
/** Ends every child at once: PostgreSQL with its fast shutdown, the others with SIGKILL. */
export function killAllNow(): void {
  for (const [child, signal] of live) child.kill(signal);
}
process.once('exit', killAllNow);

export interface BinaryProcessOptions {
  args: string[];
  logFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this user (PostgreSQL under root). */
  user?: { uid: number; gid: number };
  /** What a graceful stop sends (PostgreSQL: SIGINT, its fast shutdown). */
  stopSignal?: NodeJS.Signals;
}

/**
 * A server binary of the cluster (PostgreSQL, a Temporal node, the Web UI server). Started in its
 * own process group, so the terminal's Ctrl-C reaches only the launcher, which stops them in order.
 */
export class BinaryProcess {
  private child?: ChildProcess;
  starts = 0;
  kills = 0;

  constructor(
    readonly name: string,
    private readonly binary: string,
    private readonly options: BinaryProcessOptions,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
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
    const log = createWriteStream(this.options.logFile, { flags: 'a' });
    const child = spawn(this.binary, this.options.args, {
      cwd: this.options.cwd,
      env: { ...process.env, ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      ...(this.options.user ?? {}),
    });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    child.once('error', (err) => log.write(`\n[launcher] could not start ${this.binary}: ${err.message}\n`));
    live.set(child, this.options.stopSignal === 'SIGINT' ? 'SIGINT' : 'SIGKILL');
    child.once('exit', () => live.delete(child));
    this.child = child;
    this.starts++;
  }

  /** SIGKILL: what a crash or an OOM kill does. True when it hit a live process. */
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
  async stop(graceMs = 20_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(this.options.stopSignal ?? 'SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
