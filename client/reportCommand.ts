/**
 * `report --tax-no X --period P [--out DIR] [--format xlsx|pdf|both]`: the audit report of a month
 * that ended COMPLETED, REJECTED or EXPIRED (report/, docs/audit-report.md). Part of the operator CLI.
 * Exit codes: 0 written, 2 bad input (or no Chinese font for the PDF), 3 Temporal unreachable,
 * 4 no such month or a month not closed (its state is named).
 */
import type { Command } from 'commander';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildReports, type ReportFormat } from '../report/build.js';
import { REPORTABLE_OUTCOMES } from '../report/facts.js';
import {
  REPORT_FONT_NAME_VARIABLE,
  REPORT_FONT_VARIABLE,
  reportFont,
  ReportFontError,
  type ReportFont,
} from '../report/pdf.js';
import { checkPeriod, checkTaxNo, DeductionInputError } from './deductions.js';
import { bad, withClient, type CliIo } from './cliSupport.js';
import { DEFAULT_REGISTRY_FILE, loadRegistry } from './registry.js';

const FORMAT_CHOICES: Record<string, ReportFormat[]> = { xlsx: ['xlsx'], pdf: ['pdf'], both: ['xlsx', 'pdf'] };

function checked(check: () => void): void {
  try {
    check();
  } catch (err) {
    if (err instanceof DeductionInputError) bad(err.message);
    throw err;
  }
}

function outFolder(dir: string): string {
  const folder = resolve(dir);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (err) {
    bad(`--out ${dir}: cannot create the folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return folder;
}

/** The taxpayer's name from the registry, when there is one that names it (the report shows it). */
function taxpayerName(io: CliIo, taxNo: string): string | undefined {
  const file = io.env.TAXPAYER_REGISTRY?.trim() || DEFAULT_REGISTRY_FILE;
  if (!existsSync(file)) return undefined;
  try {
    return loadRegistry(file).taxpayers.find((t) => t.taxNo === taxNo)?.name;
  } catch (err) {
    io.err(`warning: the taxpayer's name is left out: ${(err as Error).message}\n`);
    return undefined;
  }
}

export function addReportCommand(program: Command, io: CliIo): void {
  program
    .command('report')
    .description(
      `Write the audit report of a month that ended ${REPORTABLE_OUTCOMES.join(', ')}: an .xlsx workbook ` +
        '(summary, statistic table, planned vs bureau, invoices, decisions, bureau writes) and a one-page PDF',
    )
    .requiredOption('--tax-no <taxNo>', 'taxpayer (纳税人识别号)')
    .requiredOption('--period <YYYYMM>', 'tax period 税款所属期')
    .option('--out <dir>', 'folder to write the files to (created when missing)', '.')
    .option('--format <format>', 'xlsx, pdf or both', 'both')
    .addHelpText(
      'after',
      `
Writes audit-report-<taxNo>-<period>.xlsx and/or .pdf, built from the month's result and its Temporal
history only. A month still running, FAILED, CANCELLED or TERMINATED has no report (exit code 4, the
state is named). Times are Beijing time (Asia/Shanghai); amounts are the bureau's decimal figures.
The PDF embeds a Chinese font: ${REPORT_FONT_VARIABLE} (default: Debian's fonts-wqy-zenhei, which
npm run setup installs), ${REPORT_FONT_NAME_VARIABLE} for the font's PostScript name inside a .ttc.
The taxpayer's name comes from the registry (TAXPAYER_REGISTRY, default ${DEFAULT_REGISTRY_FILE}) when it has one.
Exit codes: 0 written, 2 bad input or no usable font, 3 Temporal unreachable, 4 no such month or not closed.

Example:
  npm run cli -- report --tax-no 91440300591872133B --period 202610 --out reports/
`,
    )
    .action(async (opts: { taxNo: string; period: string; out: string; format: string }) => {
      checked(() => checkTaxNo(opts.taxNo, '--tax-no'));
      checked(() => checkPeriod(opts.period, '--period'));
      const formats = FORMAT_CHOICES[opts.format];
      if (!formats) bad(`--format ${opts.format}: must be xlsx, pdf or both`);
      let font: ReportFont | undefined;
      if (formats.includes('pdf')) {
        try {
          font = reportFont(io.env);
        } catch (err) {
          if (err instanceof ReportFontError) bad(err.message);
          throw err;
        }
      }
      const folder = outFolder(opts.out);
      const name = taxpayerName(io, opts.taxNo);
      const { files } = await withClient(io, (client) =>
        buildReports(client, opts.taxNo, opts.period, formats, {
          ...(name ? { taxpayerName: name } : {}),
          ...(font ? { font } : {}),
          now: io.now,
        }).catch((err: unknown) => {
          if (err instanceof ReportFontError) bad(err.message);
          throw err;
        }),
      );
      for (const file of files) {
        const path = join(folder, file.name);
        // Written beside, then renamed: a reader never sees half a report.
        writeFileSync(`${path}.partial`, file.bytes);
        renameSync(`${path}.partial`, path);
        io.out(`${path} (${file.bytes.length} bytes)\n`);
      }
    });
}
