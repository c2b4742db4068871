/**
 * `accounting` commands of the operator CLI (自动入账):
 *   accounting check-rules|dry-run|run|report|schedule ...
 * Arguments and the rules file are validated before anything is contacted; bad input exits 2.
 */
import type { Client } from '@temporalio/client';
import { Command, Option } from 'commander';
import { invoiceCloudConfigFromEnv } from '../activities/invoiceCloudConfig.js';
import { AccountingRulesError, type AccountingRules } from '../rules/accountingRulesSchema.js';
import { loadAccountingRulesFile } from '../activities/accountingRulesFile.js';
import { shanghaiMonth } from '../protocol/period.js';
import { analyzeRules, formatRuleAnalysis } from '../rules/autoAccounting.js';
import type { AccountingReport } from '../workflows/accountingContract.js';
import {
  applyAccountingSchedule,
  dryRunAccounting,
  lastAccountingReport,
  runAccountingNow,
  type DryRun,
} from './accounting.js';
import { checkPeriod, checkTaxNo } from './deductions.js';
import { withClient } from './cliSupport.js';
import { DEFAULT_REGISTRY_FILE, RegistryError } from './registry.js';
import { tenantForStart, TenantOptionError } from './tenantOption.js';

export interface AccountingCommandIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  now: () => Date;
  connect: () => Promise<Client>;
}

const EXIT_BAD_INPUT = 2;
const EXIT_NOT_FOUND = 4;

