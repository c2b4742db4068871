import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../client/cli.js';
import type { DoctorReport } from '../client/doctor.js';
import { SandboxAdmin } from '../simulator/adminClient.js';
import { startSandbox, type RunningSandbox } from '../simulator/server.js';
import { TEST_WINDOW } from './support/calendar.js';

/** `doctor` in-process against the sandbox: read-only calls, the two tables, captures, exit codes. */
const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const TAX_NO = '91440300591872133B';
const APP_SECRET = '12345678'; // the demo tenant's, the worker's default

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function doctor(env: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'cli', 'doctor', ...args], {
    env,
    out: (text) => (stdout += text),
    err: (text) => (stderr += text),
    connect: () => Promise.reject(new Error('doctor must not connect to Temporal')),
  });
  return { code, stdout, stderr };
}

/** The table row that starts with `name`. */
function row(stdout: string, name: string): string {
  const found = stdout.split('\n').find((l) => l.startsWith(name));
  assert.ok(found, `a row for ${name} in:\n${stdout}`);
  return found;
}

describe('npm run cli -- doctor', function () {
  this.timeout(60_000);
  const work = mkdtempSync(join(tmpdir(), 'vat-doctor-test-'));
  let sandbox: RunningSandbox;
  let admin: SandboxAdmin;

  before(async () => {
    sandbox = await startSandbox({ port: 0 });
    admin = new SandboxAdmin(sandbox.url);
    await admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 8, seed: 3 });
    await admin.setClock(SANDBOX_NOW);
  });
  after(async () => {
    await sandbox?.close();
    rmSync(work, { recursive: true, force: true });
  });

  const recorded = join(work, 'sandbox');

  it('prints both tables, captures every call redacted, writes nothing, and exits 0', async () => {
    const run = await doctor({ INVOICE_CLOUD_BASE_URL: sandbox.url }, '--tax-no', TAX_NO, '--capture-dir', recorded);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /INTERFACE\s+REACHABLE\s+REPLY\s+TIME/);
    for (const name of [
      '1.01 getAppToken',
      '1.02 login',
      '4.02 taxLogin',
      '4.04 taxperiodQuery',
      '4.07 statisticQuery',
    ]) {
      assert.match(row(run.stdout, name), /\byes\b.*\d+ ms$/);
    }
    assert.match(row(run.stdout, '4.04 taxperiodQuery'), /matches the profile/);
    assert.match(row(run.stdout, 'sandbox invoicePoolQuery'), /matches the profile/);
    assert.match(run.stdout, /Profile assumptions:/);
    assert.match(row(run.stdout, 'period (taxPeriod / skssq)'), new RegExp(`${PERIOD}\\s+confirmed`));
    assert.match(row(run.stdout, 'encoding'), /base64\s+confirmed/);
    assert.match(row(run.stdout, 'successCodes'), /confirmed\s+successful replies carry errorCode 0000/);
    assert.match(row(run.stdout, 'confirmation'), /confirmed\s+createTjbbStatus is present/);
    assert.match(row(run.stdout, 'selectFlag (authenticateFlag)'), /cannot be confirmed read-only.*every month checks/);
    assert.match(row(run.stdout, 'totalTaxAmount'), /cannot be confirmed read-only/);
    assert.ok(run.stdout.includes(`files in ${recorded}`), 'says where the captures are');

    const files = readdirSync(recorded);
    for (const step of ['getAppToken', 'login', 'taxLogin', 'taxperiodQuery', 'statisticQuery', 'invoicePoolQuery']) {
      assert.equal(files.filter((f) => f.endsWith(`-${step}.json`)).length, 1, `one capture of ${step}`);
    }
    const captured = files.map((f) => readFileSync(join(recorded, f), 'utf8')).join('\n');
    for (const text of [run.stdout, run.stderr, captured]) {
      assert.ok(!text.includes(APP_SECRET), 'the app secret is never printed or captured');
    }
    assert.match(captured, /"access_token": "\*\*\*"/);
    const writes = (await admin.ledger({ taxNo: TAX_NO })).filter((w) => w.interfaceCode !== 'taxLogin');
    assert.deepEqual(writes, [], 'nothing but the bureau login reached the ledger');
  });

  it('reports as JSON with --json, and without --tax-no checks only the token calls', async () => {
    const dir = join(work, 'json');
    const json = await doctor(
      { INVOICE_CLOUD_BASE_URL: sandbox.url },
      '--tax-no',
      TAX_NO,
      '--json',
      '--capture-dir',
      dir,
    );
    assert.equal(json.code, 0);
    const report = JSON.parse(json.stdout) as DoctorReport;
    assert.equal(report.ok, true);
    assert.equal(report.captureDir, dir);
    assert.deepEqual(
      report.calls.map((c) => c.outcome),
      ['matches', 'matches', 'drift', 'matches', 'drift', 'matches'],
      'taxLogin and statisticQuery leave optional documented fields out',
    );

    const tokensOnly = await doctor({ INVOICE_CLOUD_BASE_URL: sandbox.url });
    assert.equal(tokensOnly.code, 0, tokensOnly.stderr);
    assert.match(row(tokensOnly.stdout, '4.02 taxLogin'), /skipped: give --tax-no/);
    const where = /files in (\S+)/.exec(tokensOnly.stdout)?.[1] ?? '';
    assert.ok(where.startsWith(tmpdir()), `a new folder under the temp dir: ${where}`);
    rmSync(where, { recursive: true, force: true });
  });

  it('reports an interface the cloud names otherwise, and confirms it once the profile names it', async () => {
    const renamed = await startSandbox({ port: 0, profile: { interfaceCodes: { taxperiodQuery: 'getTaxPeriod' } } });
    try {
      await new SandboxAdmin(renamed.url).seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW });
      const env = { INVOICE_CLOUD_BASE_URL: renamed.url };
      const run = await doctor(env, '--tax-no', TAX_NO, '--capture-dir', join(work, 'renamed'));
      assert.equal(run.code, 1, 'a read-only call did not answer');
      assert.match(
        row(run.stdout, '4.04 taxperiodQuery'),
        /refused as an unknown interface.*1003.*profile interfaceCodes\.taxperiodQuery/,
      );
      assert.match(row(run.stdout, 'interfaceCodes.taxperiodQuery'), /taxperiodQuery\s+not confirmed/);
      assert.match(run.stderr, /not every read-only call answered/);

      const profile = join(work, 'renamed-profile.json');
      writeFileSync(profile, JSON.stringify({ interfaceCodes: { taxperiodQuery: 'getTaxPeriod' } }));
      const fixed = await doctor(
        { ...env, INVOICE_CLOUD_PROFILE: profile },
        '--tax-no',
        TAX_NO,
        '--capture-dir',
        join(work, 'fixed'),
      );
      assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
      assert.match(row(fixed.stdout, '4.04 taxperiodQuery (wire getTaxPeriod)'), /matches the profile/);
      assert.match(fixed.stdout, new RegExp(`protocol profile: INVOICE_CLOUD_PROFILE=${profile}`));
    } finally {
      await renamed.close();
    }
  });

  it('reports the drift of a tenant whose reply drops a field (captures edited, replayed)', async () => {
    // A "real tenant": the recorded captures, its statistic without tjInfoArr and with a field of
    // its own, and no pool query (refused as an unknown interface).
    const tenant = join(work, 'tenant');
    cpSync(recorded, tenant, { recursive: true });
    for (const file of readdirSync(tenant)) {
      const path = join(tenant, file);
      const capture = JSON.parse(readFileSync(path, 'utf8')) as {
        reply: { errorCode: string; message: string; success: boolean; data?: Record<string, unknown> };
      };
      if (file.endsWith('-statisticQuery.json')) {
        delete capture.reply.data!.tjInfoArr;
        capture.reply.data!.nsrmc = '深圳市测试有限公司';
      }
      if (file.endsWith('-invoicePoolQuery.json')) {
        capture.reply = { errorCode: '1003', message: '接口invoicePoolQuery不存在', success: false };
      }
      writeFileSync(path, JSON.stringify(capture));
    }
    const replay = await startSandbox({ port: 0, replayDir: tenant });
    try {
      const run = await doctor(
        { INVOICE_CLOUD_BASE_URL: replay.url },
        '--tax-no',
        TAX_NO,
        '--capture-dir',
        join(work, 'tenant-again'),
      );
      assert.equal(run.code, 0, run.stdout + run.stderr);
      const statistic = row(run.stdout, '4.07 statisticQuery');
      assert.match(statistic, /drift: not sent \(optional\): [^;]*tjInfoArr/);
      assert.match(statistic, /undocumented: nsrmc/);
      assert.match(
        row(run.stdout, 'statistic rows (tjInfoArr or tjInfo)'),
        /tjInfo\s+confirmed\s+\d+ row\(s\) read from tjInfo/,
      );
      assert.match(row(run.stdout, 'sandbox invoicePoolQuery'), /not available \(sandbox feature\)/);
      assert.match(
        row(run.stdout, 'candidate source (invoicePoolQuery)'),
        /not confirmed\s+not available \(sandbox feature\)/,
      );
    } finally {
      await replay.close();
    }
  });

  it('refuses bad input and bad settings with exit code 2, naming what is wrong', async () => {
    const env = { INVOICE_CLOUD_BASE_URL: sandbox.url };
    const badTaxNo = await doctor(env, '--tax-no', '91440300591872133A');
    assert.equal(badTaxNo.code, 2);
    assert.match(badTaxNo.stderr, /--tax-no 91440300591872133A: check character/);

    const badProfile = await doctor({ ...env, INVOICE_CLOUD_PROFILE: join(work, 'missing.json') }, '--tax-no', TAX_NO);
    assert.equal(badProfile.code, 2);
    assert.match(badProfile.stderr, /INVOICE_CLOUD_PROFILE=.*missing\.json: cannot read the file \(ENOENT\)/);

    const badUrl = await doctor({ INVOICE_CLOUD_BASE_URL: 'not a url' }, '--tax-no', TAX_NO);
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /INVOICE_CLOUD_BASE_URL/);
  });

  it("with --tenant, checks that tenant's invoice cloud with its settings and secrets from the tenants file", async () => {
    const closed = await startSandbox({ port: 0 });
    const down = closed.url;
    await closed.close();
    const tenantsFile = join(work, 'tenants.json');
    writeFileSync(
      tenantsFile,
      JSON.stringify({ tenants: [{ id: 'sandbox', baseUrl: sandbox.url, appSecret: { env: 'SANDBOX_APP_SECRET' } }] }),
    );
    // The INVOICE_CLOUD_* tenant is down: only the tenant's own settings can answer.
    const env = {
      INVOICE_CLOUD_BASE_URL: down,
      INVOICE_CLOUD_APP_SECRET: 'not-the-tenants',
      INVOICE_CLOUD_TENANTS_FILE: tenantsFile,
      SANDBOX_APP_SECRET: APP_SECRET,
    };
    const run = await doctor(env, '--tenant', 'sandbox', '--tax-no', TAX_NO, '--json');
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as DoctorReport;
    assert.equal(report.baseUrl, sandbox.url);
    assert.ok(
      report.calls.every((c) => c.reachable !== 'no'),
      run.stdout,
    );
    assert.ok(!run.stdout.includes(APP_SECRET), 'the secret is not printed');

    const wrongSecret = await doctor({ ...env, SANDBOX_APP_SECRET: 'wrong' }, '--tenant', 'sandbox', '--json');
    assert.equal(wrongSecret.code, 1, 'a wrong secret is refused by the cloud');
  });

  it('exits 1 when the cloud does not answer', async () => {
    const closed = await startSandbox({ port: 0 });
    const url = closed.url;
    await closed.close();
    const run = await doctor(
      { INVOICE_CLOUD_BASE_URL: url, INVOICE_CLOUD_TIMEOUT_MS: '2000' },
      '--capture-dir',
      join(work, 'down'),
    );
    assert.equal(run.code, 1);
    assert.match(row(run.stdout, '1.01 getAppToken'), /\bno\b\s+no reply: ECONNREFUSED/);
    assert.match(row(run.stdout, '4.04 taxperiodQuery'), /not tried: no access token/);
  });
});
