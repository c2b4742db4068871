/**
 * `npm run chaos [-- --taxpayers 50 --invoices 200 --worker-kills 20 ...]`: the full chaos run of
 * docs/reliability.md. Prints what it did and which invariants held; exits 1 if any
 * did not.
 */
import { Command, InvalidArgumentError } from 'commander';
import { execFileSync } from 'node:child_process';
import { PROJECT_ROOT } from './temporalTools.js';
import { formatChaosReport, runChaos } from './chaos/runChaos.js';

const int = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number, got ${value}`);
  return n;
};
const positive = (name: string) => (value: string) => {
  const n = int(name)(value);
  if (n === 0) throw new InvalidArgumentError(`${name} must be at least 1, got ${value}`);
  return n;
};
const rate = (name: string) => (value: string) => {
  const n = Number(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`${name} must be between 0 and 1, got ${value}`);
  return n;
};

const program = new Command('chaos')
  .description('Run many taxpayer-months while killing workers, Temporal and the sandbox; check the invariants')
  .option('--taxpayers <n>', 'taxpayer-months', int('--taxpayers'), 50)
  .option('--invoices <n>', 'invoices per taxpayer', int('--invoices'), 200)
  .option('--workers <n>', 'worker processes', int('--workers'), 2)
  .option('--worker-kills <n>', 'SIGKILLs of worker processes', int('--worker-kills'), 20)
  .option(
    '--temporal-restarts <n>',
    'SIGKILL + restart of the Temporal dev server on its SQLite file (with --cluster: of Temporal node 1)',
    int('--temporal-restarts'),
    2,
  )
  .option('--sandbox-restarts <n>', 'SIGKILL + restart of the sandbox on its SQLite file', int('--sandbox-restarts'), 1)
  .option('--http-5xx-rate <r>', 'share of sandbox replies that are HTTP 5xx', rate('--http-5xx-rate'), 0.1)
  .option('--hang-rate <r>', 'share of sandbox replies that never come', rate('--hang-rate'), 0.05)
  .option('--cluster', "against npm run cluster's topology: PostgreSQL and two Temporal nodes", false)
  .option('--postgres-restarts <n>', 'with --cluster: stops and restarts of PostgreSQL', int('--postgres-restarts'), 1)
  .option('--timeout-minutes <n>', 'time from the start for every month to close', positive('--timeout-minutes'), 15)
  .option(
    '--retry-wait-minutes <n>',
    'past the timeout, how much longer a month whose next attempt is scheduled is waited for',
    int('--retry-wait-minutes'),
    32,
  )
  .option('--seed <n>', 'seed of the chaos plan and the faults', int('--seed'), 2026)
  .option('--keep-data', 'keep the run folder (logs, databases)', false)
  .parse();

const o = program.opts();
// The cluster's binaries are built once, outside the clone (scripts/cluster/setup.sh); a no-op after.
if (o.cluster) execFileSync('bash', ['scripts/cluster/setup.sh'], { stdio: 'inherit', cwd: PROJECT_ROOT });
const report = await runChaos(
  {
    taxpayers: o.taxpayers,
    invoicesPerTaxpayer: o.invoices,
    workers: o.workers,
    workerKills: o.workerKills,
    temporalRestarts: o.temporalRestarts,
    sandboxRestarts: o.sandboxRestarts,
    http5xxRate: o.http5xxRate,
    hangRate: o.hangRate,
    seed: o.seed,
    timeoutMs: o.timeoutMinutes * 60_000,
    retryWaitMs: o.retryWaitMinutes * 60_000,
    cluster: o.cluster,
    postgresRestarts: o.postgresRestarts,
    keepData: o.keepData,
  },
  (line) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`),
);
process.stdout.write(`${formatChaosReport(report)}\n`);
if (o.keepData) process.stdout.write(`Run folder: ${report.dataDir}\n`);
process.exit(report.ok ? 0 : 1);
