import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { InvoiceCloudError } from '../activities/invoiceCloudErrors.js';
import { mayStillLand, sendRecorded } from '../activities/writeIntent.js';

const SETTLE_MS = 600_000;

/** A write's intent in heartbeat details: kept when no answer came, cleared by an answered refusal. */
describe('activities/writeIntent: a write that got no answer is given time to land', () => {
  const AT = Date.UTC(2026, 11, 5, 2, 0);

  async function heartbeatsOf(failure: Error): Promise<unknown[]> {
    const env = new MockActivityEnvironment();
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(details));
    await assert.rejects(
      env.run(() =>
        sendRecorded('statistic-confirm', AT, () => {
          throw failure;
        }),
      ),
    );
    return beats;
  }

  it('keeps the intent after a lost reply, an unreadable one or a passing fault the cloud may have forwarded', async () => {
    const failures = [
      new InvoiceCloudError('retryable', 'statisticConfirm', 'HTTP_503', 'lost'),
      new InvoiceCloudError('retryable', 'statisticConfirm', 'NETWORK', 'no reply'),
      new InvoiceCloudError('protocol', 'statisticConfirm', 'BAD_REPLY', 'unreadable'),
      new InvoiceCloudError('protocol', 'statisticConfirm', 'BAD_ENVELOPE', 'an HTML page'),
      new InvoiceCloudError('retryable', 'statisticConfirm', '1001', '系统繁忙'),
    ];
    for (const failure of failures) {
      const beats = await heartbeatsOf(failure);
      assert.deepEqual(beats, [{ write: 'statistic-confirm', sentAt: AT }], failure.code);
    }
  });

  it('clears it when the bureau answered with a refusal', async () => {
    const beats = await heartbeatsOf(new InvoiceCloudError('business', 'statisticConfirm', '91000', '确认密码错误'));
    assert.deepEqual(beats.at(-1), { write: 'statistic-confirm', answered: true });
  });

  it('a later attempt waits while the intent is recent, and not for another write or after the settle time', async () => {
    const details = { write: 'statistic-confirm', sentAt: AT };
    const attempt = (write: string, now: number) =>
      new MockActivityEnvironment({ heartbeatDetails: details }).run(async () => mayStillLand(write, now, SETTLE_MS));
    assert.equal(await attempt('statistic-confirm', AT + 60_000), true);
    assert.equal(await attempt('statistic-confirm', AT + SETTLE_MS), false);
    assert.equal(await attempt('statistic-generate-1', AT + 60_000), false);
    const answered = new MockActivityEnvironment({ heartbeatDetails: { write: 'statistic-confirm', answered: true } });
    assert.equal(await answered.run(async () => mayStillLand('statistic-confirm', AT + 1000, SETTLE_MS)), false);
  });
});
