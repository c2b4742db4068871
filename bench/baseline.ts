import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createDeductionActivities } from '../activities/deductionActivities.js';
import { InvoiceCloudClient } from '../activities/invoiceCloudClient.js';
import { invoiceCloudConfigFromEnv } from '../activities/invoiceCloudConfig.js';
import { StatisticStatus } from '../protocol/codes.js';
import { sleep } from './figures.js';
import { PERIOD } from './stack.js';

export interface PollSchedule {
  initialIntervalMs: number;
  maximumIntervalMs: number;
  backoffCoefficient: number;
}

/**
 * The plain-script baseline: what a team might write without Temporal — one async function per
 * taxpayer-month, a loop with sleeps for every bureau task, the approval taken as given, no
 * durability. It makes the same calls through the same client (the activity functions, run
 * outside any worker), so the two runs differ only in what Temporal adds.
 */
export async function runBaselineMonths(
  baseUrl: string,
  taxNos: string[],
  options: { maxRps?: number; polling: PollSchedule; batchSize: number },
): Promise<{ months: number; failures: number }> {
  const config = invoiceCloudConfigFromEnv({
    INVOICE_CLOUD_BASE_URL: baseUrl,
    ...(options.maxRps ? { INVOICE_CLOUD_MAX_RPS: String(options.maxRps) } : {}),
  });
  const a = createDeductionActivities({ client: new InvoiceCloudClient(config), config });
  const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
  const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A) =>
    env.run(fn, ...args) as Promise<R>;

  /** Calls until the bureau stops answering "processing" (or a transient error), sleeping between. */
  async function untilDone<R>(call: () => Promise<R>): Promise<R> {
    let interval = options.polling.initialIntervalMs;
    for (;;) {
      try {
        return await call();
      } catch (error) {
        if (error instanceof ApplicationFailure && error.nonRetryable) throw error;
        await sleep(interval);
        interval = Math.min(interval * options.polling.backoffCoefficient, options.polling.maximumIntervalMs);
      }
    }
  }

  async function month(taxNo: string): Promise<void> {
    await untilDone(() => run(a.logInToBureau, { taxNo }));
    const period = await untilDone(() => run(a.queryTaxPeriod, { taxNo }));
    const input = {
      taxNo,
      taxPeriod: PERIOD,
      deductionDeadline: period.deductionDeadline,
      batchSize: options.batchSize,
      round: 1,
    };
    const submitted = await untilDone(() => run(a.submitSelection, input));
    await Promise.all(
      submitted.taskNos.map((taskNo) => untilDone(() => run(a.awaitSelectionResult, { taxNo, taskNo }))),
    );
    const before = await untilDone(() => run(a.queryStatistic, { taxNo }));
    if (before.statisticStatus !== StatisticStatus.Generated) {
      const { taskNo } = await untilDone(() =>
        run(a.requestStatisticOperation, { taxNo, operation: 'generate', ordinal: 1 }),
      );
      await untilDone(() => run(a.awaitStatisticTask, { taxNo, taskNo }));
      await untilDone(() => run(a.queryStatistic, { taxNo }));
    }
    // The approval: taken as given (the Temporal run's approver answers within a fraction of a second).
    await untilDone(() => run(a.queryStatistic, { taxNo }));
    const { taskNo } = await untilDone(() => run(a.requestConfirmation, { taxNo }));
    await untilDone(() => run(a.awaitConfirmation, { taxNo, taskNo }));
    await untilDone(() => run(a.queryStatistic, { taxNo }));
  }

  const outcomes = await Promise.allSettled(taxNos.map(month));
  return { months: taxNos.length, failures: outcomes.filter((o) => o.status === 'rejected').length };
}
