import { GracefulShutdownPeriodExpiredError, NativeConnection } from '@temporalio/worker';
import { invoiceCloudConfigFromEnv, type InvoiceCloudConfig } from '../activities/invoiceCloudConfig.js';
import { tenantsFileFromEnv, tenantsFromEnv } from '../config/loadTenants.js';
import { nativeConnectionOptions, temporalSettingsFromEnv } from '../runtime/temporalConnection.js';
import { createWorkerFleet, fleetState, runWorkers, type WorkerFleet } from './createWorker.js';
import { buildWorkerHttp } from './health.js';
import { createLogger, installRuntimeLogging } from '../runtime/logging.js';
import { createWorkerMetrics } from './metrics.js';
import { installTracingFromEnv } from '../runtime/tracing.js';
import { tenantTaskQueue } from '../workflows/contract.js';

const logger = createLogger('worker');
// METRICS_PORT: serve GET /health and GET /metrics (ours + the Temporal runtime's, which listens on
// TEMPORAL_METRICS_BIND, default 127.0.0.1:<METRICS_PORT + 1>).
const metricsPort = process.env.METRICS_PORT ? Number(process.env.METRICS_PORT) : undefined;
const temporalMetricsBind =
  process.env.TEMPORAL_METRICS_BIND ?? (metricsPort ? `127.0.0.1:${metricsPort + 1}` : undefined);
installRuntimeLogging(logger, { prometheusBindAddress: temporalMetricsBind });
const metrics = createWorkerMetrics();
let fleet: WorkerFleet | undefined;
const http = metricsPort
  ? await buildWorkerHttp({
      metrics,
      // RUNNING only while the main worker and every tenant's worker run.
      workerState: () => (fleet ? fleetState(fleet.all) : undefined),
      ...(temporalMetricsBind ? { temporalMetricsUrl: `http://${temporalMetricsBind}/metrics` } : {}),
    })
  : undefined;

try {
  // OTEL_EXPORTER_OTLP_ENDPOINT: traces of workflows and activities over OTLP (runtime/tracing.ts).
  const tracing = installTracingFromEnv('vat-deduction-worker');
  const settings = temporalSettingsFromEnv();
  const invoiceCloud = invoiceCloudConfigFromEnv();
  // INVOICE_CLOUD_TENANTS_FILE: more tenants, each on its own task queue (docs/tenants.md).
  const tenantsFile = tenantsFileFromEnv();
  const tenants = tenantsFromEnv();
  const connection = await NativeConnection.connect(nativeConnectionOptions(settings));
  if (metricsPort !== undefined && (!Number.isInteger(metricsPort) || metricsPort <= 0)) {
    throw new Error(`METRICS_PORT=${process.env.METRICS_PORT}: must be a port number`);
  }
  // WORKFLOW_BUNDLE_PATH: start from a prebuilt bundle (npm run bundle) instead of bundling now.
  const workflowBundlePath = process.env.WORKFLOW_BUNDLE_PATH?.trim() || undefined;
  fleet = await createWorkerFleet({
    connection,
    namespace: settings.namespace,
    invoiceCloud,
    metrics,
    tenants,
    ...(tenantsFile ? { tenantsFile } : {}),
    ...(workflowBundlePath ? { workflowBundlePath } : {}),
  });
  if (http) await http.listen({ port: metricsPort!, host: process.env.METRICS_HOST ?? '0.0.0.0' });
  logger.info(
    {
      address: settings.address,
      namespace: settings.namespace,
      invoiceCloud: invoiceCloud.baseUrl,
      sandboxMode: invoiceCloud.sandboxMode,
      ...quotaShare(invoiceCloud),
      ...(tenantsFile ? { tenantsFile, tenants: tenants.map((t) => t.id) } : {}),
    },
    'Worker started on task queue invoice-deduction',
  );
  for (const tenant of tenants) {
    logger.info(
      {
        tenant: tenant.id,
        taskQueue: tenantTaskQueue(tenant.id),
        invoiceCloud: tenant.invoiceCloud.baseUrl,
        sandboxMode: tenant.invoiceCloud.sandboxMode,
        ...quotaShare(tenant.invoiceCloud),
      },
      `Tenant ${tenant.id} served on task queue ${tenantTaskQueue(tenant.id)}`,
    );
  }
  if (http) logger.info({ port: metricsPort, workflowBundlePath }, 'Health and metrics at /health and /metrics');
  // Returns after SIGINT/SIGTERM once in-flight tasks are done or cancelled (createWorker.ts, ShutdownTimes).
  await runWorkers(fleet.all);
  await http?.close();
  await connection.close();
  await tracing?.shutdown();
  logger.info('Worker stopped');
} catch (error) {
  if (error instanceof GracefulShutdownPeriodExpiredError) {
    // Tasks still running are abandoned: Temporal hands them to another worker after their timeouts.
    logger.warn('Worker stopped without finishing its tasks within the shutdown force time');
    process.exit(1);
  }
  logger.error({ err: error }, 'Worker failed');
  process.exitCode = 1;
}

/** This process's share of a tenant's quota, for the start-up log (docs/fleet-quota.md). */
function quotaShare(config: InvoiceCloudConfig) {
  return config.quota
    ? {
        quotaRps: config.quota.tenantRequestsPerSecond,
        fleetSize: config.quota.fleetSize,
        maxRpsThisWorker: config.maxRequestsPerSecond,
      }
    : {};
}
