/**
 * `schedules apply|list|pause|unpause|trigger|backfill`: the monthly Temporal Schedules of the
 * taxpayer registry. Part of the operator CLI (cli.ts).
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { checkTaxNo, DeductionInputError } from './deductions.js';
import { DEFAULT_REGISTRY_FILE, loadRegistry } from './registry.js';
import {
  applySchedules,
  backfillSchedule,
  describeSchedule,
  listSchedules,
  pauseSchedule,
  triggerSchedule,
  unpauseSchedule,
  type ScheduleRow,
} from './schedules.js';
import { withClient, type CliIo } from './cliSupport.js';
import { table } from './cliFormat.js';
import { checkRegistryTenants } from './tenantOption.js';

function taxNoArg(value: string): string {
  checkTaxNo(value, 'taxNo');
  return value;
}

const Instant = z.iso.datetime({ offset: true });
function instantArg(value: string, option: string): Date {
  if (!Instant.safeParse(value).success) {
    throw new DeductionInputError(
      `${option} ${value}: must be an ISO 8601 instant with an offset, e.g. 2026-12-03T00:00:00+08:00`,
    );
  }
  return new Date(value);
}

function formatScheduleRows(rows: ScheduleRow[]): string {
  if (rows.length === 0) return 'No deduction schedules. Create them with: schedules apply --file <registry>\n';
  return table(
    ['SCHEDULE ID', 'NAME 纳税人', 'STATE', 'NEXT RUN', 'LAST RUN'],
    rows.map((r) => [
      r.scheduleId,
      r.name ?? '-',
      r.paused ? `paused${r.note ? ` (${r.note})` : ''}` : 'active',
      r.nextRuns[0]?.toISOString() ?? '-',
      r.recentRuns.at(-1)
        ? `${r.recentRuns.at(-1)!.scheduledAt.toISOString()} ${r.recentRuns.at(-1)!.workflowId}`
        : '-',
    ]),
  );
}

export function addScheduleCommands(program: Command, io: CliIo): void {
  const schedules = program
    .command('schedules')
    .description('Monthly Temporal Schedules from the taxpayer registry (one per taxpayer, Asia/Shanghai time)')
    .addHelpText(
      'after',
      `
Examples:
  npm run cli -- schedules apply --file config/taxpayers.json
  npm run cli -- schedules list
  npm run cli -- schedules pause 91440300591872133B --note "账户迁移中"
  npm run cli -- schedules trigger 91440300591872133B
  npm run cli -- schedules backfill 91440300591872133B --start 2026-12-01T00:00:00+08:00 --end 2026-12-06T00:00:00+08:00
`,
    );

  schedules
    .command('apply')
    .description('Create, update and delete schedules so Temporal matches the registry file')
    .option('--file <path>', 'taxpayer registry (JSON)', process.env.TAXPAYER_REGISTRY ?? DEFAULT_REGISTRY_FILE)
    .option('--dry-run', 'only show what would change')
    .option('--json', 'print JSON')
    .action(async (opts: { file: string; dryRun?: boolean; json?: boolean }) => {
      const registry = loadRegistry(opts.file);
      checkRegistryTenants(registry, opts.file, io.env);
      const report = await withClient(io, (client) => applySchedules(client, registry, { dryRun: opts.dryRun }));
      if (opts.json) return io.out(`${JSON.stringify(report, null, 2)}\n`);
      const verb = opts.dryRun ? 'would be ' : '';
      for (const [what, ids] of Object.entries(report)) {
        for (const id of ids as string[]) io.out(`${id}: ${what === 'unchanged' ? 'unchanged' : verb + what}\n`);
      }
      io.out(
        `${registry.taxpayers.length} taxpayers: ${report.created.length} created, ${report.updated.length} updated, ` +
          `${report.unchanged.length} unchanged, ${report.deleted.length} deleted${opts.dryRun ? ' (dry run)' : ''}.\n`,
      );
    });

  schedules
    .command('list')
    .description('List the deduction schedules with their next and last runs')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const rows = await withClient(io, (client) => listSchedules(client));
      io.out(opts.json ? `${JSON.stringify(rows, null, 2)}\n` : formatScheduleRows(rows));
    });

  schedules
    .command('describe <taxNo>')
    .description("Show one taxpayer's schedule")
    .option('--json', 'print JSON')
    .action(async (taxNo: string, opts: { json?: boolean }) => {
      const row = await withClient(io, (client) => describeSchedule(client, taxNoArg(taxNo)));
      io.out(opts.json ? `${JSON.stringify(row, null, 2)}\n` : formatScheduleRows([row]));
    });

  schedules
    .command('pause <taxNo>')
    .description("Pause a taxpayer's schedule (no monthly run starts until unpaused)")
    .option('--note <text>', 'why (shown in the Web UI)', 'paused by an operator')
    .action(async (taxNo: string, opts: { note: string }) => {
      await withClient(io, (client) => pauseSchedule(client, taxNoArg(taxNo), opts.note));
      io.out(`Paused the schedule of ${taxNo}.\n`);
    });

  schedules
    .command('unpause <taxNo>')
    .description("Unpause a taxpayer's schedule")
    .option('--note <text>', 'note (shown in the Web UI)', 'unpaused by an operator')
    .action(async (taxNo: string, opts: { note: string }) => {
      await withClient(io, (client) => unpauseSchedule(client, taxNoArg(taxNo), opts.note));
      io.out(`Unpaused the schedule of ${taxNo}.\n`);
    });

  schedules
    .command('trigger <taxNo>')
    .description("Run a taxpayer's launcher now (starts this month's deduction unless it already exists)")
    .action(async (taxNo: string) => {
      await withClient(io, (client) => triggerSchedule(client, taxNoArg(taxNo)));
      io.out(`Triggered the schedule of ${taxNo}; a month that already started is not started again.\n`);
    });

  schedules
    .command('backfill <taxNo>')
    .description('Take the actions scheduled in [start, end) now, e.g. after an outage')
    .requiredOption('--start <ISO>', 'from (inclusive), e.g. 2026-12-01T00:00:00+08:00')
    .requiredOption('--end <ISO>', 'to (exclusive)')
    .action(async (taxNo: string, opts: { start: string; end: string }) => {
      const start = instantArg(opts.start, '--start');
      const end = instantArg(opts.end, '--end');
      if (end <= start) throw new DeductionInputError(`--end ${opts.end}: must be after --start ${opts.start}`);
      await withClient(io, (client) => backfillSchedule(client, taxNoArg(taxNo), start, end));
      io.out(`Backfilled the schedule of ${taxNo} from ${opts.start} to ${opts.end}.\n`);
    });

  for (const command of schedules.commands) {
    command
      .exitOverride()
      .configureOutput({ writeOut: io.out, writeErr: io.err })
      .showHelpAfterError(`(add --help for usage: ${program.name()} schedules ${command.name()} --help)`);
  }
}
