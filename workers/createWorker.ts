import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Worker,
  type WorkerInterceptors,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import { createAccountingActivities } from '../activities/accountingActivities.js';
import { createDeductionActivities } from '../activities/deductionActivities.js';
import { createMonthLookupActivities } from '../activities/monthLookup.js';
import { z } from 'zod';
import { Context } from '@temporalio/activity';
import { InvoiceCloudClient, type InvoiceCloudObserver } from '../activities/invoiceCloudClient.js';
import type { InvoiceCloudConfig } from '../activities/invoiceCloudConfig.js';
import {
  createNotificationActivities,
  notificationConfigFromEnv,
  type NotificationConfig,
} from '../activities/notifications.js';
import type { DataConverter } from '@temporalio/common';
import { createTenantActivities } from '../activities/tenantActivities.js';
import type { TenantConfig } from '../config/loadTenants.js';
import { dataConverterFromEnv } from '../security/payloadKeys.js';
import { observabilityInterceptors, type WorkerMetrics } from './metrics.js';
import { workerTuner } from './quotaSlots.js';
import { activityTracingInterceptors, WORKFLOW_TRACING_MODULE, workflowTracingSinks } from '../runtime/tracing.js';
import { TASK_QUEUE, tenantTaskQueue } from '../workflows/contract.js';
import { workerDeploymentFromEnv, type WorkerDeployment } from './deployment.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
/** Bundled with the workflow code: tracing (engaged only for runs started in a trace, runtime/tracing.ts). */
export const WORKFLOW_INTERCEPTOR_MODULES = [WORKFLOW_TRACING_MODULE];

/** The bundler's webpack report is noise for operators; warnings and errors still show. */
const quietBundlerLogger = new DefaultLogger('WARN');

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();
/**
 * The workflow bundle, built once per process and failure converter: the workflow code converts
 * its own failures, so encoding failure messages (payload encryption) is decided when bundling.
 */
export function workflowBundle(failureConverterPath?: string): Promise<WorkflowBundleWithSourceMap> {
  const key = failureConverterPath ?? '';
  let bundle = bundles.get(key);
  if (!bundle) {
    bundle = bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
      logger: quietBundlerLogger,
      ...(failureConverterPath ? { failureConverterPath } : {}),
    });
    bundles.set(key, bundle);
  }
  return bundle;
}

/**
 * `npm run bundle` writes two bundles side by side: `<name>.js`, and `<name>.encoded-failures.js`
 * for workers with payload encryption (security/failureConverter.ts). A worker given the first
 * loads the one its data converter needs.
 */
export function encodedFailuresBundlePath(bundlePath: string): string {
  if (bundlePath.endsWith(ENCODED_FAILURES_SUFFIX)) return bundlePath;
  return bundlePath.replace(/(\.js)?$/, ENCODED_FAILURES_SUFFIX);
}
const ENCODED_FAILURES_SUFFIX = '.encoded-failures.js';

function prebuiltBundle(bundlePath: string, encodeFailures: boolean): string {
  const path = encodeFailures ? encodedFailuresBundlePath(bundlePath) : bundlePath;
  if (!existsSync(path)) {
    throw new Error(
      `WORKFLOW_BUNDLE_PATH=${bundlePath}: ${path} does not exist` +
        (encodeFailures ? ' (payload encryption needs the bundle with encoded failures; run npm run bundle)' : ''),
    );
  }
  return path;
}

