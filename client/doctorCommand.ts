/**
 * `doctor [--tax-no X] [--capture-dir D] [--json]`: how the tenant's invoice cloud behaves, found
 * out by read-only calls with the worker's settings (client/doctor.ts). Part of the operator CLI.
 * Exit codes: 0 every read-only call answered, 1 some did not, 2 bad input or bad settings.
 */
import type { Command } from 'commander';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, invoiceCloudConfigFromEnv, type InvoiceCloudConfig } from '../activities/invoiceCloudConfig.js';
import { PROFILE_VARIABLE } from '../protocol/profile.js';
import { checkTaxNo } from './deductions.js';
import { tenantConfig, TenantsFileError } from '../config/loadTenants.js';
import { knownTenant } from './tenantOption.js';
import { runDoctor, type DoctorReport } from './doctor.js';
import { CliError, EXIT_BAD_INPUT, EXIT_UNEXPECTED, type CliIo } from './cliSupport.js';
import { table } from './cliFormat.js';

export function formatDoctorReport(report: DoctorReport, profileSource: string): string {
  let text = `Invoice cloud ${report.baseUrl}, protocol profile: ${profileSource}\n`;
  text += `Taxpayer: ${report.taxNo ?? '- (give --tax-no for the taxpayer calls)'}\n\n`;
  text += table(
    ['INTERFACE', 'REACHABLE', 'REPLY', 'TIME'],
    report.calls.map((c) => [
      c.wire === c.name.split(' ')[1] || c.name.startsWith('1.') ? c.name : `${c.name} (wire ${c.wire})`,
      c.reachable,
      c.detail,
      c.ms !== undefined ? `${Math.round(c.ms)} ms` : '-',
    ]),
  );
  text += '\nProfile assumptions:\n';
  text += table(
    ['SETTING', 'VALUE', 'FINDING', 'HOW'],
    report.assumptions.map((a) => [a.setting, a.value, a.finding, a.detail]),
  );
  text += `\nCaptures (redacted): ${report.captureFiles} files in ${report.captureDir}\n`;
  text += report.ok
    ? 'Every read-only call answered.\n'
    : 'Not every read-only call answered: see the REPLY column and the captures.\n';
  return text;
}

/** The worker's INVOICE_CLOUD_* settings, or with --tenant that tenant's from the tenants file. */
function settings(env: NodeJS.ProcessEnv, tenant: string | undefined): { config: InvoiceCloudConfig; profile: string } {
  try {
    if (tenant === undefined) {
      const profile = env[PROFILE_VARIABLE] ? `${PROFILE_VARIABLE}=${env[PROFILE_VARIABLE]}` : 'defaults';
      return { config: invoiceCloudConfigFromEnv(env), profile };
    }
    const { file, entry } = knownTenant(tenant, env);
    const profile = entry.profileFile ? `profileFile ${entry.profileFile} (tenant "${tenant}")` : 'defaults';
    return { config: tenantConfig(entry, file, env).invoiceCloud, profile };
  } catch (error) {
    if (error instanceof ConfigError || error instanceof TenantsFileError) {
      throw new CliError(error.message, EXIT_BAD_INPUT);
    }
    throw error;
  }
}

function captureFolder(dir: string | undefined): string {
  try {
    if (dir === undefined) return mkdtempSync(join(tmpdir(), 'vat-doctor-'));
    const folder = resolve(dir);
    mkdirSync(folder, { recursive: true });
    return folder;
  } catch (error) {
    throw new CliError(
      `--capture-dir ${dir ?? ''}: cannot create the folder (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      EXIT_BAD_INPUT,
    );
  }
}

export function addDoctorCommand(program: Command, io: CliIo): void {
  program
    .command('doctor')
    .description(
      "Find out how the tenant's invoice cloud behaves with the worker's INVOICE_CLOUD_* settings, by read-only " +
        'calls only (tokens, taxLogin, taxperiodQuery, statisticQuery, pool page 1); saves redacted captures',
    )
    .option('--tax-no <taxNo>', 'taxpayer (纳税人识别号) for the taxpayer calls; without it only the token calls run')
    .option(
      '--tenant <id>',
      'a tenant of the tenants file (INVOICE_CLOUD_TENANTS_FILE): its settings and secrets instead of the INVOICE_CLOUD_* ones',
    )
    .option('--capture-dir <dir>', 'folder for the captures (default: a new folder under the system temp dir)')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { taxNo?: string; tenant?: string; captureDir?: string; json?: boolean }) => {
      if (opts.taxNo !== undefined) checkTaxNo(opts.taxNo, '--tax-no');
      const { config, profile: profileSource } = settings(io.env, opts.tenant);
      const captureDir = captureFolder(opts.captureDir);
      const report = await runDoctor(config, {
        ...(opts.taxNo !== undefined ? { taxNo: opts.taxNo } : {}),
        captureDir,
      });
      io.out(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctorReport(report, profileSource));
      if (!report.ok) {
        throw new CliError(`not every read-only call answered (captures in ${report.captureDir})`, EXIT_UNEXPECTED);
      }
    });
}
