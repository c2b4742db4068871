import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { runCli } from '../client/cli.js';
import {
  DeductionNotFoundError,
  DeductionStateError,
  approve,
  getProgress,
  listDeductions,
  reject,
  startMonthlyDeduction,
  type DeductionRow,
} from '../client/deductions.js';
import { createTemporalClient } from '../runtime/temporalConnection.js';
import { ensureSearchAttributes, startDevServer, type DevServer } from '../scripts/devServer.js';
import { temporalCliPath, testServerPath } from '../scripts/temporalTools.js';
import {
  DeductionStageSearchAttribute,
  SEARCH_ATTRIBUTE_NAMES,
  TASK_QUEUE,
  TaxNoSearchAttribute,
  TaxPeriodSearchAttribute,
  WORKFLOW_TYPE,
  deductionWorkflowId,
} from '../workflows/contract.js';
import { TEST_APPROVERS } from './support/approvers.js';

const TAX_NO = '91440300591872133B';
const PERIOD = '202610';
const KEYWORD = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
const DATETIME = 6;

/** Visibility is eventually consistent: retry `probe` until it returns a value, up to `ms`. */
async function eventually<T>(probe: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function terminateIfRunning(client: Client, workflowId: string): Promise<void> {
  try {
    const handle = client.workflow.getHandle(workflowId);
    if ((await handle.describe()).status.name === 'RUNNING') await handle.terminate('test cleanup');
  } catch {
    // not found: nothing to clean up
  }
}

async function cli(server: DevServer, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'cli', ...args], {
    env: { TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace },
    out: (text) => (stdout += text),
    err: (text) => (stderr += text),
  });
  return { code, stdout, stderr };
}

describe('Temporal dev server (in-memory, headless) and the client helpers', function () {
  this.timeout(120_000);
  let server: DevServer;
  let client: Client;
  const workflowId = deductionWorkflowId(TAX_NO, PERIOD);

  before(async () => {
    server = await startDevServer({ headless: true });
    client = await createTemporalClient({ address: server.address, namespace: server.namespace });
  });

  after(async () => {
    if (client) {
      await terminateIfRunning(client, workflowId);
      await client.connection.close();
    }
    await server?.stop();
  });

  it('is reachable and has the search attributes TaxNo, TaxPeriod, DeductionStage (Keyword), ApprovalDeadline (Datetime)', async () => {
    assert.match(server.address, /^127\.0\.0\.1:\d+$/);
    assert.equal(server.namespace, 'default');
    assert.equal(server.uiUrl, undefined);
    const { customAttributes } = await client.connection.operatorService.listSearchAttributes({
      namespace: server.namespace,
    });
    for (const name of SEARCH_ATTRIBUTE_NAMES) {
      assert.equal(customAttributes?.[name], name === 'ApprovalDeadline' ? DATETIME : KEYWORD, name);
    }
    assert.deepEqual(await ensureSearchAttributes(client.connection, server.namespace), []);
  });

  it('starts MonthlyDeductionWorkflow with its id, task queue and search attributes (no worker needed)', async () => {
    const started = await startMonthlyDeduction(client, {
      approvers: TEST_APPROVERS,
      taxNo: TAX_NO,
      taxPeriod: PERIOD,
    });
    assert.equal(started.alreadyStarted, false);
    assert.equal(started.workflowId, workflowId);
    assert.ok(started.runId);
    const description = await started.handle.describe();
    assert.equal(description.type, WORKFLOW_TYPE);
    assert.equal(description.taskQueue, TASK_QUEUE);
    assert.equal(description.status.name, 'RUNNING');
    assert.equal(description.typedSearchAttributes.get(TaxNoSearchAttribute), TAX_NO);
    assert.equal(description.typedSearchAttributes.get(TaxPeriodSearchAttribute), PERIOD);
    assert.equal(description.typedSearchAttributes.get(DeductionStageSearchAttribute), 'LOGGING_IN');
  });

  it('reports alreadyStarted for the same taxpayer-month and does not create a second run', async () => {
    const first = await client.workflow.getHandle(workflowId).describe();
    const again = await startMonthlyDeduction(client, { approvers: TEST_APPROVERS, taxNo: TAX_NO, taxPeriod: PERIOD });
    assert.equal(again.alreadyStarted, true);
    assert.equal(again.runId, first.runId);
    const runs = await eventually(async () => {
      const found = [];
      for await (const info of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) found.push(info);
      return found.length > 0 ? found : undefined;
    });
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.runId, first.runId);
  });

  it('rejects invalid workflow input before starting anything', async () => {
    await assert.rejects(
      startMonthlyDeduction(client, { approvers: TEST_APPROVERS, taxNo: '91440300591872133A', taxPeriod: PERIOD }),
      /taxNo/,
    );
  });

  it('lists it by stage, taxNo and period through the search attributes', async () => {
    const rows = await eventually<DeductionRow[]>(async () => {
      const found = await listDeductions(client, { stage: 'LOGGING_IN' });
      return found.some((r) => r.workflowId === workflowId) ? found : undefined;
    });
    const row = rows.find((r) => r.workflowId === workflowId)!;
    assert.equal(row.taxNo, TAX_NO);
    assert.equal(row.taxPeriod, PERIOD);
    assert.equal(row.stage, 'LOGGING_IN');
    assert.equal(row.status, 'RUNNING');
    assert.ok(row.startTime instanceof Date);
    const byTaxpayer = await listDeductions(client, { taxNo: TAX_NO, period: PERIOD });
    assert.deepEqual(
      byTaxpayer.map((r) => r.workflowId),
      [workflowId],
    );
    assert.deepEqual(await listDeductions(client, { stage: 'AWAITING_APPROVAL' }), []);
    await assert.rejects(listDeductions(client, { stage: 'NOPE' }), /stage NOPE/);
  });

  it('reports progress from the search attributes while no worker runs it', async () => {
    const status = await getProgress(client, TAX_NO, PERIOD);
    assert.equal(status.status, 'RUNNING');
    assert.equal(status.progress.stage, 'LOGGING_IN');
    assert.equal(status.progress.taxNo, TAX_NO);
    assert.equal(status.source, 'search-attributes');
    const shown = await cli(server, 'status', '--tax-no', TAX_NO, '--period', PERIOD);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /Stage 阶段:\s+LOGGING_IN/);
  });

  it('refuses approve and reject unless the stage is AWAITING_APPROVAL', async () => {
    await assert.rejects(
      approve(client, TAX_NO, PERIOD, { approver: 'Li Lei', statisticDigest: '0badf00d' }),
      (err: Error) => err instanceof DeductionStateError && /LOGGING_IN/.test(err.message),
    );
    await assert.rejects(
      reject(client, TAX_NO, PERIOD, { approver: 'Li Lei', reason: 'amounts differ' }),
      DeductionStateError,
    );
    const viaCli = await cli(
      server,
      'approve',
      '--tax-no',
      TAX_NO,
      '--period',
      PERIOD,
      '--approver',
      'Li Lei',
      '--digest',
      '0badf00d',
    );
    assert.equal(viaCli.code, 4, viaCli.stderr);
    assert.match(viaCli.stderr, /AWAITING_APPROVAL/);
    // The workflow history holds no signal and no Update.
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    assert.ok(!history.events?.some((e) => e.workflowExecutionSignaledEventAttributes));
    assert.ok(!history.events?.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes));
  });

  it('reports a missing taxpayer-month as not found (CLI exit 4)', async () => {
    await assert.rejects(getProgress(client, TAX_NO, '202609'), DeductionNotFoundError);
    const viaCli = await cli(server, 'status', '--tax-no', TAX_NO, '--period', '202609');
    assert.equal(viaCli.code, 4, viaCli.stderr);
    assert.match(viaCli.stderr, /No deduction workflow/);
  });

  it('re-registers a missing search attribute (e.g. a database created before it existed)', async () => {
    await client.connection.operatorService.removeSearchAttributes({
      namespace: server.namespace,
      searchAttributes: ['DeductionStage'],
    });
    assert.deepEqual(await ensureSearchAttributes(client.connection, server.namespace), ['DeductionStage']);
    const { customAttributes } = await client.connection.operatorService.listSearchAttributes({
      namespace: server.namespace,
    });
    assert.equal(customAttributes?.DeductionStage, KEYWORD);
  });

  it('never starts a taxpayer-month again once it has closed', async () => {
    await client.workflow.getHandle(workflowId).terminate('test: closed');
    const again = await startMonthlyDeduction(client, { approvers: TEST_APPROVERS, taxNo: TAX_NO, taxPeriod: PERIOD });
    assert.equal(again.alreadyStarted, true);
    const status = await getProgress(client, TAX_NO, PERIOD);
    assert.equal(status.status, 'TERMINATED');
    assert.ok(status.failure);
    await assert.rejects(
      approve(client, TAX_NO, PERIOD, { approver: 'Li Lei', statisticDigest: '0badf00d' }),
      /TERMINATED/,
    );
  });
});

