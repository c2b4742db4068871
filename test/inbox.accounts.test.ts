import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, it } from 'mocha';
import { addInboxAccountCommands } from '../client/inboxAccounts.js';
import { exitCodeFor, type CliIo } from '../client/cliSupport.js';
import { InboxAccountsFile } from '../config/inboxAccountsSchema.js';
import {
  AccountStore,
  AccountsFileError,
  authenticate,
  hashPassword,
  Lockout,
  parseAccountsFile,
  readAccountsFile,
  verifyPassword,
  writeAccountsFile,
} from '../inbox/accounts.js';
import { approverEntryFor, approverNames, displayName, type Identity } from '../inbox/identity.js';
import { describeDecisionResult } from '../inbox/server.js';
import { inboxSettingsFromEnv, InboxSettingsError } from '../inbox/settings.js';
import { registryDirectory } from '../inbox/taxpayers.js';

/** Unit tests of the inbox's accounts, lock-out, identities and settings (no server, no Temporal). */

const tmp = () => mkdtempSync(join(tmpdir(), 'inbox-unit-'));

describe('inbox accounts: password hashing', () => {
  it('hashes with argon2id (PHC string, OWASP parameters, a fresh salt each time) and verifies', async () => {
    const hash = await hashPassword('correct horse battery');
    assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.notEqual(await hashPassword('correct horse battery'), hash, 'salted');
    assert.equal(await verifyPassword(hash, 'correct horse battery'), true);
    assert.equal(await verifyPassword(hash, 'correct horse batterY'), false);
    assert.equal(await verifyPassword(hash, ''), false);
  });

  it('refuses a password under 12 characters, and never throws on a broken hash', async () => {
    await assert.rejects(hashPassword('short-pw'), /at least 12 characters/);
    assert.equal(await verifyPassword('not a hash', 'whatever-password'), false);
    assert.equal(await verifyPassword('$argon2id$v=19$m=19456,t=2,p=1$AAAA$BBBB', 'whatever-password'), false);
  });
});

describe('inbox accounts: the file schema', () => {
  const hash = '$argon2id$v=19$m=19456,t=2,p=1$SqAHyfEo2XU5/jJaO4D0/g$IMpIbgGErcO7+l3lZ/qtNl1Vv5lm53kjQWPW5WKvEOA';

  it('takes a valid file and fills the lock-out defaults (5 failures, 15 minutes)', () => {
    const parsed = parseAccountsFile({ accounts: [{ id: 'wang', name: '王会计', passwordHash: hash }] }, 'f');
    assert.deepEqual(parsed, {
      lockout: { maxFailedAttempts: 5, lockMinutes: 15 },
      accounts: [{ id: 'wang', name: '王会计', passwordHash: hash, disabled: false }],
    });
  });

  const bad: [string, unknown, RegExp][] = [
    [
      'an id with "@" (it could pass for an e-mail approver)',
      { id: 'wang@corp.example' },
      /accounts\.0\.id: account id/,
    ],
    ['an id with ":" (it could pass for oidc:<sub>)', { id: 'oidc:abc' }, /accounts\.0\.id: account id/],
    ['an upper-case id', { id: 'Wang' }, /accounts\.0\.id/],
    [
      'a plain-text password',
      { passwordHash: 'secret-password' },
      /accounts\.0\.passwordHash: must be an argon2id hash/,
    ],
    ['a bcrypt hash', { passwordHash: '$2b$10$abcdefghijklmnopqrstuv' }, /must be an argon2id hash/],
    ['an argon2i hash', { passwordHash: hash.replace('argon2id', 'argon2i') }, /must be an argon2id hash/],
    ['an empty name', { name: ' ' }, /accounts\.0\.name: name is required/],
    ['an unknown field', { role: 'admin' }, /Unrecognized key/],
  ];
  for (const [title, change, problem] of bad) {
    it(`refuses ${title}, naming the field`, () => {
      const account = { id: 'wang', name: '王会计', passwordHash: hash, ...(change as object) };
      assert.throws(
        () => parseAccountsFile({ accounts: [account] }, 'config/inbox-accounts.json'),
        (err: Error) =>
          err instanceof AccountsFileError &&
          /config\/inbox-accounts.json is invalid/.test(err.message) &&
          problem.test(err.message),
      );
    });
  }

  it('refuses duplicate ids and a zero lock-out', () => {
    const a = { id: 'wang', name: '王', passwordHash: hash };
    assert.throws(
      () => parseAccountsFile({ accounts: [a, a] }, 'f'),
      /accounts\.1\.id: duplicate id \(also accounts\[0\]\)/,
    );
    assert.throws(
      () => parseAccountsFile({ lockout: { maxFailedAttempts: 0, lockMinutes: 15 }, accounts: [] }, 'f'),
      /lockout\.maxFailedAttempts/,
    );
  });

  it('reads a missing file as empty, and names a file that is not JSON', () => {
    const dir = tmp();
    assert.deepEqual(readAccountsFile(join(dir, 'none.json')).accounts, []);
    writeFileSync(join(dir, 'bad.json'), '{ not json');
    assert.throws(() => readAccountsFile(join(dir, 'bad.json')), /bad.json is not valid JSON/);
  });

  it('writes the file readable by its owner only, and validated', () => {
    const file = join(tmp(), 'a.json');
    writeAccountsFile(file, InboxAccountsFile.parse({ accounts: [{ id: 'wang', name: '王', passwordHash: hash }] }));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.throws(() =>
      writeAccountsFile(file, {
        lockout: { maxFailedAttempts: 5, lockMinutes: 15 },
        accounts: [{ id: 'X', name: 'x', passwordHash: hash, disabled: false }],
      }),
    );
    assert.equal(readAccountsFile(file).accounts[0]?.id, 'wang', 'the good file is untouched');
  });
});

