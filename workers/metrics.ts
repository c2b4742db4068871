/**
 * Our own metrics, counted by an activity interceptor so the activities stay free of bookkeeping,
 * on the Temporal runtime's metric meter: they leave through the same exporter as the SDK's own
 * (the runtime's Prometheus endpoint, TEMPORAL_METRICS_BIND, merged into /metrics by
 * workers/health.ts); and the activity log attributes every line carries (taxNo, period).
 * The process metrics (vat_worker_*, prom-client) stay in `registry`.
 */
import { Context } from '@temporalio/activity';
import {
  ApplicationFailure,
  ApplicationFailureCategory,
  type MetricCounter,
  type MetricMeter,
} from '@temporalio/common';
import { type ActivityInterceptorsFactory, Runtime } from '@temporalio/worker';
import { collectDefaultMetrics, Registry } from 'prom-client';

/** A counter of the runtime's meter, created on first use (inside an activity, the runtime is installed). */
export interface RuntimeCounter<L extends string> {
  add(value: number, labels?: Record<L, string>): void;
}

export interface WorkerMetrics {
  /** Process metrics (vat_worker_*). */
  registry: Registry;
  invoicesSelected: RuntimeCounter<never>;
  bureauErrors: RuntimeCounter<'interface' | 'code'>;
  taskPolls: RuntimeCounter<'activity'>;
  replyDrift: RuntimeCounter<'interface' | 'field' | 'kind'>;
}

/** Activities that ask the bureau whether a task is done: each attempt is one poll. */
const POLLING_ACTIVITIES = new Set([
  'awaitSelectionResult',
  'awaitStatisticTask',
  'awaitStatisticSettled',
  'awaitConfirmation',
]);

/**
 * `meter`: the runtime's own by default. The activity context's meter would add its namespace,
 * task_queue and activity_type tags to every series; the runtime's keeps the documented labels.
 */
export function createWorkerMetrics(meter: () => MetricMeter = () => Runtime.instance().metricMeter): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'vat_worker_' });
  const counter = <L extends string>(name: string, description: string): RuntimeCounter<L> => {
    let created: MetricCounter | undefined;
    return {
      add(value, labels) {
        created ??= meter().createCounter(name, undefined, description);
        created.add(value, labels);
      },
    };
  };
  return {
    registry,
    invoicesSelected: counter('vat_invoices_selected_total', 'Invoices the bureau reported selected (勾选成功)'),
    bureauErrors: counter(
      'vat_bureau_errors_total',
      'Errors returned by the invoice cloud or the bureau, by interface and code (a task still processing, 6910, is a poll, not an error)',
    ),
    replyDrift: counter(
      'vat_invoice_cloud_reply_drift_total',
      'Replies that differ from the documented shape (unexpected or missing field, unknown code), by interface and field',
    ),
    taskPolls: counter('vat_bureau_task_polls_total', 'Polls of a bureau task result, by polling activity'),
  };
}

/** `deduction-<taxNo>-<YYYYMM>` → its parts (other workflow ids give nothing). */
export function deductionIdParts(workflowId: string | undefined): { taxNo?: string; taxPeriod?: string } {
  const match = /^deduction-([0-9A-Z]{18})-(\d{6})$/.exec(workflowId ?? '');
  return match ? { taxNo: match[1], taxPeriod: match[2] } : {};
}

/**
 * Adds taxNo and taxPeriod to every activity log line (the SDK already adds workflowId and the
 * activity type) and counts metrics when `metrics` is given.
 */
export function observabilityInterceptors(metrics?: WorkerMetrics): ActivityInterceptorsFactory {
  return (ctx: Context) => {
    const info = ctx.info;
    const attributes = deductionIdParts(info.workflowExecution?.workflowId);
    return {
      inbound: {
        async execute(input, next) {
          const arg = input.args[0] as { taxNo?: unknown } | undefined;
          if (!attributes.taxNo && typeof arg?.taxNo === 'string') attributes.taxNo = arg.taxNo;
          if (POLLING_ACTIVITIES.has(info.activityType)) metrics?.taskPolls.add(1, { activity: info.activityType });
          try {
            const result = await next(input);
            if (info.activityType === 'awaitSelectionResult') {
              const selected = (result as { selected?: unknown } | undefined)?.selected;
              if (typeof selected === 'number' && selected > 0) metrics?.invoicesSelected.add(selected);
            }
            return result;
          } catch (err) {
            // A task still processing (a benign failure) is counted as a poll above, not as an error.
            if (metrics && err instanceof ApplicationFailure && err.category !== ApplicationFailureCategory.BENIGN) {
              const detail = err.details?.[0] as { interfaceCode?: unknown; code?: unknown } | undefined;
              if (detail && typeof detail.code === 'string') {
                metrics.bureauErrors.add(1, {
                  interface: String(detail.interfaceCode ?? 'unknown'),
                  code: detail.code,
                });
              }
            }
            throw err;
          }
        },
      },
      outbound: {
        getLogAttributes(input, next) {
          return next({ ...input, ...attributes });
        },
      },
    };
  };
}