export interface DeductionWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  invoiceCloud: InvoiceCloudConfig;
  taskQueue?: string;
  identity?: string;
  /** Auto-accounting rules for runs that carry none; default: env ACCOUNTING_RULES_FILE. */
  accountingRulesFile?: string;
  /** Payload encryption; default: from the environment (security/payloadKeys.ts). */
  dataConverter?: DataConverter;
  /** Extra worker interceptors (tests inject crashes with these). */
  interceptors?: WorkerInterceptors;
  /** The invoice-cloud client; default: one built from `invoiceCloud`. */
  client?: InvoiceCloudClient;
  /** Our counters (workers/metrics.ts, on the runtime's meter); log attributes are added either way. */
  metrics?: WorkerMetrics;
  /** Approver notification webhooks; default: NOTIFY_WEBHOOK_URL, NOTIFY_WEBHOOKS, INBOX_URL. */
  notifications?: NotificationConfig;
  /** A prebuilt workflow bundle (scripts/bundle.ts); default: bundled at start. */
  workflowBundlePath?: string;
  /**
   * Workflows kept in memory between tasks (the sticky cache); default WORKER_MAX_CACHED_WORKFLOWS
   * or 50. A month parks for days awaiting approval: one evicted from the cache costs a short
   * replay when its signal arrives, while a cache sized by the SDK's default (a share of the heap)
   * holds thousands of parked months at ~2.4 MiB each (BENCHMARKS.md, parked workflows).
   */
  maxCachedWorkflows?: number;
  /**
   * Workflow tasks the worker takes at once; default WORKER_MAX_CONCURRENT_WORKFLOW_TASKS or 10.
   * Workflow code runs on one thread, and a task for a month not in the sticky cache replays its
   * history first: a worker that takes more tasks than it finishes within the workflow task
   * timeout (10 s) loses them to the timeout and redoes them (docs/reliability.md, "Workflow task
   * slots").
   */
  maxConcurrentWorkflowTasks?: number;
  /**
   * The Temporal client the launcher's lookups use (activities/monthLookup.ts); default: one on the
   * worker's own connection and namespace, with the worker's data converter.
   */
  temporalClient?: Client;
  /** Worker shutdown; default: WORKER_SHUTDOWN_GRACE_SECONDS / WORKER_SHUTDOWN_FORCE_SECONDS or SHUTDOWN_DEFAULTS. */
  shutdown?: ShutdownTimes;
  /** Worker Deployment Versioning (workers/deployment.ts); default: WORKER_VERSIONING, WORKER_DEPLOYMENT_NAME, WORKER_BUILD_ID. */
  deployment?: WorkerDeployment;
  /**
   * The tenants of the tenants file these workers serve (docs/tenants.md): the main worker answers
   * a run naming any other tenant with UnknownTenant. Default: none.
   */
  tenants?: readonly TenantConfig[];
  /** The tenants file they came from, for that answer. */
  tenantsFile?: string;
}

const DEFAULT_MAX_CACHED_WORKFLOWS = 50;
const DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS = 10;

/**
 * How a worker stops (SIGTERM, SIGINT): it takes no new task at once; activities running get
 * `graceMs` to finish, then their cancellation signal aborts every bureau call and quota wait still
 * going (a selection keeps its heartbeat details, and its next attempt on another worker resumes
 * from them); past `forceMs` the worker gives up draining and the process exits. Both stay below the
 * container's stop timeout (docker-compose.yml `stop_grace_period`, 30 s), after which the
 * container is killed. The grace is the invoice cloud's call timeout (INVOICE_CLOUD_TIMEOUT_MS,
 * default 15 s): a call sent before the stop gets its answer, so a write rarely stays in doubt.
 */
export interface ShutdownTimes {
  graceMs: number;
  forceMs: number;
}
export const SHUTDOWN_DEFAULTS: ShutdownTimes = { graceMs: 15_000, forceMs: 25_000 };

/**
 * The longest a heartbeat waits to be sent after the last one (the SDK's throttle). Temporal
 * delivers an activity's cancellation in the answer to a heartbeat, so this bounds how long a
 * cancelled selection, which heartbeats every second (activities/selectionProgress.ts), goes on.
 */
export const MAX_HEARTBEAT_THROTTLE_MS = 2000;

function secondsFromEnv(name: string, fallbackMs: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallbackMs;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new Error(`${name}=${raw}: must be a number of seconds (0 or more)`);
  }
  return Math.round(seconds * 1000);
}

/** The shutdown times from WORKER_SHUTDOWN_GRACE_SECONDS and WORKER_SHUTDOWN_FORCE_SECONDS, or the defaults. */
export function shutdownTimesFromEnv(): ShutdownTimes {
  return checkedShutdownTimes({
    graceMs: secondsFromEnv('WORKER_SHUTDOWN_GRACE_SECONDS', SHUTDOWN_DEFAULTS.graceMs),
    forceMs: secondsFromEnv('WORKER_SHUTDOWN_FORCE_SECONDS', SHUTDOWN_DEFAULTS.forceMs),
  });
}

