/**
 * The inbox's built-in accounts file (INBOX_ACCOUNTS_FILE, default config/inbox-accounts.json),
 * written by `npm run cli -- inbox-account add` and read by the inbox on every login.
 */
import { z } from 'zod';

/**
 * An account id is what the registry's `approvers` names and what the workflow records as the
 * approver. No "@" and no ":", so an account can never pass for an e-mail address or an
 * `oidc:<sub>` identity.
 */
export const AccountId = z
  .string()
  .regex(
    /^[a-z][a-z0-9._-]{1,31}$/,
    'account id: 2-32 characters, lower-case letters, digits, ".", "_" or "-", starting with a letter',
  );

/** Argon2id in PHC string form, e.g. `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`. */
export const PasswordHash = z
  .string()
  .regex(
    /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/,
    'must be an argon2id hash (set it with `npm run cli -- inbox-account add`)',
  );

export const InboxAccount = z
  .object({
    id: AccountId,
    /** Shown on the page, e.g. 王会计. */
    name: z.string().trim().min(1, 'name is required').max(64, 'name: at most 64 characters'),
    passwordHash: PasswordHash,
    /** A disabled account cannot log in, and its open sessions end at their next request. */
    disabled: z.boolean().default(false),
    updatedAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
export type InboxAccount = z.output<typeof InboxAccount>;

export const LockoutPolicy = z
  .object({
    /** Failed logins in a row that lock the account. */
    maxFailedAttempts: z.number().int().min(1).max(100).default(5),
    /** How long a locked account stays locked. */
    lockMinutes: z
      .number()
      .positive()
      .max(24 * 60)
      .default(15),
  })
  .strict();
export type LockoutPolicy = z.output<typeof LockoutPolicy>;

export const InboxAccountsFile = z
  .object({
    lockout: LockoutPolicy.default({ maxFailedAttempts: 5, lockMinutes: 15 }),
    accounts: z.array(InboxAccount),
  })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Map<string, number>();
    file.accounts.forEach((account, index) => {
      const first = seen.get(account.id);
      if (first === undefined) seen.set(account.id, index);
      else
        ctx.addIssue({
          code: 'custom',
          path: ['accounts', index, 'id'],
          message: `duplicate id (also accounts[${first}])`,
        });
    });
  });
export type InboxAccountsFile = z.output<typeof InboxAccountsFile>;

/** Passwords the CLI accepts for a new hash. */
export const NewPassword = z
  .string()
  .min(12, 'the password must have at least 12 characters')
  .max(256, 'the password must have at most 256 characters');