describe('inbox accounts: lock-out and authenticate', () => {
  async function storeWith(lockout = { maxFailedAttempts: 3, lockMinutes: 10 }) {
    const file = join(tmp(), 'accounts.json');
    writeAccountsFile(file, {
      lockout,
      accounts: [
        { id: 'wang', name: '王会计', passwordHash: await hashPassword('wang-password-1'), disabled: false },
        { id: 'zhao', name: '赵', passwordHash: await hashPassword('zhao-password-1'), disabled: true },
      ],
    });
    return new AccountStore(file);
  }

  it('locks after N failures in a row for M minutes; a success in between resets the count', async () => {
    const store = await storeWith();
    let now = 1_000_000;
    const lockout = new Lockout(() => now);
    const attempt = (password: string) => authenticate(store, lockout, 'wang', password);
    assert.deepEqual(await attempt('wrong-1'), { ok: false, reason: 'invalid' });
    assert.deepEqual(await attempt('wrong-2'), { ok: false, reason: 'invalid' });
    assert.equal((await attempt('wang-password-1')).ok, true, 'a success clears the two failures');
    for (let i = 0; i < 2; i++) assert.equal((await attempt('wrong')).ok, false);
    assert.deepEqual(await attempt('wrong'), { ok: false, reason: 'locked', until: new Date(now + 10 * 60_000) });
    assert.deepEqual(await attempt('wang-password-1'), {
      ok: false,
      reason: 'locked',
      until: new Date(now + 10 * 60_000),
    });
    now += 10 * 60_000 - 1;
    assert.equal((await attempt('wang-password-1')).ok, false, 'still locked a millisecond before');
    now += 1;
    assert.equal((await attempt('wang-password-1')).ok, true, 'open again after M minutes');
  });

  it('takes the id case-insensitively, and refuses a disabled account with its right password', async () => {
    const store = await storeWith();
    const lockout = new Lockout();
    const result = await authenticate(store, lockout, ' WANG ', 'wang-password-1');
    assert.equal(result.ok && result.account.id, 'wang');
    assert.deepEqual(await authenticate(store, lockout, 'zhao', 'zhao-password-1'), { ok: false, reason: 'invalid' });
  });

  it('sees accounts added to the file after it was first read', async () => {
    const store = await storeWith();
    assert.equal(store.find('li'), undefined);
    const content = readAccountsFile(store.file);
    await new Promise((r) => setTimeout(r, 20));
    writeAccountsFile(store.file, {
      ...content,
      accounts: [
        ...content.accounts,
        { id: 'li', name: '李', passwordHash: await hashPassword('li-password-12'), disabled: false },
      ],
    });
    assert.equal((await authenticate(store, new Lockout(), 'li', 'li-password-12')).ok, true);
  });

  it('bounds the ids it remembers', () => {
    const lockout = new Lockout(() => 0);
    for (let i = 0; i < 10_050; i++) lockout.recordFailure(`user${i}`, { maxFailedAttempts: 1, lockMinutes: 1 });
    assert.equal(lockout.lockedUntil('user0'), undefined, 'the oldest are forgotten');
    assert.ok(lockout.lockedUntil('user10049'));
  });
});

