import { SelectResultCode } from '../../protocol/codes.js';
import {
  selectAction,
  type SelectTaskRequest,
  type SelectTaskResult,
  type ConfirmTaskResult,
} from '../bureau/bureau.js';
import type { Store } from '../store.js';

/**
 * The bureau's own state changes, from its settled tasks: an invoice selected (code 1) twice, a
 * period confirmed twice. The bureau's rules refuse both (19 already selected; confirmation only
 * of a generated table), so these lists stay empty whatever a client does: they check the
 * sandbox, not the client. What a client did is judged from the ledger of write requests that
 * reached the bureau (GET /admin/ledger?includeRefused=true), as the chaos run does in
 * scripts/chaos/invariants.ts.
 */
export interface Invariants {
  /** An invoice selected successfully (code 1) twice for one period with no cancellation between. */
  invoicesSelectedTwice: { taxNo: string; period: string; invoiceNo: string; taskNos: string[] }[];
  /** Every taxpayer period that was confirmed, with how often; more than 1 is a violation. */
  confirmationsPerTaxpayerPeriod: { taxNo: string; period: string; confirmations: number; taskNos: string[] }[];
  /** The entries of confirmationsPerTaxpayerPeriod with more than one confirmation. */
  periodsConfirmedTwice: { taxNo: string; period: string; confirmations: number; taskNos: string[] }[];
}

export function computeInvariants(store: Store): Invariants {
  const selected = new Map<string, string | undefined>(); // key -> taskNo of the live selection
  const twice = new Map<string, Invariants['invoicesSelectedTwice'][number]>();
  for (const task of store.tasks.settled('select')) {
    // Select or cancel as the tenant's profile read the request (kept with the task).
    const cancel = selectAction(task.request as SelectTaskRequest) === 'cancel';
    for (const line of (task.result as SelectTaskResult).lines) {
      if (line.resultCode !== SelectResultCode.Ok) continue;
      const key = `${task.taxNo}|${task.period}|${line.invoiceCode}|${line.invoiceNo}`;
      if (cancel) {
        selected.delete(key);
        continue;
      }
      const previous = selected.get(key);
      if (previous !== undefined) {
        const entry = twice.get(key) ?? {
          taxNo: task.taxNo,
          period: task.period,
          invoiceNo: line.invoiceNo,
          taskNos: [previous],
        };
        entry.taskNos.push(task.taskNo);
        twice.set(key, entry);
      }
      selected.set(key, task.taskNo);
    }
  }

  const confirmations = new Map<string, Invariants['confirmationsPerTaxpayerPeriod'][number]>();
  for (const task of store.tasks.settled('confirm')) {
    if (!(task.result as ConfirmTaskResult).success) continue;
    const key = `${task.taxNo}|${task.period}`;
    const entry = confirmations.get(key) ?? { taxNo: task.taxNo, period: task.period, confirmations: 0, taskNos: [] };
    entry.confirmations += 1;
    entry.taskNos.push(task.taskNo);
    confirmations.set(key, entry);
  }
  const perPeriod = [...confirmations.values()];
  return {
    invoicesSelectedTwice: [...twice.values()],
    confirmationsPerTaxpayerPeriod: perPeriod,
    periodsConfirmedTwice: perPeriod.filter((c) => c.confirmations > 1),
  };
}
