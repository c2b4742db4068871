import { NativeConnection } from '@temporalio/worker';
import { invoiceCloudConfigFromEnv } from '../activities/invoiceCloudConfig.js';
import { createDeductionWorker } from './createWorker.js';
import { createLogger, installRuntimeLogging } from './logging.js';

const logger = createLogger('worker');
installRuntimeLogging(logger);

const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';

try {
  const invoiceCloud = invoiceCloudConfigFromEnv();
  const connection = await NativeConnection.connect({ address });
  const worker = await createDeductionWorker({ connection, namespace, invoiceCloud });
  logger.info(
    { address, namespace, invoiceCloud: invoiceCloud.baseUrl },
    'Worker started on task queue invoice-deduction',
  );
  await worker.run(); // Returns after SIGINT/SIGTERM, once in-flight tasks are done.
  await connection.close();
  logger.info('Worker stopped');
} catch (error) {
  logger.error({ err: error }, 'Worker failed');
  process.exitCode = 1;
}