export function addAccountingCommands(program: Command, io: AccountingCommandIo): Command {
  const accounting = program
    .command('accounting')
    .description(
      'Auto-accounting 自动入账: check the rules, dry-run them against the pool, run now, reports, schedules',
    );

  const fail = (command: Command, message: string, exitCode = EXIT_BAD_INPUT): never =>
    command.error(`error: ${message}`, { exitCode, code: 'accounting.error' });
  const taxNoOf = (command: Command, value: string) => {
    try {
      checkTaxNo(value, '--tax-no');
    } catch (e) {
      fail(command, (e as Error).message);
    }
    return value;
  };
  const periodOf = (command: Command, value: string | undefined) => {
    if (value === undefined) return shanghaiMonth(io.now());
    try {
      checkPeriod(value, '--period');
    } catch (e) {
      fail(command, (e as Error).message);
    }
    return value;
  };
  async function rulesOf(command: Command, file: string | undefined, required: boolean) {
    const path = file ?? io.env.ACCOUNTING_RULES_FILE;
    if (!path) {
      if (required) fail(command, 'no rules file: pass --rules <file> or set ACCOUNTING_RULES_FILE');
      return undefined;
    }
    try {
      const rules = await loadAccountingRulesFile(path);
      const analysis = analyzeRules(rules);
      if (analysis.overlaps.length)
        fail(command, `${path} decides some invoices two ways:\n${formatRuleAnalysis(analysis)}`);
      return rules;
    } catch (e) {
      if (e instanceof AccountingRulesError) fail(command, e.message);
      throw e;
    }
  }

  const tenantOption = () =>
    new Option(
      '--tenant <id>',
      "the tenant of the tenants file (INVOICE_CLOUD_TENANTS_FILE) that serves this taxpayer; default: the registry entry's, else the workers' INVOICE_CLOUD_* tenant",
    );
  const registryOption = () =>
    new Option('--registry <file>', 'taxpayer registry to take the tenant from').default(
      io.env.TAXPAYER_REGISTRY ?? DEFAULT_REGISTRY_FILE,
    );

  /** `--tenant`, or else the registry entry's; a bad or unknown id is bad input naming the known ids. */
  function tenantOf(command: Command, taxNo: string, opts: { tenant?: string; registry: string }) {
    try {
      return tenantForStart(taxNo, opts.tenant, opts.registry, io.env);
    } catch (e) {
      if (e instanceof TenantOptionError || e instanceof RegistryError) fail(command, e.message);
      throw e;
    }
  }

  accounting
    .command('check-rules')
    .description('Validate a rules file and report overlaps and gaps')
    .option('--rules <file>', 'rules file (default: ACCOUNTING_RULES_FILE)')
    .action(async (opts: { rules?: string }, command: Command) => {
      const path = opts.rules ?? io.env.ACCOUNTING_RULES_FILE;
      if (!path) return fail(command, 'no rules file: pass --rules <file> or set ACCOUNTING_RULES_FILE');
      let rules: AccountingRules;
      try {
        rules = await loadAccountingRulesFile(path);
      } catch (e) {
        if (e instanceof AccountingRulesError) return fail(command, e.message);
        throw e;
      }
      const analysis = analyzeRules(rules);
      io.out(`${path}: ${rules.rules.length} rules\n${formatRuleAnalysis(analysis)}\n`);
      if (analysis.overlaps.length) fail(command, 'the rules overlap; runs refuse them until fixed');
    });

  accounting
    .command('dry-run')
    .description('Show what a run would book now (reads the pool; books nothing)')
    .requiredOption('--tax-no <taxNo>', 'taxpayer (纳税人识别号)')
    .option('--period <YYYYMM>', 'accounting period for "runPeriod" rules (default: this month, Shanghai)')
    .option('--rules <file>', 'rules file (default: ACCOUNTING_RULES_FILE)')
    .option('--json', 'print JSON')
    .action(async (opts: { taxNo: string; period?: string; rules?: string; json?: boolean }, command: Command) => {
      const taxNo = taxNoOf(command, opts.taxNo);
      const accountPeriod = periodOf(command, opts.period);
      const rules = (await rulesOf(command, opts.rules, true))!;
      const result = await dryRunAccounting(invoiceCloudConfigFromEnv(io.env), { taxNo, accountPeriod, rules });
      io.out(opts.json ? `${JSON.stringify(result, null, 2)}\n` : formatDryRun(taxNo, accountPeriod, result));
    });

  accounting
    .command('run')
    .description('Start the auto-accounting workflow for a taxpayer and period now')
    .requiredOption('--tax-no <taxNo>', 'taxpayer (纳税人识别号)')
    .option('--period <YYYYMM>', 'accounting period (default: this month, Shanghai)')
    .option('--rules <file>', "rules file sent with the run (default: the worker's ACCOUNTING_RULES_FILE)")
    .addOption(tenantOption())
    .addOption(registryOption())
    .action(
      async (
        opts: { taxNo: string; period?: string; rules?: string; tenant?: string; registry: string },
        command: Command,
      ) => {
        const taxNo = taxNoOf(command, opts.taxNo);
        const accountPeriod = periodOf(command, opts.period);
        const rules = opts.rules ? await rulesOf(command, opts.rules, true) : undefined;
        const { tenant } = tenantOf(command, taxNo, opts);
        const started = await withClient(io, (client) =>
          runAccountingNow(client, {
            taxNo,
            accountPeriod,
            ...(rules ? { rules } : {}),
            ...(tenant ? { tenant } : {}),
          }),
        );
        io.out(
          started.alreadyRunning
            ? `Already running: ${started.workflowId} (run ${started.runId}); nothing new was started.\n`
            : `Started ${started.workflowId} (run ${started.runId}). See: accounting report --tax-no ${taxNo} --period ${accountPeriod}\n`,
        );
      },
    );

  accounting
    .command('report')
    .description("Show the newest run's report (booked, skipped by rule, failed and why)")
    .requiredOption('--tax-no <taxNo>', 'taxpayer (纳税人识别号)')
    .option('--period <YYYYMM>', 'only runs of this accounting period')
    .option('--json', 'print JSON')
    .action(async (opts: { taxNo: string; period?: string; json?: boolean }, command: Command) => {
      const taxNo = taxNoOf(command, opts.taxNo);
      const period = opts.period === undefined ? undefined : periodOf(command, opts.period);
      const last = await withClient(io, (client) => lastAccountingReport(client, taxNo, period));
      if (!last)
        return fail(
          command,
          `no auto-accounting run found for ${taxNo}${period ? ` in ${period}` : ''}`,
          EXIT_NOT_FOUND,
        );
      io.out(
        opts.json
          ? `${JSON.stringify(last, null, 2)}\n`
          : `${last.workflowId} (run ${last.runId}, ${last.status})\n${formatReport(last.report)}`,
      );
    });

  accounting
    .command('schedule')
    .description("Create or update a taxpayer's auto-accounting Temporal Schedule (Asia/Shanghai time)")
    .requiredOption('--tax-no <taxNo>', 'taxpayer (纳税人识别号)')
    .requiredOption('--day <1-28>', 'day of the month')
    .requiredOption('--hour <0-23>', 'hour')
    .option('--minute <0-59>', 'minute', '0')
    .option('--rules <file>', "rules file fixed into the schedule (default: the worker's ACCOUNTING_RULES_FILE)")
    .option('--paused', 'create it paused')
    .addOption(tenantOption())
    .addOption(registryOption())
    .action(
      async (
        opts: {
          taxNo: string;
          day: string;
          hour: string;
          minute: string;
          rules?: string;
          paused?: boolean;
          tenant?: string;
          registry: string;
        },
        command: Command,
      ) => {
        const taxNo = taxNoOf(command, opts.taxNo);
        const int = (value: string, option: string, min: number, max: number) => {
          const n = Number(value);
          if (!Number.isInteger(n) || n < min || n > max)
            fail(command, `${option} must be a whole number ${min}-${max}, got "${value}"`);
          return n;
        };
        const dayOfMonth = int(opts.day, '--day', 1, 28);
        const hour = int(opts.hour, '--hour', 0, 23);
        const minute = int(opts.minute, '--minute', 0, 59);
        const rules = opts.rules ? await rulesOf(command, opts.rules, true) : undefined;
        const { tenant } = tenantOf(command, taxNo, opts);
        const applied = await withClient(io, (client) =>
          applyAccountingSchedule(client, {
            taxNo,
            ...(tenant ? { tenant } : {}),
            dayOfMonth,
            hour,
            minute,
            ...(rules ? { rules } : {}),
            paused: opts.paused ?? false,
          }),
        );
        io.out(
          `${applied.created ? 'Created' : 'Updated'} schedule ${applied.scheduleId}: day ${dayOfMonth} at ` +
            `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')} Asia/Shanghai.\n`,
        );
      },
    );

  for (const command of [accounting, ...accounting.commands]) {
    command.exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
  }
  return accounting;
}

