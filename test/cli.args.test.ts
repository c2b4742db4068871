import assert from 'node:assert/strict';
import { createTemporalClient, temporalSettingsFromEnv } from '../runtime/temporalConnection.js';
import { runCli } from '../client/cli.js';
import type { CliIo } from '../client/cliSupport.js';
import { freePort } from '../scripts/devServer.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  connects: number;
}

describe('CLI argument validation (before any Temporal connection)', () => {
  let env: NodeJS.ProcessEnv;

  before(async () => {
    // A port nobody listens on: a connection attempt would end in exit code 3, not 2.
    const port = await freePort();
    env = { TEMPORAL_ADDRESS: `127.0.0.1:${port}`, TEMPORAL_CONNECT_TIMEOUT_MS: '500' };
  });

  async function cli(...args: string[]): Promise<Run> {
    let stdout = '';
    let stderr = '';
    let connects = 0;
    const io: Partial<CliIo> = {
      env,
      out: (text) => (stdout += text),
      err: (text) => (stderr += text),
      connect: () => {
        connects++;
        return createTemporalClient(temporalSettingsFromEnv(env));
      },
    };
    const code = await runCli(['node', 'cli', ...args], io);
    return { code, stdout, stderr, connects };
  }

  function assertBadInput(run: Run, ...mentions: string[]): void {
    assert.equal(run.code, 2, `exit code 2 expected, got ${run.code}; stderr: ${run.stderr}`);
    assert.equal(run.connects, 0, 'no Temporal connection may be attempted');
    for (const text of mentions) assert.ok(run.stderr.includes(text), `stderr should mention ${text}: ${run.stderr}`);
  }

  const goodTaxNo = '91440300591872133B';

  it('rejects a taxNo with a wrong check character, naming the argument and the problem', async () => {
    const run = await cli('start', '--tax-no', '91440300591872133A', '--period', '202610');
    assertBadInput(run, "--tax-no 91440300591872133A: check character is 'A', expected 'B'");
  });

  it('rejects a short taxNo', async () => {
    const run = await cli('status', '--tax-no', '9144030059187213', '--period', '202610');
    assertBadInput(run, '--tax-no 9144030059187213', 'must be 18 characters, got 16');
  });

  it('rejects a lower-case taxNo and suggests the upper-case one', async () => {
    const run = await cli('start', '--tax-no', '91440300ma5g9gk78y');
    assertBadInput(run, '--tax-no 91440300ma5g9gk78y', 'not allowed', '91440300MA5G9GK78Y');
  });

  it('rejects month 13', async () => {
    const run = await cli('status', '--tax-no', goodTaxNo, '--period', '202613');
    assertBadInput(run, '--period 202613', 'month 01-12');
  });

  it('rejects a period written YYYY-MM', async () => {
    const run = await cli('approve', '--tax-no', goodTaxNo, '--period', '2026-11', '--approver', 'Li');
    assertBadInput(run, '--period 2026-11', 'YYYYMM');
  });

  it('rejects a bad --change-period-to and --approval-deadline', async () => {
    assertBadInput(
      await cli('start', '--tax-no', goodTaxNo, '--period', '202610', '--change-period-to', '202600'),
      '--change-period-to 202600',
    );
    assertBadInput(
      await cli('start', '--tax-no', goodTaxNo, '--period', '202610', '--approval-deadline', '2026-11-14'),
      '--approval-deadline 2026-11-14',
    );
  });

  describe('a month is started only with an approver', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'cli-approvers-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    function registryWith(taxNo: string, approvers: string[]): string {
      const file = join(dir, `registry-${taxNo}.json`);
      const entry = { taxNo, name: '测试有限公司', approvers, schedule: { dayOfMonth: 3, hour: 9 } };
      writeFileSync(file, JSON.stringify({ taxpayers: [entry] }));
      return file;
    }

    /** `start` of a good taxpayer-month with these further arguments. */
    const start = (...more: string[]) => cli('start', '--tax-no', goodTaxNo, '--period', '202610', ...more);

    it('refuses `start` without --approver and without a registry, naming both ways to name one', async () => {
      const missing = join(dir, 'no-such-registry.json');
      const run = await start('--registry', missing);
      assertBadInput(run, `${goodTaxNo} has no approver`, `no registry at ${missing}`, '--approver <account id>');
    });

    it('refuses `start` when the registry has no entry for the taxpayer', async () => {
      const other = '91440300MA5G9GK78Y';
      const run = await start('--registry', registryWith(other, ['wang']));
      assertBadInput(run, `${goodTaxNo} has no approver`, 'the registry has no entry for it');
    });

    it('refuses an empty --approver', async () => {
      const run = await start('--approver', ' ');
      assertBadInput(run, '--approver: must not be empty');
    });

    it("takes the registry entry's approvers: it goes on to connect to Temporal", async () => {
      const run = await start('--registry', registryWith(goodTaxNo, ['wang']));
      assert.equal(run.connects, 1, `a connection is attempted: ${run.stderr}`);
      assert.equal(run.code, 3, `nobody listens: exit 3, got ${run.code}; ${run.stderr}`);
    });

    it('takes --approver without a registry: it goes on to connect to Temporal', async () => {
      const missing = join(dir, 'no-such-registry.json');
      const run = await start('--registry', missing, '--approver', 'wang');
      assert.equal(run.connects, 1, `a connection is attempted: ${run.stderr}`);
    });
  });

  describe('--tenant', () => {
    let dir: string;
    let tenantsFile: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'cli-tenants-'));
      tenantsFile = join(dir, 'tenants.json');
      const tenant = (id: string) => ({
        id,
        baseUrl: 'https://invoice-cloud.example.com',
        appSecret: { env: 'NOT_SET' },
      });
      writeFileSync(tenantsFile, JSON.stringify({ tenants: [tenant('acme'), tenant('beta')] }));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    const start = (...more: string[]) =>
      cli('start', '--tax-no', goodTaxNo, '--period', '202610', '--approver', 'wang', ...more);
    async function withTenantsFile<T>(file: string | undefined, fn: () => Promise<T>): Promise<T> {
      const saved = env.INVOICE_CLOUD_TENANTS_FILE;
      if (file === undefined) delete env.INVOICE_CLOUD_TENANTS_FILE;
      else env.INVOICE_CLOUD_TENANTS_FILE = file;
      try {
        return await fn();
      } finally {
        if (saved === undefined) delete env.INVOICE_CLOUD_TENANTS_FILE;
        else env.INVOICE_CLOUD_TENANTS_FILE = saved;
      }
    }

    it('refuses an unknown tenant, naming the ids the tenants file knows', async () => {
      const run = await withTenantsFile(tenantsFile, () => start('--tenant', 'gamma'));
      assertBadInput(run, '--tenant gamma: unknown tenant', `the tenants file ${tenantsFile} names "acme", "beta"`);
    });

    it('refuses a tenant when there is no tenants file, and an id that is not a slug', async () => {
      assertBadInput(
        await withTenantsFile(undefined, () => start('--tenant', 'acme')),
        '--tenant acme: no tenants file',
        'INVOICE_CLOUD_TENANTS_FILE',
      );
      assertBadInput(
        await withTenantsFile(tenantsFile, () => start('--tenant', 'Acme')),
        '--tenant Acme: tenant must be',
      );
    });

    it("refuses a tenant other than the registry entry's, and reads no secret to accept a known one", async () => {
      const registry = join(dir, 'registry.json');
      const entry = {
        taxNo: goodTaxNo,
        name: '测试有限公司',
        approvers: ['wang'],
        tenant: 'acme',
        schedule: { dayOfMonth: 3, hour: 9 },
      };
      writeFileSync(registry, JSON.stringify({ taxpayers: [entry] }));
      assertBadInput(
        await withTenantsFile(tenantsFile, () => start('--tenant', 'beta', '--registry', registry)),
        `--tenant beta: the registry ${registry} has ${goodTaxNo} on tenant "acme"`,
      );
      // The tenant's secret (NOT_SET) is the workers' business: the CLI goes on to Temporal.
      const known = await withTenantsFile(tenantsFile, () => start('--registry', registry));
      assert.equal(known.connects, 1, `a connection is attempted: ${known.stderr}`);
      assert.equal(known.code, 3, known.stderr);
    });

    it('accounting run and schedule take --tenant the same way', async () => {
      const run = (...more: string[]) => cli('accounting', 'run', '--tax-no', goodTaxNo, ...more);
      const schedule = (...more: string[]) =>
        cli('accounting', 'schedule', '--tax-no', goodTaxNo, '--day', '3', '--hour', '9', ...more);
      for (const command of [run, schedule]) {
        assertBadInput(
          await withTenantsFile(tenantsFile, () => command('--tenant', 'gamma')),
          '--tenant gamma: unknown tenant',
          '"acme", "beta"',
        );
        const known = await withTenantsFile(tenantsFile, () => command('--tenant', 'acme'));
        assert.equal(known.connects, 1, `a connection is attempted: ${known.stderr}`);
        assert.equal(known.code, 3, known.stderr);
      }
    });

    it('doctor --tenant refuses an unknown tenant and names a secret that is not set', async () => {
      const unknown = await withTenantsFile(tenantsFile, () => cli('doctor', '--tenant', 'gamma'));
      assertBadInput(unknown, '--tenant gamma: unknown tenant', '"acme", "beta"');
      const noSecret = await withTenantsFile(tenantsFile, () => cli('doctor', '--tenant', 'acme'));
      assertBadInput(noSecret, `${tenantsFile}: tenant "acme": appSecret: env var NOT_SET is not set`);
    });
  });

  it('rejects an unknown stage and lists the valid ones', async () => {
    const run = await cli('list', '--stage', 'WAITING');
    assertBadInput(run, '--stage WAITING', 'AWAITING_APPROVAL');
  });

  it('validates list filters too', async () => {
    assertBadInput(await cli('list', '--tax-no', 'ABC'), '--tax-no ABC');
    assertBadInput(await cli('list', '--period', '1999'), '--period 1999');
  });

  it('requires --approver for approve', async () => {
    const run = await cli('approve', '--tax-no', goodTaxNo, '--period', '202610');
    assertBadInput(run, '--approver');
  });

  it('requires --approver and --reason for reject', async () => {
    assertBadInput(await cli('reject', '--tax-no', goodTaxNo, '--period', '202610', '--reason', 'wrong'), '--approver');
    assertBadInput(await cli('reject', '--tax-no', goodTaxNo, '--period', '202610', '--approver', 'Li'), '--reason');
    assertBadInput(
      await cli('reject', '--tax-no', goodTaxNo, '--period', '202610', '--approver', 'Li', '--reason', '  '),
      '--reason',
    );
  });

  it('requires --tax-no and --period for status', async () => {
    assertBadInput(await cli('status', '--period', '202610'), '--tax-no');
    assertBadInput(await cli('status', '--tax-no', goodTaxNo), '--period');
  });

  it('rejects unknown commands and options', async () => {
    assertBadInput(await cli('bogus'), 'bogus');
    assertBadInput(await cli('list', '--colour'), '--colour');
  });

  it('prints help with examples, exit 0', async () => {
    const run = await cli('--help');
    assert.equal(run.code, 0);
    assert.match(run.stdout, /Examples:/);
    assert.match(run.stdout, /approve --tax-no/);
    assert.equal(run.connects, 0);
  });

  it('valid arguments do connect: an unreachable Temporal gives exit 3 with advice', async () => {
    const run = await cli('status', '--tax-no', goodTaxNo, '--period', '202610');
    assert.equal(run.code, 3, run.stderr);
    assert.equal(run.connects, 1);
    assert.match(run.stderr, /Cannot reach Temporal at 127\.0\.0\.1:\d+/);
    assert.match(run.stderr, /npm start/);
  });
});