function checkedShutdownTimes(times: ShutdownTimes): ShutdownTimes {
  if (times.forceMs <= times.graceMs) {
    throw new Error(
      `worker shutdown: the force time (${times.forceMs / 1000} s, WORKER_SHUTDOWN_FORCE_SECONDS) must be longer than the grace time (${times.graceMs / 1000} s, WORKER_SHUTDOWN_GRACE_SECONDS)`,
    );
  }
  return times;
}

/** Workflow tasks at once: the SDK needs one slot for the sticky poll and one for the normal one. */
const WorkflowTaskSlots = z.coerce.number().int().min(2);

/** WORKER_MAX_CONCURRENT_WORKFLOW_TASKS, or 10. */
export function workflowTaskSlotsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS?.trim();
  if (raw === undefined || raw === '') return DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS;
  const parsed = WorkflowTaskSlots.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `WORKER_MAX_CONCURRENT_WORKFLOW_TASKS=${raw}: must be a whole number of at least 2 (one sticky and one normal poll)`,
    );
  }
  return parsed.data;
}

function maxCachedWorkflowsFromEnv(): number {
  const raw = process.env.WORKER_MAX_CACHED_WORKFLOWS;
  if (raw === undefined || raw === '') return DEFAULT_MAX_CACHED_WORKFLOWS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`WORKER_MAX_CACHED_WORKFLOWS=${raw}: must be a whole number (0 disables the cache)`);
  }
  return value;
}

/** Drift in the invoice cloud's replies: one warning per interface and field, and a metric. */
function driftObserver(metrics?: WorkerMetrics): InvoiceCloudObserver {
  return {
    onDrift(drift, captureFile) {
      metrics?.replyDrift.add(1, { interface: drift.interfaceCode, field: drift.field, kind: drift.kind });
      // Inside an activity (always, on a worker): the activity's logger, with its workflow and taxNo.
      Context.current().log.warn('The invoice cloud answered differently from the documented shape', {
        ...drift,
        captureFile,
      });
    },
  };
}

/** What every worker of a process shares: payload encryption, interceptors, shutdown and deployment. */
function commonWorkerOptions(options: DeductionWorkerOptions) {
  const dataConverter = options.dataConverter ?? dataConverterFromEnv();
  const shutdown = options.shutdown ? checkedShutdownTimes(options.shutdown) : shutdownTimesFromEnv();
  const deployment = options.deployment ?? workerDeploymentFromEnv();
  return {
    dataConverter,
    interceptors: {
      ...options.interceptors,
      activity: [
        activityTracingInterceptors,
        observabilityInterceptors(options.metrics),
        ...(options.interceptors?.activity ?? []),
      ],
    },
    connection: options.connection,
    namespace: options.namespace,
    ...(options.identity ? { identity: options.identity } : {}),
    shutdownGraceTime: shutdown.graceMs,
    shutdownForceTime: shutdown.forceMs,
    maxHeartbeatThrottleInterval: MAX_HEARTBEAT_THROTTLE_MS,
    ...deployment.workerOptions,
  };
}

/** The activities that call one tenant's invoice cloud (deduction and accounting). */
function bureauActivities(client: InvoiceCloudClient, config: InvoiceCloudConfig, options: DeductionWorkerOptions) {
  return {
    ...createDeductionActivities({ client, config }),
    ...createAccountingActivities({
      client,
      rulesFile: options.accountingRulesFile ?? process.env.ACCOUNTING_RULES_FILE,
    }),
  };
}

/**
 * A worker on the `invoice-deduction` queue: the workflows, the default tenant's bureau activities
 * (the INVOICE_CLOUD_* environment), notices, lookups and the tenant check.
 */
