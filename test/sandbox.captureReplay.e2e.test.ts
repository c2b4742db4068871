import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { approve, startMonthlyDeduction, statisticAwaitingApproval } from '../client/deductions.js';
import { startSandbox, type RunningSandbox } from '../simulator/server.js';
import type { ReplayStats } from '../simulator/replay.js';
import { createDeductionWorker } from '../workers/createWorker.js';
import {
  DeductionStageSearchAttribute,
  MonthlyDeductionInput,
  Stage,
  TaxNoSearchAttribute,
  TaxPeriodSearchAttribute,
  WORKFLOW_TYPE,
  approveSignal,
  deductionWorkflowId,
  type MonthlyDeductionResult,
} from '../workflows/contract.js';
import { TEST_WINDOW } from './support/calendar.js';
import { startStack, type TestStack } from './support/stack.js';
import { waitForStage } from './support/workflows.js';
import { TEST_APPROVERS } from './support/approvers.js';

/**
 * "A replayed capture folder reproduces a month": a month recorded against the sandbox
 * (INVOICE_CLOUD_CAPTURE_DIR) runs again, as another workflow, against the sandbox in replay mode
 * answering from that folder only, to COMPLETED with the same statistic.
 */
const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const TAX_NO = '91440300591872133B';
const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500, backoffCoefficient: 1.5 };
const REPLAY_QUEUE = 'replayed-captures';

describe('A replayed capture folder reproduces a month', function () {
  this.timeout(180_000);
  let stack: TestStack;
  let replay: RunningSandbox | undefined;
  const captureDir = mkdtempSync(join(tmpdir(), 'vat-month-captures-'));

  before(async () => {
    stack = await startStack({ invoiceCloudEnv: { INVOICE_CLOUD_CAPTURE_DIR: captureDir } });
    await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 30, seed: 7 });
    await stack.admin.setClock(SANDBOX_NOW);
    // Bureau tasks take a while, so the captures hold 6910 polls before each result.
    await stack.admin.setTaskDelays({ selectMs: 1500, statisticMs: 1000, confirmMs: 0 });
    await stack.startWorker();
  });
  after(async () => {
    await replay?.close();
    await stack?.stop();
    rmSync(captureDir, { recursive: true, force: true });
  });

  it('records a month, then replays the captures to COMPLETED with the same statistic', async () => {
    // 1. The month against the sandbox, every call captured.
    const input = { taxNo: TAX_NO, taxPeriod: PERIOD, polling: FAST_POLLING, approvers: TEST_APPROVERS };
    const { handle } = await startMonthlyDeduction(stack.client, input);
    await waitForStage(handle, 'AWAITING_APPROVAL', 90_000);
    await approve(stack.client, TAX_NO, PERIOD, {
      approver: '王会计',
      statisticDigest: (await statisticAwaitingApproval(stack.client, TAX_NO, PERIOD)).digest,
    });
    const recorded: MonthlyDeductionResult = await handle.result();
    assert.equal(recorded.outcome, 'COMPLETED');
    assert.ok((recorded.selection?.selected ?? 0) > 0, 'the recorded month selected invoices');

    const captures = readdirSync(captureDir).map(
      (f) =>
        JSON.parse(readFileSync(join(captureDir, f), 'utf8')) as { interface: string; reply: { errorCode: string } },
    );
    const pending = captures.filter((c) => c.reply.errorCode === '6910').map((c) => c.interface);
    assert.ok(pending.includes('invoiceSelectQuery'), 'a selection poll answered 6910 was captured');
    const text = readdirSync(captureDir)
      .map((f) => readFileSync(join(captureDir, f), 'utf8'))
      .join('\n');
    assert.ok(!text.includes('"1234567"'), 'the confirmation password is redacted in the captures');

    // 2. The same taxpayer-month again, as another workflow on its own worker, against the captures only.
    replay = await startSandbox({ port: 0, replayDir: captureDir });
    const { captureDir: _recordedTo, ...invoiceCloud } = stack.invoiceCloud;
    const native = await NativeConnection.connect({ address: stack.temporal.address });
    const worker = await createDeductionWorker({
      connection: native,
      namespace: stack.temporal.namespace,
      taskQueue: REPLAY_QUEUE,
      invoiceCloud: { ...invoiceCloud, baseUrl: replay.url },
    });
    const running = worker.run();
    try {
      const args = MonthlyDeductionInput.parse(input);
      const again = await stack.client.workflow.start(WORKFLOW_TYPE, {
        taskQueue: REPLAY_QUEUE,
        workflowId: `replayed-${deductionWorkflowId(TAX_NO, PERIOD)}`,
        args: [args],
        typedSearchAttributes: [
          { key: TaxNoSearchAttribute, value: TAX_NO },
          { key: TaxPeriodSearchAttribute, value: PERIOD },
          { key: DeductionStageSearchAttribute, value: Stage.LoggingIn },
        ],
      });
      const waiting = await waitForStage(again, 'AWAITING_APPROVAL', 90_000);
      await again.signal(approveSignal, {
        approver: '王会计',
        ...(waiting.statistic?.digest ? { statisticDigest: waiting.statistic.digest } : {}),
      });
      const replayed: MonthlyDeductionResult = await again.result();

      assert.equal(replayed.outcome, 'COMPLETED');
      assert.deepEqual(replayed.statistic, recorded.statistic, 'the same statistic table and totals');
      assert.equal(replayed.statistic?.statisticStatus, '05');
      assert.deepEqual(
        { ...replayed.selection, taskNos: undefined },
        { ...recorded.selection, taskNos: undefined },
        'the same selection',
      );
      assert.deepEqual(replayed.selection?.taskNos, recorded.selection?.taskNos, 'the recorded taskNos came back');
      assert.equal(replayed.confirmedAt, recorded.confirmedAt);

      const stats = (await (await fetch(`${replay.url}/replay`)).json()) as ReplayStats;
      assert.deepEqual(stats.unmatched, [], 'every call of the replayed month matched a capture');
      assert.equal(stats.served, captures.length, 'each capture answered one call, in recorded order');
    } finally {
      worker.shutdown();
      await running;
      await native.close();
    }
  });
});
