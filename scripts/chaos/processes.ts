import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Children still alive; killed when the supervisor exits, however it exits, so none is orphaned. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A service process the chaos supervisor starts, kills and restarts (a worker, the sandbox). */
export class ManagedProcess {
  private child?: ChildProcess;
  starts = 0;
  /** SIGKILLs sent to a live process (a kill of an already-dead one is not counted). */
  kills = 0;

  private readyChild?: ChildProcess;

  constructor(
    readonly name: string,
    private readonly script: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string,
    /** Text the process prints once it is up (e.g. a worker polling its task queue). */
    private readonly readyText?: string,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Running and has printed its readyText (false without one). */
  get ready(): boolean {
    return this.running && this.readyChild === this.child;
  }

  start(): void {
    const log = createWriteStream(this.logFile, { flags: 'a' });
    this.child = spawn(process.execPath, ['--import', 'tsx', this.script], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...this.env, LOG_FORMAT: 'json' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.pipe(log);
    this.child.stderr?.pipe(log);
    const child = this.child;
    const readyText = this.readyText;
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
    live.add(child);
    child.once('exit', () => live.delete(child));
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

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
