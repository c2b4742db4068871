/**
 * Start-up: time from launching `npm start`'s program (scripts/start.ts, with a fresh data folder
 * and free ports) to the first workflow running on its worker. `tsx bench/startup.ts`
 */
import { Client, Connection } from '@temporalio/client';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { likelyCurrentPeriod } from '../protocol/period.js';
import { PROJECT_ROOT } from '../scripts/temporalTools.js';
import { freePort } from '../scripts/devServer.js';
import { deductionWorkflowId } from '../workflows/contract.js';
import { formatFigures, info, type Figure, sleep } from './figures.js';

const FIRST_TAXPAYER = '91440300591872133B';

/** Milliseconds from spawning scripts/start.ts until the first demo month has run a workflow task. */
export async function measureStartup(timeoutMs = 180_000): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vat-startup-'));
  const [temporalPort, uiPort, sandboxPort, codecPort, inboxPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const began = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      VAT_DATA_DIR: dataDir,
      TEMPORAL_PORT: String(temporalPort),
      TEMPORAL_UI_PORT: String(uiPort),
      SANDBOX_PORT: String(sandboxPort),
      CODEC_PORT: String(codecPort),
      INBOX_PORT: String(inboxPort),
      LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const workflowId = deductionWorkflowId(FIRST_TAXPAYER, likelyCurrentPeriod(new Date()));
  try {
    for (;;) {
      if (Date.now() - began > timeoutMs) throw new Error(`startup: no workflow running after ${timeoutMs} ms`);
      if (child.exitCode !== null) throw new Error(`startup: scripts/start.ts exited with ${child.exitCode}`);
      try {
        const connection = await Connection.connect({ address: `127.0.0.1:${temporalPort}`, connectTimeout: 1000 });
        try {
          const d = await new Client({ connection }).workflow.getHandle(workflowId).describe();
          // More than the first workflow task scheduled: a worker has run the workflow.
          if (d.status.name === 'RUNNING' && d.historyLength > 3) return Date.now() - began;
        } finally {
          await connection.close();
        }
      } catch {
        // Not up yet.
      }
      await sleep(200);
    }
  } finally {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runStartup(): Promise<Figure[]> {
  const ms = await measureStartup();
  return [
    info(
      'npm start (scripts/start.ts) to the first workflow running',
      ms / 1000,
      's',
      'fresh data folder; setup.sh not counted',
    ),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(formatFigures('Start-up', await runStartup()));
  process.exit(0);
}
