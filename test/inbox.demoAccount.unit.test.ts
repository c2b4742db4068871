import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccountStore, authenticate, Lockout, readAccountsFile } from '../inbox/accounts.js';
import { demoAccountLines, ensureDemoAccount, randomPassword } from '../inbox/demoAccount.js';
import { writeTestAccounts } from './support/inboxBrowser.js';

describe("npm start's demo approver account", () => {
  it('is created on the first start with a random password, stored only as an argon2id hash, and logs in', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'demo-account-')), 'sub', 'inbox-accounts.json');
    const made = await ensureDemoAccount(file);
    assert.equal(made.created, true);
    assert.ok(made.created && made.password.length >= 20, 'a long random password');
    const password = made.created ? made.password : '';
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes(password), 'the password is not in the file');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const [account] = readAccountsFile(file).accounts;
    assert.equal(account?.id, 'demo');
    assert.match(account!.passwordHash, /^\$argon2id\$/);
    const result = await authenticate(new AccountStore(file), new Lockout(), 'demo', password);
    assert.equal(result.ok, true);
    const lines = demoAccountLines(made, file).join('\n');
    assert.ok(lines.includes(`account demo  password ${password}`), lines);
  });

  it('is left as it is on a second start (idempotent): no new password, the hash unchanged', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'demo-account-')), 'inbox-accounts.json');
    await ensureDemoAccount(file);
    const before = readFileSync(file, 'utf8');
    const again = await ensureDemoAccount(file);
    assert.deepEqual(again, { id: 'demo', created: false, disabled: false });
    assert.equal(readFileSync(file, 'utf8'), before);
    const lines = demoAccountLines(again, file).join('\n');
    assert.match(lines, /password as printed on the first start/);
    assert.match(lines, /inbox-account add --id demo/);
  });

  it('keeps the accounts already in the file', async () => {
    const file = await writeTestAccounts();
    const made = await ensureDemoAccount(file, { password: () => 'a-fixed-password-for-test' });
    assert.ok(made.created);
    assert.deepEqual(
      readAccountsFile(file).accounts.map((a) => a.id),
      ['wang', 'li', 'zhao', 'demo'],
    );
  });

  it('makes a different password each time', () => {
    assert.notEqual(randomPassword(), randomPassword());
    assert.match(randomPassword(), /^[A-Za-z0-9_-]{24}$/);
  });
});
