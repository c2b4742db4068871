import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ConnectionLike } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { temporalCliPath } from '../../scripts/temporalTools.js';
import { createDeductionWorker } from '../../workers/createWorker.js';
import { workerDeploymentFromEnv, type WorkerDeployment } from '../../workers/deployment.js';
import type { RunningWorker, TestStack } from './stack.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A worker of the stack, built by createDeductionWorker, polling as the deployment version that
 * workers/deployment.ts reads from `env`.
 */
export async function startVersionedWorker(
  stack: TestStack,
  env: Record<string, string>,
): Promise<RunningWorker & { deployment: WorkerDeployment }> {
  const deployment = workerDeploymentFromEnv(env);
  const native = await NativeConnection.connect({ address: stack.temporal.address });
  const worker = await createDeductionWorker({
    connection: native,
    namespace: stack.temporal.namespace,
    invoiceCloud: stack.invoiceCloud,
    dataConverter: {},
    deployment,
  });
  const running = worker.run();
  return {
    worker,
    deployment,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await native.close();
    },
  };
}

/** `temporal <args>` against the stack's server; its stdout. */
export async function temporalCli(stack: TestStack, ...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(
    temporalCliPath(),
    [...args, '--address', stack.temporal.address, '--namespace', stack.temporal.namespace],
    { encoding: 'utf8' },
  );
  return stdout;
}

/**
 * Waits until the deployment routes to `buildId` (undefined: to unversioned workers) and the
 * change has reached the task queues: the server applies it asynchronously.
 */
export async function waitForCurrentVersion(
  connection: ConnectionLike,
  namespace: string,
  deploymentName: string,
  buildId: string | undefined,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = '';
  while (Date.now() < deadline) {
    const { workerDeploymentInfo: info } = await connection.workflowService.describeWorkerDeployment({
      namespace,
      deploymentName,
    });
    const current = info?.routingConfig?.currentDeploymentVersion?.buildId || undefined;
    const completed = info?.routingConfigUpdateState === 2; // ROUTING_CONFIG_UPDATE_STATE_COMPLETED
    if (current === buildId && completed) return;
    seen = `current ${current ?? 'unversioned'}, update state ${info?.routingConfigUpdateState}`;
    await sleep(200);
  }
  throw new Error(`${deploymentName} did not route to ${buildId ?? 'unversioned'} in ${timeoutMs} ms (${seen})`);
}

/** Waits until a worker of `deploymentName`/`buildId` polls `taskQueue` for workflow and activity tasks. */
export async function waitForPollers(
  stack: TestStack,
  deploymentName: string,
  buildId: string,
  taskQueue: string,
  timeoutMs = 30_000,
): Promise<{ name: string; type: string }[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const version = JSON.parse(
        await temporalCli(
          stack,
          'worker',
          'deployment',
          'describe-version',
          '--deployment-name',
          deploymentName,
          '--build-id',
          buildId,
          '--output',
          'json',
        ),
      ) as { taskQueuesInfos?: { name: string; type: string }[] };
      const queues = (version.taskQueuesInfos ?? []).filter((q) => q.name === taskQueue);
      if (queues.some((q) => q.type === 'workflow') && queues.some((q) => q.type === 'activity')) return queues;
    } catch (error) {
      // The version exists once its first poll reached the server.
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`no worker of ${deploymentName}.${buildId} polls ${taskQueue}`);
    await sleep(250);
  }
}