describe('inbox identities and the registry approvers', () => {
  const wang: Identity = { kind: 'account', id: 'wang', name: '王会计' };
  const sso: Identity = { kind: 'oidc', sub: 'a1b2', email: 'li@corp.example', name: '李经理' };

  it('names an account by its id, an OIDC user by oidc:<sub> and e-mail', () => {
    assert.deepEqual(approverNames(wang), ['wang']);
    assert.deepEqual(approverNames(sso), ['oidc:a1b2', 'li@corp.example']);
    assert.equal(displayName(wang), '王会计 (wang)');
    assert.equal(displayName(sso), '李经理 <li@corp.example>');
  });

  it("returns the registry's own entry that matched (e-mail case-insensitively), or nothing", () => {
    assert.equal(approverEntryFor(wang, ['li', 'wang']), 'wang');
    assert.equal(approverEntryFor(wang, ['Wang']), undefined, 'account ids match exactly');
    assert.equal(approverEntryFor(wang, undefined), undefined);
    assert.equal(approverEntryFor(sso, ['Li@Corp.Example']), 'Li@Corp.Example');
    assert.equal(approverEntryFor(sso, ['oidc:a1b2']), 'oidc:a1b2');
    assert.equal(approverEntryFor(sso, ['oidc:A1B2']), undefined, 'subjects are case-sensitive');
    assert.equal(approverEntryFor(sso, ['li']), undefined);
    assert.equal(
      approverEntryFor({ kind: 'oidc', sub: 'wang' }, ['wang']),
      undefined,
      'an OIDC subject is not an account',
    );
    assert.equal(approverEntryFor(wang, ['wang@corp.example']), undefined, 'an account is not an e-mail address');
  });

  it('reads names and approvers from the registry file, keeping the last good one when it breaks', async () => {
    const file = join(tmp(), 'taxpayers.json');
    const errors: string[] = [];
    const directory = registryDirectory(file, (e) => errors.push(e.message));
    assert.equal(directory().size, 0, 'no registry: nobody approves');
    const example = JSON.parse(readFileSync('config/taxpayers.example.json', 'utf8'));
    writeFileSync(file, JSON.stringify(example));
    const first = example.taxpayers[0];
    assert.deepEqual(directory().get(first.taxNo), { name: first.name, approvers: first.approvers });
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(file, '{"taxpayers": [{"taxNo": "x"}]}');
    assert.deepEqual(directory().get(first.taxNo)?.approvers, first.approvers);
    assert.equal(errors.length, 1);
  });
});

