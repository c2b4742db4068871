/**
 * The operator CLI for MonthlyDeductionWorkflow:
 *   npm run cli -- start|status|approve|reject|list|retry|report ...   (or the package bin `vat-deduction`)
 * Every argument is validated before Temporal is contacted.
 * Exit codes: 0 ok, 1 unexpected error, 2 bad input, 3 Temporal unreachable, 4 workflow not found / wrong state,
 * 5 decision refused by the workflow, 6 approval voided (the table changed; the new one awaits approval).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import { addAccountingCommands } from './accountingCommands.js';
import { addDoctorCommand } from './doctorCommand.js';
import { addReportCommand } from './reportCommand.js';
import { addInboxAccountCommands } from './inboxAccounts.js';
import { addScheduleCommands } from './scheduleCommands.js';
import { addMonthCommands } from './monthCommands.js';
import { EXIT_OK, defaultIo, exitCodeFor, type CliIo } from './cliSupport.js';

const ENV_HELP = `
Environment:
  TEMPORAL_ADDRESS     Temporal frontend host:port (default 127.0.0.1:7233)
  TEMPORAL_NAMESPACE   namespace (default "default")
  TEMPORAL_API_KEY, TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_TLS_SERVER_CA_CERT_PATH
                       optional API key / TLS (earlier names TEMPORAL_TLS_CERT, _KEY, _CA still work)
  TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE   a profile of a Temporal config file (the temporal CLI's)
  OTEL_EXPORTER_OTLP_ENDPOINT              send traces over OTLP/HTTP
  INVOICE_CLOUD_TENANTS_FILE               the workers' tenants file, to check --tenant against (ids only)

Exit codes: 0 ok, 1 unexpected error, 2 bad input, 3 Temporal unreachable, 4 workflow not found or in the wrong state,
5 decision refused by the workflow (the reason is printed), 6 approval voided (the table changed after it).
`;

/** Builds the commander program. Errors are thrown (CliError / CommanderError), never process.exit. */
export function buildProgram(ioOverrides: Partial<CliIo> = {}): Command {
  const io = defaultIo(ioOverrides);
  const program = new Command('vat-deduction')
    .description(
      'Operate the monthly VAT input-invoice deduction workflow (增值税进项发票抵扣勾选) on Temporal: ' +
        'start a taxpayer-month, inspect it, approve or reject its statistic table, list runs, ' +
        'resume a month that failed or was cancelled.',
    )
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `
Examples:
  npm run cli -- start --tax-no 91440300591872133B --period 202610 --approver 张三
  npm run cli -- status --tax-no 91440300591872133B --period 202610
  npm run cli -- approve --tax-no 91440300591872133B --period 202610 --approver "张三" --comment "核对无误"
  npm run cli -- approve --tax-no 91440300591872133B --period 202610 --approver "张三" --digest 3f2a9c01
  npm run cli -- reject --tax-no 91440300591872133B --period 202610 --approver "张三" --reason "金额不符"
  npm run cli -- list --stage AWAITING_APPROVAL
  npm run cli -- retry --tax-no 91440300591872133B --period 202610 --reason "确认密码已更正"
${ENV_HELP}`,
    );

  addMonthCommands(program, io);

  addScheduleCommands(program, io);

  addAccountingCommands(program, io);

  addDoctorCommand(program, io);

  addReportCommand(program, io);

  addInboxAccountCommands(program, io);

  for (const command of program.commands) {
    command
      .exitOverride()
      .configureOutput({ writeOut: io.out, writeErr: io.err })
      .showHelpAfterError(`(add --help for usage: ${program.name()} ${command.name()} --help)`);
  }
  return program;
}

/** Runs the CLI on `argv` (process.argv layout: node, script, ...args) and returns the exit code. */
export async function runCli(argv: string[], io: Partial<CliIo> = {}): Promise<number> {
  const program = buildProgram(io);
  const err = io.err ?? ((text: string) => process.stderr.write(text));
  try {
    await program.parseAsync(argv);
    return EXIT_OK;
  } catch (e) {
    const [code, message] = exitCodeFor(e);
    if (message) err(`error: ${message}\n`);
    return code;
  }
}

/** Runs when this file (or client/bin.mjs) is the process's entry point. */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    const real = realpathSync(entry);
    const here = fileURLToPath(import.meta.url);
    return real === here || real === join(dirname(here), 'bin.mjs');
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.exitCode = await runCli(process.argv);
}
