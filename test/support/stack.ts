import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { AxiosInstance } from 'axios';
import { InvoiceCloudClient } from '../../activities/invoiceCloudClient.js';
import { logSink } from './logSink.js';
import { NativeConnection, type Worker, type WorkerInterceptors } from '@temporalio/worker';
import { invoiceCloudConfigFromEnv, type InvoiceCloudConfig } from '../../activities/invoiceCloudConfig.js';
import { startDevServer, type DevServer } from '../../scripts/devServer.js';
import { SandboxAdmin } from '../../simulator/adminClient.js';
import { startSandbox } from '../../simulator/server.js';
import { createDeductionWorker } from '../../workers/createWorker.js';
import { createLogger, installRuntimeLogging } from '../../runtime/logging.js';

export interface RunningWorker {
  worker: Worker;
  stop(): Promise<void>;
}

export interface TestStack {
  temporal: DevServer;
  sandboxUrl: string;
  admin: SandboxAdmin;
  client: Client;
  invoiceCloud: InvoiceCloudConfig;
  startWorker(): Promise<RunningWorker>;
  runningWorkers(): RunningWorker[];
  stop(): Promise<void>;
}

/** Runtime logs of the test process go to an in-memory sink (test/support/logSink.ts). */
export function installTestLogging(): void {
  process.env.LOG_LEVEL ??= 'debug';
  installRuntimeLogging(createLogger('test', logSink));
}

export interface StackOptions {
  /** Payload encryption for the worker and the client (default: none). */
  dataConverter?: DataConverter;
  /** Extra INVOICE_CLOUD_* settings for the worker. */
  invoiceCloudEnv?: Record<string, string>;
  /** Worker interceptors (e.g. injected crashes). */
  interceptors?: WorkerInterceptors;
  /** Wraps the invoice-cloud client the workers use (e.g. to observe tokens). */
  http?: AxiosInstance;
}

/**
 * The real parts on loopback: a Temporal dev server (in memory), the invoice-cloud sandbox (in
 * memory) and workers started on demand, wired as production wires them.
 */
export async function startStack(options: StackOptions = {}): Promise<TestStack> {
  installTestLogging();
  const temporal = await startDevServer({ headless: true });
  const sandbox = await startSandbox({ port: 0, dbFile: ':memory:' });
  const admin = new SandboxAdmin(sandbox.url);
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection, namespace: temporal.namespace, dataConverter: options.dataConverter ?? {} });
  const invoiceCloud = invoiceCloudConfigFromEnv({ ...options.invoiceCloudEnv, INVOICE_CLOUD_BASE_URL: sandbox.url });
  const workers = new Set<RunningWorker>();

  async function startWorker(): Promise<RunningWorker> {
    const native = await NativeConnection.connect({ address: temporal.address });
    const worker = await createDeductionWorker({
      connection: native,
      namespace: temporal.namespace,
      invoiceCloud,
      dataConverter: options.dataConverter ?? {},
      ...(options.interceptors ? { interceptors: options.interceptors } : {}),
      ...(options.http ? { client: new InvoiceCloudClient(invoiceCloud, options.http) } : {}),
    });
    const running = worker.run();
    const handle: RunningWorker = {
      worker,
      async stop() {
        workers.delete(handle);
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
        await native.close();
      },
    };
    workers.add(handle);
    return handle;
  }

  return {
    temporal,
    sandboxUrl: sandbox.url,
    admin,
    client,
    invoiceCloud,
    startWorker,
    runningWorkers: () => [...workers],
    async stop() {
      for (const w of [...workers]) await w.stop();
      await connection.close();
      await sandbox.close();
      await temporal.stop();
    },
  };
}
