import { GatewayCode, TASK_PROCESSING_MESSAGE } from '../../protocol/codes.js';
import type { InterfaceCode, ParsedRequestOf, ReplyOf } from '../../protocol/interfaces.js';
import type { SelectTaskResult } from '../bureau/bureau.js';
import { GatewayError } from '../errors.js';
import type { Task, TaskKind } from '../store.js';
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
  const task = ctx.store.getTask(taskNo);
  if (!task || task.taxNo !== ctx.taxpayer.taxNo || task.kind !== kind) throw missing();
  if (operateType !== undefined && task.operateType !== operateType) throw missing();
  if (task.settledAt === null) throw new GatewayError(GatewayCode.TaskProcessing, TASK_PROCESSING_MESSAGE);
  return task;
}

export const noSuchTask = (taskNo: string) => () =>
  new GatewayError(GatewayCode.NoSuchTask, `任务号${taskNo}不存在，请确认请求任务号是否正确`);

/** Records an accepted operation; asynchronous ones get their outcome when their task settles. */
export function ledgerAccepted(
  ctx: HandlerContext,
  interfaceCode: InterfaceCode,
  taskNo: string,
  invoiceNos: string[] = [],
  outcome = 'pending',
): void {
  ctx.store.addLedger({
    time: ctx.now,
    taxNo: ctx.taxpayer.taxNo,
    interfaceCode,
    requestId: ctx.requestId,
    taskNo,
    invoiceNos,
    outcome,
  });
}

/** One page (4.06 pageNo/pageSize) of a settled selection task's per-invoice results. */
export function selectResultPage(
  task: Task,
  req: ParsedRequestOf<'invoiceSelectQuery'>,
): ReplyOf<'invoiceSelectQuery'> {
  const lines = (task.result as SelectTaskResult).lines;
  const start = (req.pageNo - 1) * req.pageSize;
  const successCount = lines.filter((l) => l.resultCode === 1).length;
  return {
    taskNo: task.taskNo,
    total: lines.length,
    pageNo: req.pageNo,
    pageSize: req.pageSize,
    successCount,
    failCount: lines.length - successCount,
    invoices: lines.slice(start, start + req.pageSize),
  };
}
