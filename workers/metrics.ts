/**
 * Our own Prometheus metrics (prom-client), counted by an activity interceptor so the activities
 * stay free of bookkeeping; and the activity log attributes every line carries (taxNo, period).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { Counter, collectDefaultMetrics, Registry } from 'prom-client';

export interface WorkerMetrics {
  registry: Registry;
  invoicesSelected: Counter;
  bureauErrors: Counter<'interface' | 'code'>;
  taskPolls: Counter<'activity'>;
  replyDrift: Counter<'interface' | 'field' | 'kind'>;
}

/** Activities that ask the bureau whether a task is done: each attempt is one poll. */
const POLLING_ACTIVITIES = new Set([
  'awaitSelectionResult',
  'awaitStatisticTask',
  'awaitStatisticSettled',
  'awaitConfirmation',
]);

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'vat_worker_' });
  return {
    registry,
    invoicesSelected: new Counter({
      name: 'vat_invoices_selected_total',
      help: 'Invoices the bureau reported selected (勾选成功)',
      registers: [registry],
    }),
    bureauErrors: new Counter({
      name: 'vat_bureau_errors_total',
      help: 'Errors returned by the invoice cloud or the bureau, by interface and code (a task still processing, 6910, is a poll, not an error)',
      labelNames: ['interface', 'code'],
      registers: [registry],
    }),
    replyDrift: new Counter({
      name: 'vat_invoice_cloud_reply_drift_total',
      help: 'Replies that differ from the documented shape (unexpected or missing field, unknown code), by interface and field',
      labelNames: ['interface', 'field', 'kind'],
      registers: [registry],
    }),
    taskPolls: new Counter({
      name: 'vat_bureau_task_polls_total',
      help: 'Polls of a bureau task result, by polling activity',
      labelNames: ['activity'],
      registers: [registry],
    }),
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
          if (POLLING_ACTIVITIES.has(info.activityType)) metrics?.taskPolls.inc({ activity: info.activityType });
          try {
            const result = await next(input);
            if (info.activityType === 'awaitSelectionResult') {
              const selected = (result as { selected?: unknown } | undefined)?.selected;
              if (typeof selected === 'number' && selected > 0) metrics?.invoicesSelected.inc(selected);
            }
            return result;
          } catch (err) {
            // A task still processing (a benign failure) is counted as a poll above, not as an error.
            if (metrics && err instanceof ApplicationFailure && err.category !== ApplicationFailureCategory.BENIGN) {
              const detail = err.details?.[0] as { interfaceCode?: unknown; code?: unknown } | undefined;
              if (detail && typeof detail.code === 'string') {
                metrics.bureauErrors.inc({ interface: String(detail.interfaceCode ?? 'unknown'), code: detail.code });
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