export async function createDeductionWorker(options: DeductionWorkerOptions): Promise<Worker> {
  const client =
    options.client ??
    new InvoiceCloudClient(options.invoiceCloud, undefined, undefined, driftObserver(options.metrics));
  const common = commonWorkerOptions(options);
  const temporalClient =
    options.temporalClient ??
    new Client({ connection: options.connection, namespace: options.namespace, dataConverter: common.dataConverter });
  return Worker.create({
    ...common,
    sinks: workflowTracingSinks(),
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    workflowBundle: options.workflowBundlePath
      ? { codePath: prebuiltBundle(options.workflowBundlePath, Boolean(common.dataConverter.failureConverterPath)) }
      : await workflowBundle(common.dataConverter.failureConverterPath),
    maxCachedWorkflows: options.maxCachedWorkflows ?? maxCachedWorkflowsFromEnv(),
    // With a quota: polls for activities only while its share could send at once (docs/fleet-quota.md).
    tuner: workerTuner(options.maxConcurrentWorkflowTasks ?? workflowTaskSlotsFromEnv(), client.quotaLimiter),
    activities: {
      ...bureauActivities(client, options.invoiceCloud, options),
      ...createNotificationActivities(options.notifications ?? notificationConfigFromEnv()),
      ...createMonthLookupActivities(temporalClient),
      ...createTenantActivities(
        (options.tenants ?? []).map((t) => t.id),
        options.tenantsFile,
      ),
    },
  });
}

/**
 * An activity-only worker on a tenant's queue (`<queue>.tenant.<id>`), with that tenant's
 * invoice-cloud client and its own quota tuner: it polls only for that tenant, so one tenant's
 * backlog, outage or spent quota never holds the pollers of another (docs/tenants.md).
 */
export async function createTenantWorker(options: DeductionWorkerOptions, tenant: TenantConfig): Promise<Worker> {
  const client = new InvoiceCloudClient(tenant.invoiceCloud, undefined, undefined, driftObserver(options.metrics));
  return Worker.create({
    ...commonWorkerOptions(options),
    taskQueue: tenantTaskQueue(tenant.id, options.taskQueue ?? TASK_QUEUE)!,
    // An activity-only worker: it registers no workflow, so its workflow slots stay unused.
    tuner: workerTuner(2, client.quotaLimiter),
    activities: bureauActivities(client, tenant.invoiceCloud, options),
  });
}

/** The main worker and one activity worker per tenant of `options.tenants`, on one connection. */
export interface WorkerFleet {
  main: Worker;
  tenants: { id: string; worker: Worker }[];
  all: Worker[];
}

export async function createWorkerFleet(options: DeductionWorkerOptions): Promise<WorkerFleet> {
  const common = {
    ...options,
    // Resolved once, so that every worker of the process has the same.
    dataConverter: options.dataConverter ?? dataConverterFromEnv(),
    shutdown: options.shutdown ?? shutdownTimesFromEnv(),
    deployment: options.deployment ?? workerDeploymentFromEnv(),
  };
  const main = await createDeductionWorker(common);
  const tenants: WorkerFleet['tenants'] = [];
  for (const tenant of options.tenants ?? []) {
    tenants.push({ id: tenant.id, worker: await createTenantWorker(common, tenant) });
  }
  return { main, tenants, all: [main, ...tenants.map((t) => t.worker)] };
}

/** RUNNING while every worker runs; otherwise the state of the first that does not. */
export function fleetState(workers: readonly Worker[]): string | undefined {
  if (workers.length === 0) return undefined;
  return workers.map((w) => w.getState()).find((state) => state !== 'RUNNING') ?? 'RUNNING';
}

/**
 * Runs the workers together until they stop (SIGINT / SIGTERM stop every one, each with the
 * shutdown times). When one fails, the others are shut down too, so the process never goes on
 * serving some tenants only; the first failure is rethrown once all have stopped.
 */
export async function runWorkers(workers: readonly Worker[]): Promise<void> {
  const runs = workers.map((w) => w.run());
  try {
    await Promise.all(runs);
  } catch (error) {
    for (const w of workers) {
      if (w.getState() === 'RUNNING') w.shutdown();
    }
    await Promise.allSettled(runs);
    throw error;
  }
}
