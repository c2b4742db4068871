import { NativeConnection } from '@temporalio/worker';
import { invoiceCloudConfigFromEnv } from '../activities/invoiceCloudConfig.js';
import { temporalSettingsFromEnv } from '../client/temporalConnection.js';
import { createDeductionWorker } from './createWorker.js';
import { createLogger, installRuntimeLogging } from './logging.js';

const logger = createLogger('worker');
installRuntimeLogging(logger);

try {
  const settings = temporalSettingsFromEnv();
  const invoiceCloud = invoiceCloudConfigFromEnv();
  const connection = await NativeConnection.connect({
    address: settings.address,
    ...(settings.tls ? { tls: settings.tls } : {}),
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
  });
  const worker = await createDeductionWorker({ connection, namespace: settings.namespace, invoiceCloud });
  logger.info(
    { address: settings.address, namespace: settings.namespace, invoiceCloud: invoiceCloud.baseUrl },
    'Worker started on task queue invoice-deduction',
  );
  await worker.run(); // Returns after SIGINT/SIGTERM, once in-flight tasks are done.
  await connection.close();
  logger.info('Worker stopped');
} catch (error) {
  logger.error({ err: error }, 'Worker failed');
  process.exitCode = 1;
}
