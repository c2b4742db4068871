/**
 * Built-in inbox accounts: argon2id password hashes in a zod-checked JSON file, and the lock-out
 * after repeated failed logins. The file is read again whenever it changes on disk, so accounts
 * added with the CLI can log in without a restart.
 */
import { chmodSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { hash, verify } from '@node-rs/argon2';
import { zodErrorLines } from '../protocol/zodErrors.js';
import {
  InboxAccountsFile,
  NewPassword,
  type InboxAccount,
  type LockoutPolicy,
} from '../config/inboxAccountsSchema.js';

export const DEFAULT_ACCOUNTS_FILE = 'config/inbox-accounts.json';

/** The accounts file is unreadable or invalid. */
export class AccountsFileError extends Error {
  override name = 'AccountsFileError';
}

// OWASP's minimum for argon2id: 19 MiB, 2 passes, 1 lane.
const ARGON2_OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export async function hashPassword(password: string): Promise<string> {
  const checked = NewPassword.safeParse(password);
  if (!checked.success) throw new AccountsFileError(checked.error.issues[0]!.message);
  return hash(password, ARGON2_OPTIONS);
}

/** False for a wrong password and for a hash that cannot be read (never throws on bad input). */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

// Verified when the account does not exist, so a wrong id costs as long as a wrong password.
let decoyHash: Promise<string> | undefined;
function decoy(): Promise<string> {
  decoyHash ??= hash('decoy password, never matches', ARGON2_OPTIONS);
  return decoyHash;
}

export function parseAccountsFile(raw: unknown, source: string): InboxAccountsFile {
  const parsed = InboxAccountsFile.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = zodErrorLines(parsed.error).map((p) => `  ${p}`);
  throw new AccountsFileError(`${source} is invalid:\n${problems.join('\n')}`);
}

export function emptyAccountsFile(): InboxAccountsFile {
  return { lockout: { maxFailedAttempts: 5, lockMinutes: 15 }, accounts: [] };
}

/** Reads the accounts file; a file that does not exist is an empty one. */
export function readAccountsFile(file: string): InboxAccountsFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyAccountsFile();
    throw new AccountsFileError(`cannot read the inbox accounts file ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new AccountsFileError(`the inbox accounts file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseAccountsFile(raw, file);
}

/** Writes the file whole (a temporary file renamed over it), readable by its owner only. */
export function writeAccountsFile(file: string, content: InboxAccountsFile): void {
  const checked = parseAccountsFile(content, file);
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, `${JSON.stringify(checked, null, 2)}\n`, { mode: 0o600 });
    chmodSync(temporary, 0o600);
    renameSync(temporary, file);
  } catch (err) {
    throw new AccountsFileError(`cannot write the inbox accounts file ${file}: ${(err as Error).message}`);
  }
}

/** The accounts as the file says now, re-read when its modification time or size changes. */
export class AccountStore {
  private cached?: { stamp: string; content: InboxAccountsFile };

  constructor(readonly file: string) {}

  current(): InboxAccountsFile {
    let stamp = 'missing';
    try {
      const s = statSync(this.file);
      stamp = `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      // read below: ENOENT is an empty file, anything else an error
    }
    if (this.cached?.stamp !== stamp) this.cached = { stamp, content: readAccountsFile(this.file) };
    return this.cached.content;
  }

  find(id: string): InboxAccount | undefined {
    return this.current().accounts.find((a) => a.id === id);
  }

  lockoutPolicy(): LockoutPolicy {
    return this.current().lockout;
  }
}

interface FailureRecord {
  failures: number;
  lockedUntil?: number;
}

/**
 * Failed logins per account id, in this process's memory: N failures in a row lock the id for
 * M minutes (the policy is in the accounts file); a success clears the count. Ids that do not
 * exist are counted the same way, so the answer does not tell which ids exist.
 */
export class Lockout {
  private readonly records = new Map<string, FailureRecord>();
  private static readonly MAX_TRACKED = 10_000;

  constructor(private readonly now: () => number = Date.now) {}

  /** The instant the id is locked until, or undefined when it is not locked. */
  lockedUntil(id: string): Date | undefined {
    const record = this.records.get(id);
    if (!record?.lockedUntil) return undefined;
    if (record.lockedUntil > this.now()) return new Date(record.lockedUntil);
    this.records.delete(id);
    return undefined;
  }

  recordFailure(id: string, policy: LockoutPolicy): void {
    if (!this.records.has(id) && this.records.size >= Lockout.MAX_TRACKED) this.forgetOldest();
    const record = this.records.get(id) ?? { failures: 0 };
    record.failures += 1;
    if (record.failures >= policy.maxFailedAttempts) {
      record.lockedUntil = this.now() + policy.lockMinutes * 60_000;
      record.failures = 0;
    }
    this.records.set(id, record);
  }

  recordSuccess(id: string): void {
    this.records.delete(id);
  }

  private forgetOldest(): void {
    const first = this.records.keys().next();
    if (!first.done) this.records.delete(first.value);
  }
}

export type LoginResult =
  { ok: true; account: InboxAccount } | { ok: false; reason: 'invalid' } | { ok: false; reason: 'locked'; until: Date };

/** Checks an id and password against the store, counting failures for the lock-out. */
export async function authenticate(
  store: AccountStore,
  lockout: Lockout,
  id: string,
  password: string,
): Promise<LoginResult> {
  const key = id.trim().toLowerCase();
  const locked = lockout.lockedUntil(key);
  if (locked) return { ok: false, reason: 'locked', until: locked };
  const account = store.find(key);
  const matches = await verifyPassword(account?.passwordHash ?? (await decoy()), password);
  if (account && matches && !account.disabled) {
    lockout.recordSuccess(key);
    return { ok: true, account };
  }
  lockout.recordFailure(key, store.lockoutPolicy());
  const until = lockout.lockedUntil(key);
  return until ? { ok: false, reason: 'locked', until } : { ok: false, reason: 'invalid' };
}
