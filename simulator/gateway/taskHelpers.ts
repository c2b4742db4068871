import { GatewayCode, TASK_PROCESSING_MESSAGE } from '../../protocol/codes.js';
import type { InterfaceCode } from '../../protocol/interfaces.js';
import type { ProtocolProfile } from '../../protocol/profile.js';
import type { SelectAction } from '../bureau/bureau.js';
import { GatewayError } from '../errors.js';
import type { LedgerInvoice, Task, TaskKind } from '../store.js';
import type { HandlerContext } from './handlers.js';

/** Pieces the handlers of asynchronous interfaces share. */

/** A settled task of the expected kind, or the seed's "still processing" answer (6910). */
export function settledTask(
  ctx: HandlerContext,
  taskNo: string,
  kind: TaskKind,
  missing: () => GatewayError,
  operateType?: string,
): Task {
  const task = ctx.store.tasks.get(taskNo);
  if (!task || task.taxNo !== ctx.taxpayer.taxNo || task.kind !== kind) throw missing();
  if (operateType !== undefined && task.operateType !== operateType) throw missing();
  if (task.settledAt === null) throw new GatewayError(GatewayCode.TaskProcessing, TASK_PROCESSING_MESSAGE);
  return task;
}

export const noSuchTask = (taskNo: string) => () =>
  new GatewayError(GatewayCode.NoSuchTask, `任务号${taskNo}不存在，请确认请求任务号是否正确`);

/** What the ledger keeps of a write request when it arrives, accepted or refused. */
export interface WriteArrival {
  /** The taxpayer's period and the status of its statistic table when the request arrived. */
  period: string;
  statisticStatus: string;
  operateType: string;
  authenticateFlag: string;
  /** invoiceSelect: select or cancel, as the tenant's profile reads authenticateFlag; '' for other writes. */
  selectAction: SelectAction | '';
  invoices: LedgerInvoice[];
}

/** What authenticateFlag asks under the tenant's profile: its `select` value selects, anything else cancels. */
export function selectActionOf(authenticateFlag: string, profile: ProtocolProfile): SelectAction {
  return authenticateFlag === profile.selectFlag.select ? 'select' : 'cancel';
}

/** The facts of a (parsed) write request the ledger keeps: its invoices, select flag, statistic operation. */
export function writeArrival(
  request: unknown,
  period: string,
  statisticStatus: string,
  profile: ProtocolProfile,
): WriteArrival {
  const r = request as {
    invoices?: { invoiceCode?: string; invoiceNo: string; effectiveTaxAmount?: string }[];
    deductionPurpose?: string;
    authenticateFlag?: string;
    operateType?: string;
  };
  return {
    period,
    statisticStatus,
    operateType: r.operateType ?? '',
    authenticateFlag: r.authenticateFlag ?? '',
    selectAction: r.authenticateFlag === undefined ? '' : selectActionOf(r.authenticateFlag, profile),
    invoices: (r.invoices ?? []).map((line) => ({
      invoiceCode: line.invoiceCode ?? '',
      invoiceNo: line.invoiceNo,
      ...(line.effectiveTaxAmount !== undefined ? { effectiveTaxAmount: line.effectiveTaxAmount } : {}),
      ...(r.deductionPurpose !== undefined ? { purpose: r.deductionPurpose } : {}),
    })),
  };
}

/**
 * Records an accepted write; asynchronous ones get their outcome and result when their task
 * settles. `invoices` replaces the request's own (a pre-selection confirmation takes them from the pool).
 */
export function ledgerAccepted(
  ctx: HandlerContext,
  interfaceCode: InterfaceCode,
  taskNo: string,
  invoiceNos: string[] = ctx.arrival.invoices.map((i) => i.invoiceNo),
  outcome = 'pending',
  invoices: LedgerInvoice[] = ctx.arrival.invoices,
): void {
  ctx.store.ledger.add({
    time: ctx.now,
    taxNo: ctx.taxpayer.taxNo,
    interfaceCode,
    requestId: ctx.requestId,
    taskNo,
    invoiceNos,
    outcome,
    ...ctx.arrival,
    invoices,
  });
}

/** Records a write the bureau refused (nothing changed): the ledger counts it as a request that reached it. */
export function ledgerRefused(
  ctx: Pick<HandlerContext, 'store' | 'taxpayer' | 'requestId' | 'now' | 'arrival'>,
  interfaceCode: InterfaceCode,
  refusal: { code: string; message: string },
): void {
  ctx.store.ledger.add({
    time: ctx.now,
    taxNo: ctx.taxpayer.taxNo,
    interfaceCode,
    requestId: ctx.requestId,
    taskNo: '',
    invoiceNos: ctx.arrival.invoices.map((i) => i.invoiceNo),
    outcome: `refused ${refusal.code} ${refusal.message}`,
    ...ctx.arrival,
    refusal,
  });
}
