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
import { Context } from '@temporalio/activity';
import { InvoiceCloudClient, type InvoiceCloudObserver } from '../activities/invoiceCloudClient.js';
import type { InvoiceCloudConfig } from '../activities/invoiceCloudConfig.js';
import {
  createNotificationActivities,
  notificationConfigFromEnv,
  type NotificationConfig,
} from '../activities/notifications.js';
import type { DataConverter } from '@temporalio/common';
import { dataConverterFromEnv } from '../security/payloadKeys.js';
import { observabilityInterceptors, type WorkerMetrics } from './metrics.js';
import { TASK_QUEUE } from '../workflows/contract.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

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
  /** Prometheus counters to feed (workers/metrics.ts); log attributes are added either way. */
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
   * The Temporal client the launcher's lookups use (activities/monthLookup.ts); default: one on the
   * worker's own connection and namespace, with the worker's data converter.
   */
  temporalClient?: Client;
}

const DEFAULT_MAX_CACHED_WORKFLOWS = 50;

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
      metrics?.replyDrift.inc({ interface: drift.interfaceCode, field: drift.field, kind: drift.kind });
      // Inside an activity (always, on a worker): the activity's logger, with its workflow and taxNo.
      Context.current().log.warn('The invoice cloud answered differently from the documented shape', {
        ...drift,
        captureFile,
      });
    },
  };
}

/** A worker on the `invoice-deduction` queue with the bureau activities wired to the invoice cloud. */
export async function createDeductionWorker(options: DeductionWorkerOptions): Promise<Worker> {
  const client =
    options.client ??
    new InvoiceCloudClient(options.invoiceCloud, undefined, undefined, driftObserver(options.metrics));
  const dataConverter = options.dataConverter ?? dataConverterFromEnv();

  const temporalClient =
    options.temporalClient ??
    new Client({ connection: options.connection, namespace: options.namespace, dataConverter });
  return Worker.create({
    dataConverter,
    interceptors: {
      ...options.interceptors,
      activity: [observabilityInterceptors(options.metrics), ...(options.interceptors?.activity ?? [])],
    },
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    ...(options.identity ? { identity: options.identity } : {}),
    workflowBundle: options.workflowBundlePath
      ? { codePath: prebuiltBundle(options.workflowBundlePath, Boolean(dataConverter.failureConverterPath)) }
      : await workflowBundle(dataConverter.failureConverterPath),
    maxCachedWorkflows: options.maxCachedWorkflows ?? maxCachedWorkflowsFromEnv(),
    activities: {
      ...createDeductionActivities({ client, config: options.invoiceCloud }),
      ...createNotificationActivities(options.notifications ?? notificationConfigFromEnv()),
      ...createAccountingActivities({
        client,
        rulesFile: options.accountingRulesFile ?? process.env.ACCOUNTING_RULES_FILE,
      }),
      ...createMonthLookupActivities(temporalClient),
    },
  });
}