describe('inbox settings', () => {
  it('listens on 127.0.0.1:8088 by default, with 8-hour sessions and 10 logins a minute', () => {
    const s = inboxSettingsFromEnv({});
    assert.equal(s.host, '127.0.0.1');
    assert.equal(s.port, 8088);
    assert.equal(s.accountsFile, 'config/inbox-accounts.json');
    assert.equal(s.sessionHours, 8);
    assert.equal(s.loginRateLimitPerMinute, 10);
    assert.equal(s.trustProxy, false);
    assert.equal(s.oidc, undefined);
    assert.equal(inboxSettingsFromEnv({ INBOX_HOST: '0.0.0.0' }).host, '0.0.0.0');
    assert.equal(s.signing, undefined, 'unsigned decisions unless a key is set');
    assert.deepEqual(
      inboxSettingsFromEnv({ INBOX_SIGNING_KEY_FILE: 'keys/inbox.pem', INBOX_SIGNING_KEY_ID: 'inbox-2026-12' }).signing,
      { keyFile: 'keys/inbox.pem', keyId: 'inbox-2026-12' },
    );
  });

  it('trusts a loopback proxy behind an https public URL, and derives the OIDC redirect from it', () => {
    const s = inboxSettingsFromEnv({
      INBOX_PUBLIC_URL: 'https://inbox.corp.example',
      INBOX_OIDC_ISSUER: 'https://sso.corp.example/realms/finance',
      INBOX_OIDC_CLIENT_ID: 'vat-inbox',
      INBOX_OIDC_CLIENT_SECRET: 's3cret',
    });
    assert.equal(s.trustProxy, 'loopback');
    assert.equal(s.oidc?.redirectUrl.href, 'https://inbox.corp.example/auth/oidc/callback');
    assert.equal(s.oidc?.scope, 'openid email profile');
    assert.equal(s.oidc?.clientSecret, 's3cret');
  });

  const refused: [string, NodeJS.ProcessEnv, RegExp][] = [
    ['a short session secret', { INBOX_SESSION_SECRET: 'short' }, /INBOX_SESSION_SECRET: must have at least 32/],
    ['an OIDC client without an issuer', { INBOX_OIDC_CLIENT_ID: 'x' }, /INBOX_OIDC_ISSUER is required/],
    ['an issuer without a client id', { INBOX_OIDC_ISSUER: 'https://sso.example' }, /INBOX_OIDC_CLIENT_ID is required/],
    [
      'a plain-http issuer off loopback',
      {
        INBOX_OIDC_ISSUER: 'http://sso.example',
        INBOX_OIDC_CLIENT_ID: 'x',
        INBOX_OIDC_REDIRECT_URL: 'http://127.0.0.1:8088/auth/oidc/callback',
      },
      /must be https/,
    ],
    [
      'a redirect URL on another origin than the inbox',
      {
        INBOX_PUBLIC_URL: 'https://inbox.example',
        INBOX_OIDC_ISSUER: 'https://sso.example',
        INBOX_OIDC_CLIENT_ID: 'x',
        INBOX_OIDC_REDIRECT_URL: 'https://elsewhere.example/cb',
      },
      /must be on the inbox's own address/,
    ],
    [
      'a public URL that is not http(s)',
      { INBOX_PUBLIC_URL: 'ftp://x' },
      /INBOX_PUBLIC_URL: "ftp:\/\/x" is not an http\(s\) URL/,
    ],
    ['a bad port', { INBOX_PORT: 'eighty' }, /INBOX_PORT/],
    ['a signing key without its id', { INBOX_SIGNING_KEY_FILE: 'k.pem' }, /INBOX_SIGNING_KEY_ID is required/],
    ['a signing key id without the key', { INBOX_SIGNING_KEY_ID: 'inbox-1' }, /INBOX_SIGNING_KEY_FILE is required/],
    ['a bad signing key id', { INBOX_SIGNING_KEY_FILE: 'k.pem', INBOX_SIGNING_KEY_ID: 'a b' }, /INBOX_SIGNING_KEY_ID/],
  ];
  for (const [title, env, problem] of refused) {
    it(`refuses ${title}, naming the variable`, () => {
      assert.throws(
        () => inboxSettingsFromEnv(env),
        (err: Error) => err instanceof InboxSettingsError && problem.test(err.message),
      );
    });
  }
});

describe('inbox: what a decision returned', () => {
  it('shows a message after the month, a bare result as done, a voided or refused one as an error', () => {
    const K = '91440300591872133B';
    assert.deepEqual(
      describeDecisionResult('approve', K, '202611', {
        outcome: 'accepted',
        accepted: true,
        message: '已同意 Approved: …',
      }),
      { message: `${K} 202611: 已同意 Approved: …` },
    );
    assert.deepEqual(describeDecisionResult('approve', K, '202611', { workflowId: 'w', decision: 'approved' }), {
      message: `已同意 Approved ${K} 202611`,
    });
    assert.deepEqual(describeDecisionResult('approve', K, '202611', { outcome: 'CONFIRMED', note: '已确认' }), {
      message: `已同意 Approved ${K} 202611: CONFIRMED · 已确认`,
    });
    assert.deepEqual(
      describeDecisionResult('approve', K, '202611', {
        outcome: 'voided',
        accepted: false,
        reason: 'the table changed',
        message: '审批已作废 Approval voided: the table changed',
      }),
      { error: `${K} 202611: 审批已作废 Approval voided: the table changed` },
    );
    assert.deepEqual(describeDecisionResult('approve', K, '202611', { accepted: false, reason: 'stale table' }), {
      error: `${K} 202611: stale table`,
    });
    assert.deepEqual(describeDecisionResult('reject', K, '202611', undefined), {
      message: `已驳回 Rejected ${K} 202611`,
    });
  });
});

