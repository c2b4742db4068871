import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { approve, startMonthlyDeduction, statisticAwaitingApproval } from '../client/deductions.js';
import { StatisticStatus } from '../protocol/codes.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import { freePort, startDevServer, type DevServer } from '../scripts/devServer.js';
import { SandboxAdmin } from '../simulator/adminClient.js';
import type { Tenant } from '../simulator/store.js';
import { startSandbox, type RunningSandbox } from '../simulator/server.js';
import { type MonthlyDeductionResult, Stage, TASK_QUEUE, tenantTaskQueue } from '../workflows/contract.js';
import { TEST_APPROVERS } from './support/approvers.js';
import { SANDBOX_NOW, TEST_PERIOD } from './support/calendar.js';
import { addTaxpayer } from './support/taxpayers.js';
import { waitForStage } from './support/workflows.js';

const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500, backoffCoefficient: 1.5 };

/** Tenant beta's own invoice-cloud tenant, known only to sandbox B (which has no demo tenant). */
const BETA: Tenant = {
  tenantId: 'beta-kd',
  tenantNo: '7700000001',
  accountId: '1534920374578629999',
  appId: 'BETAINV',
  appSecret: 'beta-app-secret-4f1c',
  user: 'beta.caiwu',
  userType: 'UserName',
  businessSystemCode: 'beta-erp',
  encoding: 'base64',
  aesPassword: '',
};
const BETA_CONFIRM_PASSWORD = 'beta-confirm-7731';

/**
 * Many tenants end to end: one worker process (workers/main.ts, as deployed) serves two tenants of
 * a tenants file, each its own sandbox on loopback, beside its INVOICE_CLOUD_* tenant (sandbox A
 * too). Months of both tenants complete, each through its own invoice cloud with its own
 * credentials, on its own task queue; a month naming a tenant the file does not know fails,
 * saying so, and nothing of it reaches any invoice cloud.
 */
