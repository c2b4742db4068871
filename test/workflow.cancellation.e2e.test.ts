import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { asyncLocalStorage, type Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, type ActivityInterceptorsFactory } from '@temporalio/worker';
import axios from 'axios';
import { startMonthlyDeduction } from '../client/deductions.js';
import { InvoiceCloudClient } from '../activities/invoiceCloudClient.js';
import { SelectionHeartbeat } from '../activities/selectionProgress.js';
import type { SubmitSelectionResult } from '../activities/deductionActivities.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import { createDeductionWorker, type ShutdownTimes } from '../workers/createWorker.js';
import { progressQuery, Stage } from '../workflows/contract.js';
import { TEST_APPROVERS } from './support/approvers.js';
import { TEST_WINDOW } from './support/calendar.js';
import { startStack, type TestStack } from './support/stack.js';
import { addTaxpayer } from './support/taxpayers.js';
import { waitForStage } from './support/workflows.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
/** One gateway request per second: a selection of 30 batches takes half a minute. */
const QUOTA = '1';
const INVOICES = 120;
const BATCH = 4;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A gateway request the worker sent: its interface, the activity that sent it, when. */
interface SentRequest {
  interfaceCode: string;
  activityType: string | undefined;
  attempt: number | undefined;
  at: number;
  answeredAt?: number;
}

/** One attempt of submitSelection, as the worker ran it. */
interface SelectionAttempt {
  attempt: number;
  startedAt: number;
  /** The heartbeat details the attempt started from (an earlier attempt's progress). */
  details: SelectionHeartbeat | undefined;
  /** When the attempt's cancellation signal fired (Temporal delivered the cancellation). */
  cancelledAt?: number;
  endedAt?: number;
  result?: SubmitSelectionResult;
  error?: unknown;
}

/**
 * Cancellable work on a real Temporal dev server with the real sandbox: a month's cancellation, and a
 * worker's shutdown, reach a long selection that waits on the tenant's quota between batches.
 */