describe('CLI: inbox-account', () => {
  function cli(passwords: string[] = []) {
    let out = '';
    let err = '';
    const io = {
      out: (t: string) => (out += t),
      err: (t: string) => (err += t),
      env: {},
      now: () => new Date('2026-12-01T08:00:00Z'),
      connect: async () => {
        throw new Error('inbox-account never connects to Temporal');
      },
    } as CliIo;
    const program = new Command('vat-deduction').exitOverride();
    addInboxAccountCommands(program, io, { readPassword: async () => passwords.shift() ?? '' });
    const run = async (...args: string[]) => {
      try {
        await program.parseAsync(['node', 'cli', ...args]);
        return 0;
      } catch (e) {
        const [code, message] = exitCodeFor(e);
        if (message) err += `error: ${message}\n`;
        return code;
      }
    };
    return { run, out: () => out, err: () => err };
  }

  it('adds an account with a hashed password, updates it, lists, disables and removes it', async () => {
    const file = join(tmp(), 'accounts.json');
    const c = cli(['first-password-1', 'second-password-2']);
    assert.equal(await c.run('inbox-account', 'add', '--id', 'wang', '--name', '王会计', '--file', file), 0, c.err());
    assert.match(c.out(), /Created inbox account wang \(王会计\)/);
    const created = readAccountsFile(file).accounts[0]!;
    assert.equal(await verifyPassword(created.passwordHash, 'first-password-1'), true);
    assert.ok(!readFileSync(file, 'utf8').includes('first-password-1'), 'no plain-text password on disk');

    assert.equal(await c.run('inbox-account', 'add', '--id', 'wang', '--file', file), 0, c.err());
    assert.match(c.out(), /Updated inbox account wang \(王会计\)/);
    const updated = readAccountsFile(file).accounts[0]!;
    assert.equal(await verifyPassword(updated.passwordHash, 'second-password-2'), true);
    assert.equal(updated.updatedAt, '2026-12-01T08:00:00.000Z');

    assert.equal(await c.run('inbox-account', 'disable', '--id', 'wang', '--file', file), 0);
    assert.equal(readAccountsFile(file).accounts[0]?.disabled, true);
    assert.equal(await c.run('inbox-account', 'list', '--file', file), 0);
    assert.match(c.out(), /wang\s+王会计\s+disabled/);
    assert.ok(!c.out().includes('argon2'), 'list never shows hashes');
    assert.equal(await c.run('inbox-account', 'remove', '--id', 'wang', '--file', file), 0);
    assert.deepEqual(readAccountsFile(file).accounts, []);
  });

  it('refuses a weak password, a bad id, a new account without a name, and an unknown id (exit 2)', async () => {
    const file = join(tmp(), 'accounts.json');
    const c = cli(['short']);
    assert.equal(await c.run('inbox-account', 'add', '--id', 'wang', '--name', '王', '--file', file), 2);
    assert.match(c.err(), /at least 12 characters: nothing was changed/);
    assert.equal(await c.run('inbox-account', 'add', '--id', 'wang@corp', '--name', '王', '--file', file), 2);
    assert.match(c.err(), /--id wang@corp: account id/);
    assert.equal(await c.run('inbox-account', 'add', '--id', 'wang', '--file', file), 2);
    assert.match(c.err(), /--name is required for a new account/);
    assert.equal(await c.run('inbox-account', 'disable', '--id', 'nobody', '--file', file), 2);
    assert.match(c.err(), /no inbox account nobody/);
  });
});