describe('many tenants, one worker process', function () {
  this.timeout(300_000);
  let temporal: DevServer;
  let sandboxA: RunningSandbox;
  let sandboxB: RunningSandbox;
  let adminA: SandboxAdmin;
  let adminB: SandboxAdmin;
  let client: Client;
  let worker: ChildProcess | undefined;
  let exited: Promise<number | null>;
  let logs = '';
  let metricsPort: number;
  const dir = mkdtempSync(join(tmpdir(), 'vat-tenants-e2e-'));
  const taxA = withCheckCharacter('91440300TNA000001');
  const taxB = withCheckCharacter('91440300TNB000001');
  const taxGhost = withCheckCharacter('91440300TNG000001');

  before(async () => {
    temporal = await startDevServer({ headless: true });
    sandboxA = await startSandbox({ port: 0, dbFile: ':memory:' });
    sandboxB = await startSandbox({
      port: 0,
      dbFile: ':memory:',
      prepare: ({ store }) => store.tenants.upsert(BETA),
    });
    adminA = new SandboxAdmin(sandboxA.url);
    adminB = new SandboxAdmin(sandboxB.url);
    await adminA.seedDemo({ taxPeriod: TEST_PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 1, seed: 3 });
    for (const admin of [adminA, adminB]) await admin.setClock(SANDBOX_NOW);
    await addTaxpayer(adminA, taxA, { invoices: 12, seed: 1 });
    await addTaxpayer(adminA, taxGhost, { invoices: 12, seed: 2 });
    await adminB.upsertTaxpayer({
      taxNo: taxB,
      tenantId: BETA.tenantId,
      name: '租户乙测试有限公司',
      softCertificate: true,
      periodChangeSupported: true,
      taxPeriod: TEST_PERIOD,
      confirmPassword: BETA_CONFIRM_PASSWORD,
    });
    await adminB.generateInvoices(taxB, { count: 12, seed: 4, period: TEST_PERIOD });

    writeFileSync(join(dir, 'beta-confirm'), `${BETA_CONFIRM_PASSWORD}\n`);
    const tenantsFile = join(dir, 'tenants.json');
    writeFileSync(
      tenantsFile,
      JSON.stringify({
        tenants: [
          // A sandbox on loopback: the demo tenant's values fill in (sandbox A's tenant).
          { id: 'alpha', baseUrl: sandboxA.url, quota: { requestsPerSecond: 20 } },
          {
            id: 'beta',
            baseUrl: sandboxB.url,
            appId: BETA.appId,
            appSecret: { env: 'BETA_APP_SECRET' },
            tenantId: BETA.tenantId,
            accountId: BETA.accountId,
            user: BETA.user,
            userType: BETA.userType,
            businessSystemCode: BETA.businessSystemCode,
            confirmPassword: { file: 'beta-confirm' },
          },
        ],
      }),
    );

    const connection = await Connection.connect({ address: temporal.address });
    client = new Client({ connection, namespace: temporal.namespace });
    metricsPort = await freePort();
    worker = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_NAMESPACE: temporal.namespace,
        // The worker's own tenant is sandbox A too: a month that fell back to it would complete.
        INVOICE_CLOUD_BASE_URL: sandboxA.url,
        INVOICE_CLOUD_TENANTS_FILE: tenantsFile,
        BETA_APP_SECRET: BETA.appSecret,
        METRICS_PORT: String(metricsPort),
        METRICS_HOST: '127.0.0.1',
        TEMPORAL_METRICS_BIND: `127.0.0.1:${await freePort()}`,
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exited = new Promise((resolve) => worker!.once('exit', (code) => resolve(code)));
    worker.stdout!.on('data', (chunk) => (logs += chunk));
    worker.stderr!.on('data', (chunk) => (logs += chunk));
    for (let i = 0; i < 1200 && !logs.includes('Worker started') && worker.exitCode === null; i++) await sleep(100);
    assert.ok(logs.includes('Worker started'), logs);
  });

  after(async () => {
    if (worker && worker.exitCode === null) worker.kill('SIGKILL');
    await client?.connection.close().catch(() => undefined);
    await sandboxA?.close();
    await sandboxB?.close();
    await temporal?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function runMonth(taxNo: string, tenant: string): Promise<MonthlyDeductionResult> {
    const { handle } = await startMonthlyDeduction(client, {
      approvers: TEST_APPROVERS,
      taxNo,
      taxPeriod: TEST_PERIOD,
      tenant,
      polling: FAST_POLLING,
    });
    await waitForStage(handle, Stage.AwaitingApproval, 120_000);
    await approve(client, taxNo, TEST_PERIOD, {
      approver: TEST_APPROVERS[0]!,
      statisticDigest: (await statisticAwaitingApproval(client, taxNo, TEST_PERIOD)).digest,
    });
    return handle.result();
  }

  /** The task queues the month's activities were scheduled on, by activity type. */
  async function queuesOf(workflowId: string): Promise<Map<string, Set<string>>> {
    const queues = new Map<string, Set<string>>();
    for (const event of (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? []) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (!scheduled) continue;
      const type = scheduled.activityType?.name ?? '';
      queues.set(type, (queues.get(type) ?? new Set()).add(scheduled.taskQueue?.name ?? ''));
    }
    return queues;
  }

  it('the worker reports healthy only with every tenant worker running, and logs each tenant without secrets', async () => {
    const health = await fetch(`http://127.0.0.1:${metricsPort}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok', worker: 'RUNNING' });
    for (const tenant of ['alpha', 'beta']) {
      assert.ok(logs.includes(`Tenant ${tenant} served on task queue ${tenantTaskQueue(tenant)}`), logs);
    }
    assert.ok(!logs.includes(BETA.appSecret) && !logs.includes(BETA_CONFIRM_PASSWORD), 'no secret in the logs');
  });

  it('months of both tenants complete, each through its own invoice cloud, credentials and task queue', async () => {
    const [a, b] = await Promise.all([runMonth(taxA, 'alpha'), runMonth(taxB, 'beta')]);
    assert.equal(a.outcome, 'COMPLETED', a.note);
    assert.equal(b.outcome, 'COMPLETED', b.note);
    // Sandbox B knows only beta's credentials and taxpayer; sandbox A only the demo tenant's.
    assert.equal((await adminB.statistic(taxB)).statisticStatus, StatisticStatus.Confirmed);
    assert.equal((await adminA.statistic(taxA)).statisticStatus, StatisticStatus.Confirmed);
    assert.deepEqual(
      [...new Set((await adminA.ledger({ includeRefused: 'true' })).map((w) => w.taxNo))],
      [taxA],
      "sandbox A received only tenant alpha's writes",
    );
    assert.deepEqual(
      [...new Set((await adminB.ledger({ includeRefused: 'true' })).map((w) => w.taxNo))],
      [taxB],
      "sandbox B received only tenant beta's writes",
    );
    assert.equal((await adminB.getTaxpayer(taxB)).tenantId, BETA.tenantId);

    for (const [taxNo, tenant] of [
      [taxA, 'alpha'],
      [taxB, 'beta'],
    ] as const) {
      const queues = await queuesOf(`deduction-${taxNo}-${TEST_PERIOD}`);
      assert.deepEqual([...queues.get('checkTenantServed')!], [TASK_QUEUE], 'the tenant check runs on the main queue');
      for (const bureauCall of ['logInToBureau', 'queryTaxPeriod', 'submitSelection', 'requestConfirmation']) {
        assert.deepEqual([...(queues.get(bureauCall) ?? [])], [tenantTaskQueue(tenant)], `${taxNo} ${bureauCall}`);
      }
    }
  });

  it('a month naming a tenant the tenants file does not know fails, saying so, and calls no invoice cloud', async () => {
    const before = await adminA.getTaxpayer(taxGhost);
    const { handle } = await startMonthlyDeduction(client, {
      approvers: TEST_APPROVERS,
      taxNo: taxGhost,
      taxPeriod: TEST_PERIOD,
      tenant: 'ghost',
    });
    const failure = await handle.result().then(
      () => assert.fail('the month should fail'),
      (error: unknown) => error,
    );
    assert.ok(failure instanceof WorkflowFailedError);
    assert.match(String(failure.cause?.message), /tenant "ghost" is not served by this worker/);
    assert.match(String(failure.cause?.message), /names "alpha", "beta"/);
    const progress = await handle.query<{ stage: string; lastBureauError?: string }>('progress');
    assert.equal(progress.stage, Stage.Failed);
    const after = await adminA.getTaxpayer(taxGhost);
    assert.equal(after.lastLoginAt, before.lastLoginAt, 'the default tenant did not log in for it');
    assert.equal((await adminA.ledger({ taxNo: taxGhost, includeRefused: 'true' })).length, 0);
    const queues = await queuesOf(`deduction-${taxGhost}-${TEST_PERIOD}`);
    assert.deepEqual([...queues.keys()], ['checkTenantServed'], 'nothing but the check was scheduled');
  });

  it('SIGTERM stops every worker of the process together', async () => {
    worker!.kill('SIGTERM');
    const code = await exited;
    assert.equal(code, 0, logs);
    assert.match(logs, /"msg":"Worker stopped"/);
  });
});