describe('Cancellable selection (dev server, sandbox)', function () {
  this.timeout(240_000);
  let stack: TestStack;
  let taxpayers = 0;
  let sent: SentRequest[] = [];
  let attempts: SelectionAttempt[] = [];
  const running: { stop(): Promise<void> }[] = [];

  /** Records every submitSelection attempt: what it started from, when its cancellation came, how it ended. */
  const observeSelection: ActivityInterceptorsFactory = (ctx: Context) => ({
    inbound: {
      async execute(input, next) {
        if (ctx.info.activityType !== 'submitSelection') return next(input);
        const parsed = SelectionHeartbeat.safeParse(ctx.info.heartbeatDetails);
        const attempt: SelectionAttempt = {
          attempt: ctx.info.attempt,
          startedAt: Date.now(),
          details: parsed.success ? parsed.data : undefined,
        };
        attempts.push(attempt);
        ctx.cancellationSignal.addEventListener('abort', () => (attempt.cancelledAt = Date.now()));
        try {
          attempt.result = (await next(input)) as SubmitSelectionResult;
          return attempt.result;
        } catch (error) {
          attempt.error = error;
          throw error;
        } finally {
          attempt.endedAt = Date.now();
        }
      },
    },
  });

  /** The worker's own transport, recording each gateway request and its answer. */
  function recordingHttp() {
    const http = axios.create({ baseURL: stack.invoiceCloud.baseUrl, timeout: stack.invoiceCloud.timeoutMs });
    http.interceptors.request.use((request) => {
      const interfaceCode = (request.data as { interfaceCode?: string } | undefined)?.interfaceCode;
      if (interfaceCode) {
        const info = asyncLocalStorage.getStore()?.info;
        const record: SentRequest = {
          interfaceCode,
          activityType: info?.activityType,
          attempt: info?.attempt,
          at: Date.now(),
        };
        sent.push(record);
        (request as { record?: SentRequest }).record = record;
      }
      return request;
    });
    http.interceptors.response.use((response) => {
      const record = (response.config as { record?: SentRequest }).record;
      if (record) record.answeredAt = Date.now();
      return response;
    });
    return http;
  }

  async function startWorker(shutdown?: ShutdownTimes) {
    const connection = await NativeConnection.connect({ address: stack.temporal.address });
    const worker = await createDeductionWorker({
      connection,
      namespace: stack.temporal.namespace,
      invoiceCloud: stack.invoiceCloud,
      dataConverter: {},
      client: new InvoiceCloudClient(stack.invoiceCloud, recordingHttp()),
      interceptors: { activity: [observeSelection] },
      ...(shutdown ? { shutdown } : {}),
    });
    const run = worker.run();
    const handle = {
      worker,
      run,
      async stop() {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await run;
        await connection.close();
      },
    };
    running.push(handle);
    return handle;
  }

  async function startLongMonth() {
    const taxNo = withCheckCharacter(`91440300MA5DC${String(++taxpayers).padStart(4, '0')}`);
    await addTaxpayer(stack.admin, taxNo, { invoices: INVOICES, seed: 70 + taxpayers });
    const { handle } = await startMonthlyDeduction(stack.client, {
      approvers: TEST_APPROVERS,
      taxNo,
      taxPeriod: PERIOD,
      batchSize: BATCH,
      polling: { initialIntervalMs: 200, maximumIntervalMs: 500 },
    });
    return { taxNo, handle };
  }

  /** invoiceSelect writes the sandbox took in for the taxpayer (its ledger). */
  const selectWrites = async (taxNo: string) => stack.admin.ledger({ taxNo, interfaceCode: 'invoiceSelect' });

  async function untilSelectWrites(taxNo: string, count: number): Promise<void> {
    for (let i = 0; i < 600; i++) {
      if ((await selectWrites(taxNo)).length >= count) return;
      await sleep(100);
    }
    throw new Error(`fewer than ${count} invoiceSelect writes reached the sandbox`);
  }

  before(async () => {
    stack = await startStack({ invoiceCloudEnv: { INVOICE_CLOUD_MAX_RPS: QUOTA } });
    await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 1, seed: 1 });
    await stack.admin.setClock(SANDBOX_NOW);
  });
  beforeEach(() => {
    sent = [];
    attempts = [];
  });
  afterEach(async () => {
    for (const w of running.splice(0)) await w.stop();
  });
  after(async () => stack?.stop());

  it('cancel during a long selection: no more bureau calls after the cancellation is delivered', async () => {
    await startWorker();
    const { taxNo, handle } = await startLongMonth();
    await untilSelectWrites(taxNo, 3);
    const cancelRequestedAt = Date.now();
    await handle.cancel();
    const error = await handle.result().then(
      () => assert.fail('the month should have been cancelled'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure, String(error));
    for (let i = 0; i < 100 && attempts[0]?.endedAt === undefined; i++) await sleep(100);

    const [attempt] = attempts;
    assert.equal(attempts.length, 1, 'one attempt of the selection, cancelled, not retried');
    assert.ok(attempt?.cancelledAt !== undefined, 'the cancellation reached the activity');
    const deliveredAt = attempt.cancelledAt;
    assert.ok(
      attempt.error instanceof CancelledFailure,
      `the attempt ended cancelled, not with ${String(attempt.error)}`,
    );
    const deliveryMs = deliveredAt - cancelRequestedAt;
    const stoppedMs = attempt.endedAt! - deliveredAt;
    // Heartbeats every second, sent at least every 2 s (createWorker.ts MAX_HEARTBEAT_THROTTLE_MS).
    assert.ok(deliveryMs < 5000, `delivered ${deliveryMs} ms after the cancel request`);
    // The attempt was waiting for a quota slot (or a reply): it ends at once, not at its turn.
    assert.ok(stoppedMs < 500, `the attempt ended ${stoppedMs} ms after the delivery`);

    // A quiet while later: nothing more from the selection, and the sandbox took no write after it.
    await sleep(3000);
    const selection = sent.filter((r) => r.activityType === 'submitSelection');
    const late = selection.filter((r) => r.at > deliveredAt);
    assert.deepEqual(late, [], 'no request of the selection was sent after the cancellation was delivered');
    const ledger = await selectWrites(taxNo);
    const sentBefore = selection.filter((r) => r.interfaceCode === 'invoiceSelect');
    assert.equal(ledger.length, sentBefore.length, 'every write the bureau took in was sent before the delivery');
    assert.ok(ledger.length >= 3 && ledger.length < INVOICES / BATCH, `cut short at ${ledger.length} batches`);
    const invoices = ledger.flatMap((w) => w.invoiceNos);
    assert.equal(new Set(invoices).size, invoices.length, 'no invoice sent twice');
    assert.equal((await handle.query(progressQuery)).stage, Stage.Canceled);
    console.log(
      `      cancel → delivered ${deliveryMs} ms, attempt ended ${stoppedMs} ms later; ` +
        `${ledger.length} batches sent before it, none after`,
    );
  });

  it('worker shutdown mid-selection: the attempt stops after the grace time and the next one resumes from its heartbeat', async () => {
    const first = await startWorker({ graceMs: 500, forceMs: 10_000 });
    const { taxNo, handle } = await startLongMonth();
    await untilSelectWrites(taxNo, 3);
    const shutdownAt = Date.now();
    first.worker.shutdown();
    await first.run;
    const stopMs = Date.now() - shutdownAt;
    const [cut] = attempts;
    assert.ok(cut?.error instanceof CancelledFailure, `the running attempt was cancelled, not ${String(cut?.error)}`);
    assert.ok(stopMs < 5000, `the worker stopped ${stopMs} ms after the shutdown began (grace 0.5 s)`);
    const answeredBeforeStop = sent.filter((r) => r.interfaceCode === 'invoiceSelect' && r.answeredAt !== undefined);
    const writtenBeforeStop = (await selectWrites(taxNo)).length;
    assert.ok(writtenBeforeStop < INVOICES / BATCH, 'stopped mid-selection');

    await startWorker();
    const waiting = await waitForStage(handle, Stage.AwaitingApproval, 180_000);
    const resumed = attempts.at(-1)!;
    assert.equal(attempts.length, 2);
    assert.equal(resumed.attempt, 2, 'the same activity, retried');
    // It started from the first attempt's progress: every batch answered before the stop.
    assert.equal(resumed.details?.round, 1);
    assert.equal(resumed.details?.sent.length, answeredBeforeStop.length);
    assert.ok(answeredBeforeStop.length >= 3);
    // And sent only the rest: the batches it started from stay its own (their tasks answer for
    // them), so it reports the whole selection submitted; started over, it would have found them
    // selected at the bureau and submitted only the rest.
    const result = resumed.result!;
    assert.equal(result.submitted, result.candidates);
    const ledger = await selectWrites(taxNo);
    const invoices = ledger.flatMap((w) => w.invoiceNos);
    assert.equal(new Set(invoices).size, invoices.length, 'no invoice written twice');
    // A batch cut off in flight may have landed unanswered: the bureau shows it selected, and the
    // second attempt counts it as already selected instead of sending it again.
    const landedUnanswered = result.alreadySelectedInSource?.count ?? 0;
    assert.equal(invoices.length, result.candidates + landedUnanswered, 'every candidate written once');
    assert.equal(waiting.selection?.selected, result.candidates);
    console.log(
      `      shutdown → worker stopped in ${stopMs} ms; attempt 2 resumed after ${answeredBeforeStop.length} of ${ledger.length} batches`,
    );
    await handle.cancel();
  });

  it('the worker process on SIGTERM: the selection runs through its grace time, is cancelled, and the process exits', async () => {
    const graceSeconds = 2;
    let logs = '';
    const child = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: stack.temporal.address,
        TEMPORAL_NAMESPACE: stack.temporal.namespace,
        INVOICE_CLOUD_BASE_URL: stack.invoiceCloud.baseUrl,
        INVOICE_CLOUD_MAX_RPS: QUOTA,
        WORKER_SHUTDOWN_GRACE_SECONDS: String(graceSeconds),
        WORKER_SHUTDOWN_FORCE_SECONDS: '10',
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.stdout!.on('data', (chunk) => (logs += chunk));
    child.stderr!.on('data', (chunk) => (logs += chunk));
    try {
      for (let i = 0; i < 600 && !logs.includes('Worker started'); i++) await sleep(100);
      assert.ok(logs.includes('Worker started'), logs);
      const { taxNo, handle } = await startLongMonth();
      await untilSelectWrites(taxNo, 3);
      const stopAt = Date.now();
      child.kill('SIGTERM');
      const code = await exited;
      const stopMs = Date.now() - stopAt;
      assert.equal(code, 0, logs);
      assert.match(logs, /"msg":"Worker stopped"/);
      assert.ok(stopMs >= graceSeconds * 1000, `the running selection had its grace time (stopped in ${stopMs} ms)`);
      assert.ok(stopMs < graceSeconds * 1000 + 3000, `then it was cancelled at once (stopped in ${stopMs} ms)`);
      const writes = (await selectWrites(taxNo)).length;
      await sleep(2000);
      assert.equal((await selectWrites(taxNo)).length, writes, 'nothing more reached the bureau');
      console.log(`      SIGTERM → process exited in ${stopMs} ms (grace ${graceSeconds} s), ${writes} batches sent`);
      await handle.cancel();
    } finally {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    }
  });
});
