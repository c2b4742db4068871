/**
 * The demo approver of `npm start`: an inbox account created on the first start, with a random
 * password that is shown once (only its argon2id hash is kept in the accounts file).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { hashPassword, readAccountsFile, writeAccountsFile } from './accounts.js';

export const DEMO_ACCOUNT_ID = 'demo';
export const DEMO_ACCOUNT_NAME = '演示审批人 Demo approver';

export type DemoAccount =
  /** Created now: the password is known only here, so print it. */
  | { id: string; created: true; password: string }
  /** It already existed (a second start): its password was printed when it was created. */
  | { id: string; created: false; disabled: boolean };

/** 18 random bytes as base64url: 24 characters, 144 bits. */
export function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}

/** Creates the demo account in `file` unless an account with its id is there; never changes one. */
export async function ensureDemoAccount(
  file: string,
  opts: { id?: string; name?: string; password?: () => string } = {},
): Promise<DemoAccount> {
  const id = opts.id ?? DEMO_ACCOUNT_ID;
  const content = readAccountsFile(file);
  const existing = content.accounts.find((a) => a.id === id);
  if (existing) return { id, created: false, disabled: existing.disabled };
  const password = (opts.password ?? randomPassword)();
  const account = {
    id,
    name: opts.name ?? DEMO_ACCOUNT_NAME,
    passwordHash: await hashPassword(password),
    disabled: false,
    updatedAt: new Date().toISOString(),
  };
  mkdirSync(dirname(file), { recursive: true });
  writeAccountsFile(file, { ...content, accounts: [...content.accounts, account] });
  return { id, created: true, password };
}

/** What `npm start` prints about the demo approver: the password only when it was just made. */
export function demoAccountLines(account: DemoAccount, accountsFile: string): string[] {
  if (account.created) {
    return [
      `  演示审批人 demo approver: account ${account.id}  password ${account.password}`,
      `  (shown this once; only its hash is kept in ${accountsFile})`,
    ];
  }
  return [
    `  演示审批人 demo approver: account ${account.id}${account.disabled ? ' (disabled)' : ''}, password as printed on the first start`,
    `  (new password: INBOX_ACCOUNTS_FILE=${accountsFile} npm run cli -- inbox-account add --id ${account.id})`,
  ];
}