describe('Temporal tool paths', () => {
  it('finds the Temporal CLI and the time-skipping test server', () => {
    assert.ok(existsSync(temporalCliPath()));
    assert.ok(existsSync(testServerPath()));
  });
});

describe('Temporal dev server with a SQLite file', function () {
  this.timeout(180_000);
  let dir: string;
  let server: DevServer | undefined;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'vat-devserver-'));
  });

  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a started workflow across a server restart on the same file', async () => {
    const dbFile = join(dir, 'temporal.db');
    const logFile = join(dir, 'server.log');
    const workflowId = deductionWorkflowId(TAX_NO, PERIOD);

    server = await startDevServer({ headless: true, dbFile, logFile });
    let client = await createTemporalClient({ address: server.address, namespace: server.namespace });
    const started = await startMonthlyDeduction(client, {
      approvers: TEST_APPROVERS,
      taxNo: TAX_NO,
      taxPeriod: PERIOD,
    });
    assert.equal(started.alreadyStarted, false);
    await client.connection.close();
    const firstPid = server.pid;
    await server.stop();
    server = undefined;
    assert.throws(() => process.kill(firstPid, 0), 'the first server process is gone');

    server = await startDevServer({ headless: true, dbFile, logFile, durable: true });
    client = await createTemporalClient({ address: server.address, namespace: server.namespace });
    try {
      const description = await client.workflow.getHandle(workflowId).describe();
      assert.equal(description.runId, started.runId);
      assert.equal(description.status.name, 'RUNNING');
      assert.equal(description.typedSearchAttributes.get(DeductionStageSearchAttribute), 'LOGGING_IN');
      const rows = await eventually(async () => {
        const found = await listDeductions(client, { taxNo: TAX_NO });
        return found.length > 0 ? found : undefined;
      });
      assert.deepEqual(
        rows.map((r) => r.workflowId),
        [workflowId],
      );
      const again = await startMonthlyDeduction(client, {
        approvers: TEST_APPROVERS,
        taxNo: TAX_NO,
        taxPeriod: PERIOD,
      });
      assert.equal(again.alreadyStarted, true);
      await client.workflow.getHandle(workflowId).terminate('test cleanup');
    } finally {
      await client.connection.close();
    }
  });
});