const byRule = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([rule, n]) => `${rule}: ${n}`)
    .join(', ') || 'none';

export function formatDryRun(taxNo: string, accountPeriod: string, d: DryRun): string {
  const wouldBook: Record<string, number> = {};
  for (const line of d.plan.toBook) wouldBook[line.rule] = (wouldBook[line.rule] ?? 0) + 1;
  const lines = [
    `Dry run for ${taxNo}, accounting period ${accountPeriod} (nothing was booked)`,
    `Unbooked invoices examined: ${d.plan.examined}`,
    `Would book: ${d.plan.toBook.length} (${byRule(wouldBook)})`,
    `Skipped by rule: ${byRule(d.plan.skippedByRule)}`,
    `No rule covers: ${d.plan.noRule}`,
  ];
  if (d.plan.conflicts) lines.push(`Rules disagree: ${d.plan.conflicts}`);
  for (const line of d.plan.toBook.slice(0, 50)) {
    lines.push(
      `  book ${line.invoiceCode ? `${line.invoiceCode}/` : ''}${line.invoiceNo} into ${line.accountPeriod} (${line.rule})`,
    );
  }
  if (d.plan.toBook.length > 50) lines.push(`  ... and ${d.plan.toBook.length - 50} more (--json lists all)`);
  lines.push(formatRuleAnalysis(d.analysis));
  return `${lines.join('\n')}\n`;
}

export function formatReport(r: AccountingReport): string {
  const lines = [
    `Taxpayer ${r.taxNo}, accounting period ${r.accountPeriod}: ${r.status}`,
    `Rules: ${r.rulesSource}`,
    `Unbooked invoices examined: ${r.examined}`,
    `Booked: ${r.booked} (${byRule(r.bookedByRule)})`,
    `Skipped by rule: ${byRule(r.skippedByRule)}`,
    `No rule covers: ${r.noRule}`,
    `Failed: ${r.failed}`,
  ];
  if (r.confirmedFromPool)
    lines.push(`Of the booked, seen booked in the pool after a lost reply: ${r.confirmedFromPool}`);
  if (r.conflicts) lines.push(`Rules disagree: ${r.conflicts}`);
  if (r.deferred) lines.push(`Deferred to the next run: ${r.deferred}`);
  if (r.poolReads !== undefined) lines.push(`Pool pages read: ${r.poolReads}`);
  for (const f of r.failures) lines.push(`  ${f.invoiceNo} (${f.rule}): ${f.resultCode} ${f.resultMsg}`);
  if (r.error) lines.push(`Error: ${r.error}`);
  return `${lines.join('\n')}\n`;
}
