/**
 * `inbox-account add|list|disable|enable|remove`: the approvers' inbox's built-in accounts
 * (INBOX_ACCOUNTS_FILE, default config/inbox-accounts.json). Part of the operator CLI (cli.ts).
 * Passwords are read from the terminal without echo, or from the first line of standard input,
 * never from an argument (arguments show in the process list and the shell history).
 */
import type { Command } from 'commander';
import {
  AccountsFileError,
  DEFAULT_ACCOUNTS_FILE,
  hashPassword,
  readAccountsFile,
  writeAccountsFile,
} from '../inbox/accounts.js';
import { AccountId, InboxAccount, NewPassword, type InboxAccountsFile } from '../config/inboxAccountsSchema.js';
import { CliError, EXIT_BAD_INPUT, type CliIo } from './cliSupport.js';
import { table } from './cliFormat.js';

export interface InboxAccountDeps {
  /** Reads the new password (default: the terminal, asked twice, or standard input's first line). */
  readPassword?: () => Promise<string>;
}

function accountsFile(io: CliIo, file: string | undefined): string {
  return file ?? (io.env.INBOX_ACCOUNTS_FILE?.trim() || DEFAULT_ACCOUNTS_FILE);
}

function checked<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof AccountsFileError) throw new CliError(err.message, EXIT_BAD_INPUT);
    throw err;
  }
}

function idArg(value: string): string {
  const parsed = AccountId.safeParse(value);
  if (!parsed.success) throw new CliError(`--id ${value}: ${parsed.error.issues[0]?.message}`, EXIT_BAD_INPUT);
  return value;
}

/** One line typed on the terminal, not echoed. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  return new Promise((resolve, reject) => {
    process.stderr.write(question);
    let typed = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (result: string | Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done(typed);
        if (ch === '\u0003') return done(new CliError('cancelled', EXIT_BAD_INPUT));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function firstLineOfStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += chunk.toString();
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}

async function defaultReadPassword(): Promise<string> {
  if (!process.stdin.isTTY) return firstLineOfStdin();
  const first = await promptHidden('新密码 New password (at least 12 characters): ');
  const again = await promptHidden('再次输入 Repeat it: ');
  if (first !== again) throw new CliError('the two passwords differ: nothing was changed', EXIT_BAD_INPUT);
  return first;
}

function update(file: string, change: (content: InboxAccountsFile) => InboxAccountsFile): void {
  checked(() => writeAccountsFile(file, change(readAccountsFile(file))));
}

export function addInboxAccountCommands(program: Command, io: CliIo, deps: InboxAccountDeps = {}): Command {
  const readPassword = deps.readPassword ?? defaultReadPassword;
  const group = program
    .command('inbox-account')
    .description("Built-in accounts of the approvers' inbox (argon2id password hashes in INBOX_ACCOUNTS_FILE)")
    .addHelpText(
      'after',
      `
The account id is what the registry's "approvers" names (config/taxpayers.json); OpenID Connect
users are named there as oidc:<sub> or by e-mail address instead (docs/inbox-security.md).

Examples:
  npm run cli -- inbox-account add --id wang --name 王会计          # asks for the password twice
  printf '%s\\n' "$PASSWORD" | npm run cli -- inbox-account add --id wang --name 王会计
  npm run cli -- inbox-account list
  npm run cli -- inbox-account disable --id wang                     # its open sessions end too
`,
    );
  const fileOption = [
    '--file <path>',
    `accounts file (default: INBOX_ACCOUNTS_FILE or ${DEFAULT_ACCOUNTS_FILE})`,
  ] as const;

  group
    .command('add')
    .description('Create an account, or set a new password (and name) for an existing one')
    .requiredOption('--id <id>', 'account id: lower-case letters, digits, ".", "_", "-"', idArg)
    .option('--name <name>', 'display name, e.g. 王会计 (required for a new account)')
    .option(...fileOption)
    .action(async (opts: { id: string; name?: string; file?: string }) => {
      const file = accountsFile(io, opts.file);
      const existing = checked(() => readAccountsFile(file)).accounts.find((a) => a.id === opts.id);
      const name = opts.name?.trim() || existing?.name;
      if (!name) throw new CliError('--name is required for a new account', EXIT_BAD_INPUT);
      const password = await readPassword();
      const strong = NewPassword.safeParse(password);
      if (!strong.success)
        throw new CliError(`${strong.error.issues[0]?.message}: nothing was changed`, EXIT_BAD_INPUT);
      const account = InboxAccount.parse({
        id: opts.id,
        name,
        passwordHash: await hashPassword(password),
        disabled: existing?.disabled ?? false,
        updatedAt: io.now().toISOString(),
      });
      update(file, (content) => ({
        ...content,
        accounts: existing
          ? content.accounts.map((a) => (a.id === opts.id ? account : a))
          : [...content.accounts, account],
      }));
      io.out(`${existing ? 'Updated' : 'Created'} inbox account ${opts.id} (${name}) in ${file}.\n`);
    });

  group
    .command('list')
    .description('List the accounts (never the hashes)')
    .option(...fileOption)
    .option('--json', 'print JSON')
    .action((opts: { file?: string; json?: boolean }) => {
      const file = accountsFile(io, opts.file);
      const content = checked(() => readAccountsFile(file));
      const rows = content.accounts.map(({ id, name, disabled, updatedAt }) => ({ id, name, disabled, updatedAt }));
      if (opts.json) return io.out(`${JSON.stringify({ lockout: content.lockout, accounts: rows }, null, 2)}\n`);
      if (rows.length === 0) return io.out(`No inbox accounts in ${file}.\n`);
      io.out(
        table(
          ['ID', 'NAME', 'STATE', 'UPDATED'],
          rows.map((r) => [r.id, r.name, r.disabled ? 'disabled' : 'active', r.updatedAt ?? '-']),
        ),
      );
      io.out(
        `Lock-out: ${content.lockout.maxFailedAttempts} failed logins lock an account for ${content.lockout.lockMinutes} min.\n`,
      );
    });

  for (const [verb, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    group
      .command(verb)
      .description(
        disabled ? 'Stop an account from logging in (its open sessions end)' : 'Let a disabled account log in again',
      )
      .requiredOption('--id <id>', 'account id', idArg)
      .option(...fileOption)
      .action((opts: { id: string; file?: string }) => {
        const file = accountsFile(io, opts.file);
        update(file, (content) => {
          requireAccount(content.accounts, opts.id, file);
          return { ...content, accounts: content.accounts.map((a) => (a.id === opts.id ? { ...a, disabled } : a)) };
        });
        io.out(`${disabled ? 'Disabled' : 'Enabled'} inbox account ${opts.id}.\n`);
      });
  }

  group
    .command('remove')
    .description('Delete an account (its open sessions end)')
    .requiredOption('--id <id>', 'account id', idArg)
    .option(...fileOption)
    .action((opts: { id: string; file?: string }) => {
      const file = accountsFile(io, opts.file);
      update(file, (content) => {
        requireAccount(content.accounts, opts.id, file);
        return { ...content, accounts: content.accounts.filter((a) => a.id !== opts.id) };
      });
      io.out(`Removed inbox account ${opts.id}.\n`);
    });

  for (const command of [group, ...group.commands]) {
    command.exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
  }
  return group;
}

/** Refuses a command naming an account the file does not have. */
function requireAccount(accounts: readonly { id: string }[], id: string, file: string): void {
  if (!accounts.some((a) => a.id === id)) throw new CliError(`no inbox account ${id} in ${file}`, EXIT_BAD_INPUT);
}
