/**
 * A worker process for tests that read the Temporal runtime's own metrics (temporal_*): the runtime
 * takes its Prometheus exporter when it is installed, once per process, which a test process that
 * already runs workers cannot do again. It serves /metrics as the production worker does (ours and
 * the runtime's: workers/health.ts) and logs JSON lines to stdout at LOG_LEVEL.
 *
 * The activities live on the clock the sandbox follows (its /health), so on the time-skipping
 * server they see the server's time, as test/support/serverTimeWorker.ts does in-process.
 *
 * Environment: TEMPORAL_ADDRESS, SANDBOX_URL, METRICS_PORT, TEMPORAL_METRICS_BIND.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { createDeductionActivities } from '../../activities/deductionActivities.js';
import { InvoiceCloudClient } from '../../activities/invoiceCloudClient.js';
import { invoiceCloudConfigFromEnv } from '../../activities/invoiceCloudConfig.js';
import { workflowBundle } from '../../workers/createWorker.js';
import { buildWorkerHttp } from '../../workers/health.js';
import { createLogger, installRuntimeLogging } from '../../runtime/logging.js';
import { createWorkerMetrics, observabilityInterceptors } from '../../workers/metrics.js';
import { TASK_QUEUE } from '../../workflows/contract.js';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set`);
  return value;
}

const sandboxUrl = required('SANDBOX_URL');
const metricsBind = required('TEMPORAL_METRICS_BIND');
const logger = createLogger('worker');
installRuntimeLogging(logger, { prometheusBindAddress: metricsBind });
const metrics = createWorkerMetrics();

const clock = { ms: Date.now() };
async function refreshClock(): Promise<void> {
  const health = (await (await fetch(`${sandboxUrl}/health`)).json()) as { now: string };
  clock.ms = Date.parse(health.now);
}

const invoiceCloud = invoiceCloudConfigFromEnv({ INVOICE_CLOUD_BASE_URL: sandboxUrl });
const activities = createDeductionActivities({
  client: new InvoiceCloudClient(invoiceCloud),
  config: invoiceCloud,
  now: () => new Date(clock.ms),
});
const onSandboxTime = Object.fromEntries(
  Object.entries(activities).map(([name, fn]) => [
    name,
    async (...args: unknown[]) => {
      await refreshClock();
      return (fn as (...a: unknown[]) => unknown)(...args);
    },
  ]),
);

const connection = await NativeConnection.connect({ address: required('TEMPORAL_ADDRESS') });
const worker = await Worker.create({
  connection,
  taskQueue: TASK_QUEUE,
  workflowBundle: await workflowBundle(),
  activities: onSandboxTime,
  interceptors: { activity: [observabilityInterceptors(metrics)] },
});
const http = await buildWorkerHttp({
  metrics,
  workerState: () => worker.getState(),
  temporalMetricsUrl: `http://${metricsBind}/metrics`,
});
await http.listen({ port: Number(required('METRICS_PORT')), host: '127.0.0.1' });
logger.info('Metrics worker started');
await worker.run();
await http.close();
await connection.close();
