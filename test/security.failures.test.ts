import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInboundCallsInterceptor } from '@temporalio/worker';
import type { Context } from '@temporalio/activity';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import { startMonthlyDeduction } from '../client/deductions.js';
import { createDeductionWorker } from '../workers/createWorker.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import { AesGcmPayloadCodec } from '../security/payloadCodec.js';
import { encryptingDataConverter } from '../security/payloadKeys.js';
import { TEST_WINDOW } from './support/calendar.js';
import { historyPayloads, historyText } from './support/history.js';
import { startStack, type TestStack } from './support/stack.js';
import { TEST_APPROVERS } from './support/approvers.js';

/**
 * With payload encryption on, a failure's message is encrypted with the payloads. An
 * activity fails with a message only the key holders may read; the stored history (read raw,
 * without the codec) shows "Encoded failure" for the activity and for the month it fails, and a
 * client with the key reads the message back.
 */
const SECRET = '确认密码错误-机密-5521';

function failLoginWith(message: string) {
  return (ctx: Context): { inbound: ActivityInboundCallsInterceptor } => ({
    inbound: {
      async execute(input, next) {
        if (ctx.info.activityType === 'logInToBureau') throw ApplicationFailure.nonRetryable(message, 'BureauRefused');
        return next(input);
      },
    },
  });
}

describe('Security: failure messages with payload encryption', function () {
  this.timeout(180_000);
  const codec = new AesGcmPayloadCodec(new Map([['2026-f', randomBytes(32)]]), '2026-f');
  let stack: TestStack;
  before(async () => {
    stack = await startStack({
      dataConverter: encryptingDataConverter(codec),
      interceptors: { activity: [failLoginWith(SECRET)] },
    });
  });
  after(async () => stack?.stop());

  /** Runs a month that fails at login; the raw stored history, and the error the client decoded. */
  async function failedMonth(taxNo: string) {
    const { handle } = await startMonthlyDeduction(stack.client, {
      approvers: TEST_APPROVERS,
      taxNo,
      taxPeriod: TEST_WINDOW.period,
    });
    const error = await handle.result().then(
      () => assert.fail('the month should fail'),
      (e: unknown) => e,
    );
    const raw = await stack.client.workflowService.getWorkflowExecutionHistory({
      namespace: stack.temporal.namespace,
      execution: { workflowId: handle.workflowId },
    });
    return { error, history: raw.history };
  }

  it("stores a failed activity's message, and the month's failure, encrypted", async () => {
    const worker = await stack.startWorker();
    const { error, history } = await failedMonth(withCheckCharacter('91440300MA5XECR03'));
    await worker.stop();
    // The client holds the key: it reads the messages back.
    assert.ok(error instanceof WorkflowFailedError, String(error));
    const messages: string[] = [];
    for (let e: unknown = error; e instanceof Error; e = e.cause) messages.push(e.message);
    assert.ok(
      messages.some((m) => m.includes(SECRET)),
      `the client decodes the message: ${messages.join(' / ')}`,
    );

    assert.ok(!historyText(history).includes(SECRET), 'the message is nowhere in the stored history');
    assert.ok(!historyText(history).includes('确认密码错误'));

    const events = history?.events ?? [];
    const activityFailed = events.find((e) => e.activityTaskFailedEventAttributes)?.activityTaskFailedEventAttributes;
    assert.ok(activityFailed, 'the activity failed');
    assert.equal(activityFailed.failure?.message, 'Encoded failure');
    assert.equal(activityFailed.failure?.stackTrace, '');
    const workflowFailed = events.find(
      (e) => e.workflowExecutionFailedEventAttributes,
    )?.workflowExecutionFailedEventAttributes;
    assert.ok(workflowFailed, 'the month failed');
    assert.equal(workflowFailed.failure?.message, 'Encoded failure');

    const encoded = historyPayloads(history).filter((p) => p.path.includes('encodedAttributes'));
    assert.ok(encoded.length >= 2, `the activity's and the month's messages are payloads (${encoded.length})`);
    for (const p of encoded) {
      assert.equal(Buffer.from(p.metadata!.encoding!).toString(), 'binary/encrypted', p.path);
      assert.equal(Buffer.from(p.metadata!['encryption-key-id']!).toString(), '2026-f');
    }
  });

  it('does the same with the prebuilt bundles (npm run bundle): a worker with keys loads the encoded-failures one', async () => {
    const bundle = join(mkdtempSync(join(tmpdir(), 'bundle-')), 'workflow-bundle.js');
    const built = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/bundle.ts', bundle], { encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    const connection = await NativeConnection.connect({ address: stack.temporal.address });
    const worker = await createDeductionWorker({
      connection,
      namespace: stack.temporal.namespace,
      invoiceCloud: stack.invoiceCloud,
      dataConverter: encryptingDataConverter(codec),
      interceptors: { activity: [failLoginWith(SECRET)] },
      workflowBundlePath: bundle,
    });
    const running = worker.run();
    try {
      const { history } = await failedMonth(withCheckCharacter('91440300MA5XECR04'));
      assert.ok(!historyText(history).includes(SECRET), 'the message is nowhere in the stored history');
      const failed = history?.events?.find((e) => e.workflowExecutionFailedEventAttributes);
      assert.equal(failed?.workflowExecutionFailedEventAttributes?.failure?.message, 'Encoded failure');
    } finally {
      worker.shutdown();
      await running;
      await connection.close();
    }
  });
});
