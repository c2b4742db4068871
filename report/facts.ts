/**
 * The facts of a closed month's audit report, gathered from the workflow's result and its Temporal
 * history only: there is no second store to drift from them (docs/audit-report.md).
 */
import type { Client } from '@temporalio/client';
import type { SelectionTaskResult } from '../activities/selectionCandidates.js';
import type { SelectOutcome } from '../rules/selectResult.js';
import { DeductionStateError, getProgress } from '../client/deductions.js';
import type { StatisticQueryReply } from '../protocol/interfaces.js';
import { statisticDigest } from '../rules/statisticDigest.js';
import type {
  Decision,
  MonthlyDeductionResult,
  PlannedVersusBureau,
  RefusedSignal,
  SelectionTally,
  StatisticLine,
  StatisticSummary,
} from '../workflows/contract.js';
import { type ActivityRun, type DecisionEvent, readMonthHistory } from './history.js';

/** The outcomes a report is made for: the month is over and its table's fate is known. */
export const REPORTABLE_OUTCOMES = ['COMPLETED', 'REJECTED', 'EXPIRED'] as const;

/** A month that is not (yet) COMPLETED, REJECTED or EXPIRED: no report (CLI exit code 4). */
export class ReportStateError extends DeductionStateError {
  override name = 'ReportStateError';
}

/** One invoice a selection task answered (SelectionTaskResult.invoices, read back). */
export interface InvoiceRow {
  taskNo: string;
  invoiceCode: string;
  invoiceNo: string;
  /** The bureau's selectResult and description, verbatim (the description only for one not selected). */
  resultCode: string;
  resultMsg: string;
  outcome: SelectOutcome;
  effectiveTaxAmount?: string;
}

/** A statistic table the month read from the bureau, at the time it read it. */
export interface TableRead {
  digest: string;
  readAt: string;
  statisticStatus: string;
  updateTime: string;
  items: StatisticLine[];
  total?: StatisticLine;
}

/** The decision the month acted on, with the digest of the table it was about. */
export interface DecisionTaken extends Decision {
  digest?: string;
}

/** A decision as it arrived (a signal or an accepted Update), from the history. */
export interface ReceivedDecision {
  at: string;
  kind: 'approve' | 'reject';
  via: 'signal' | 'update';
  approver: string;
  /** The digest the decision named, if it named one. */
  digest?: string;
  /** The comment of an approval, the reason of a rejection. */
  text?: string;
  signatureKey?: string;
  /** An Update's answer; empty for a signal (the month's result says what became of it). */
  answer: string;
}

export interface BureauWrite {
  sentAt: string;
  answeredAt?: string;
  /** The interface with its number in the seed, e.g. `4.10 statisticConfirm 确认统计表`. */
  interface: string;
  taskNos: string[];
  attempts: number;
  /** What the bureau answered to the write itself. */
  outcome: string;
  /** What its task(s) came to, when the month awaited them. */
  taskResult: string;
}

export interface ReportFacts {
  workflowId: string;
  runId: string;
  taxNo: string;
  taxPeriod: string;
  taxpayerName?: string;
  outcome: MonthlyDeductionResult['outcome'];
  note: string;
  startedAt: string;
  closedAt: string;
  generatedAt: string;
  deductionDeadline?: string;
  approvalDeadline?: string;
  confirmedAt?: string;
  periodAfterChange?: string;
  decisionPolicy: string;
  approvers: string[];
  selection?: SelectionTally;
  /** The bureau's table as the month last read it. */
  statistic?: StatisticSummary;
  /** The table the decision was about (the last one read before it); absent without a decision. */
  decidedTable?: TableRead;
  plannedVersusBureau?: PlannedVersusBureau;
  invoices: InvoiceRow[];
  /** False when a selection task's result did not keep its invoices (months run before they were kept). */
  invoicesRecorded: boolean;
  decision?: DecisionTaken;
  received: ReceivedDecision[];
  refusals: RefusedSignal[];
  writes: BureauWrite[];
}

/** Why a month has no report: its Temporal status, and its stage when it is still running. */
function notReportable(workflowId: string, status: string, stage: string | undefined): ReportStateError {
  const state = status === 'RUNNING' ? `still running (stage ${stage ?? 'unknown'})` : `${status}`;
  return new ReportStateError(
    `No audit report for ${workflowId}: it is ${state}. A report is made for a month that ended ` +
      `${REPORTABLE_OUTCOMES.join(', ')}${status === 'RUNNING' ? '; try again when the month has ended' : ''}.`,
  );
}

/** Gathers the report's facts for one taxpayer-month; throws ReportStateError for a month not closed. */
export async function gatherReportFacts(
  client: Client,
  taxNo: string,
  period: string,
  opts: { taxpayerName?: string; now?: () => Date } = {},
): Promise<ReportFacts> {
  const status = await getProgress(client, taxNo, period);
  const result = status.result;
  if (status.status !== 'COMPLETED' || !result) {
    throw notReportable(status.workflowId, status.status, status.progress.stage);
  }
  if (!(REPORTABLE_OUTCOMES as readonly string[]).includes(result.outcome)) {
    throw notReportable(status.workflowId, String(result.outcome), undefined);
  }
  const history = await readMonthHistory(client, status.workflowId, status.runId);
  const tables = tablesRead(history.activities);
  const decisionAt = result.decision ? Date.parse(result.decision.decidedAt) : undefined;
  const decidedTable =
    decisionAt === undefined ? undefined : tables.filter((t) => Date.parse(t.readAt) <= decisionAt).at(-1);
  const { rows: invoices, recorded } = invoiceRows(history.activities);
  const approvers = Array.isArray(history.input.approvers) ? (history.input.approvers as string[]) : [];
  return {
    workflowId: status.workflowId,
    runId: status.runId,
    taxNo: result.taxNo,
    taxPeriod: result.taxPeriod,
    ...(opts.taxpayerName ? { taxpayerName: opts.taxpayerName } : {}),
    outcome: result.outcome,
    note: result.note,
    startedAt: status.startTime.toISOString(),
    closedAt: (status.closeTime ?? status.startTime).toISOString(),
    generatedAt: (opts.now?.() ?? new Date()).toISOString(),
    ...optional('deductionDeadline', result.deductionDeadline),
    ...optional('approvalDeadline', result.approvalDeadline),
    ...optional('confirmedAt', result.confirmedAt),
    ...optional('periodAfterChange', result.periodAfterChange),
    decisionPolicy: result.decisionPolicy ?? 'unsigned',
    approvers,
    ...optional('selection', result.selection),
    ...optional('statistic', result.statistic),
    ...optional('decidedTable', decidedTable),
    ...optional('plannedVersusBureau', result.plannedVersusBureau),
    invoices,
    invoicesRecorded: recorded,
    ...(result.decision
      ? {
          decision: {
            ...result.decision,
            ...optional('digest', decisionDigest(result.decision, history.decisions, decidedTable)),
          },
        }
      : {}),
    received: history.decisions.map(receivedDecision),
    refusals: result.refusedSignals ?? [],
    writes: bureauWrites(history.activities),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** Every statistic table the month read (4.07), oldest first. */
function tablesRead(activities: ActivityRun[]): TableRead[] {
  return activities
    .filter(
      (a) =>
        (a.activityType === 'queryStatistic' || a.activityType === 'awaitStatisticSettled') && a.state === 'completed',
    )
    .map((a) => {
      const table = a.result as StatisticQueryReply;
      return {
        digest: statisticDigest(table),
        readAt: (a.closedAt ?? a.scheduledAt).toISOString(),
        statisticStatus: table.statisticStatus,
        updateTime: table.updateTime,
        items: table.items,
        ...(table.total ? { total: table.total } : {}),
      };
    });
}

/**
 * The digest of the table the decision taken was about: the one it named (the Update or signal
 * that decided), else the table awaiting approval when it arrived.
 */
function decisionDigest(
  decision: Decision,
  received: DecisionEvent[],
  decidedTable: TableRead | undefined,
): string | undefined {
  const kind = decision.decision === 'approved' ? 'approve' : 'reject';
  const via = decision.via ?? 'signal';
  const decidedAt = Date.parse(decision.decidedAt);
  const sent = received
    .filter((d) => d.kind === kind && d.via === via && d.input.approver === decision.approver)
    .filter((d) => d.at.getTime() <= decidedAt + 1000)
    .at(-1);
  const named = sent?.input.statisticDigest;
  return typeof named === 'string' ? named : decidedTable?.digest;
}

function receivedDecision(d: DecisionEvent): ReceivedDecision {
  const text = d.kind === 'approve' ? d.input.comment : d.input.reason;
  const signature = d.input.signature as { keyId?: unknown } | undefined;
  return {
    at: d.at.toISOString(),
    kind: d.kind,
    via: d.via,
    approver: String(d.input.approver ?? ''),
    ...(typeof d.input.statisticDigest === 'string' ? { digest: d.input.statisticDigest } : {}),
    ...(typeof text === 'string' && text ? { text } : {}),
    ...(typeof signature?.keyId === 'string' ? { signatureKey: signature.keyId } : {}),
    answer: updateAnswer(d),
  };
}

function updateAnswer(d: DecisionEvent): string {
  if (d.via === 'signal') return '';
  if (d.refusal) return `拒绝 refused: ${d.refusal}`;
  const answer = d.answer as { outcome?: string; reason?: string } | undefined;
  switch (answer?.outcome) {
    case 'accepted':
      return '已采纳 accepted';
    case 'rejected':
      return '已采纳 accepted (统计表撤销 the table is revoked)';
    case 'voided':
      return `作废 voided: ${answer.reason ?? ''}`;
    default:
      return '未答复 no answer recorded';
  }
}

const TASK_RESULT_TYPES = ['awaitSelectionResult', 'awaitPreSelectionResult'];
const SUBMIT_TYPES = ['submitSelection', 'submitPreSelection'];

/** Selection task results by taskNo, with the immediate answers of submissions (keyed by their own label). */
function selectionResults(activities: ActivityRun[]): { taskNo: string; result: SelectionTaskResult }[] {
  const results: { taskNo: string; result: SelectionTaskResult }[] = [];
  for (const a of activities) {
    if (a.state !== 'completed') continue;
    if (TASK_RESULT_TYPES.includes(a.activityType)) {
      const r = a.result as SelectionTaskResult;
      results.push({ taskNo: r.taskNo, result: r });
    } else if (SUBMIT_TYPES.includes(a.activityType)) {
      const immediate = (a.result as { immediate?: SelectionTaskResult }).immediate;
      if (immediate && immediate.total > 0)
        results.push({ taskNo: `${immediate.taskNo} (即时 immediate)`, result: immediate });
    }
  }
  return results;
}

function invoiceRows(activities: ActivityRun[]): { rows: InvoiceRow[]; recorded: boolean } {
  const rows: InvoiceRow[] = [];
  let recorded = true;
  for (const { taskNo, result } of selectionResults(activities)) {
    if (!result.invoices) {
      recorded = false;
      continue;
    }
    for (const [invoiceCode, invoiceNo, resultCode, outcome, tax, resultMsg] of result.invoices) {
      rows.push({
        taskNo,
        invoiceCode,
        invoiceNo,
        resultCode,
        resultMsg: resultMsg ?? '',
        outcome,
        ...(tax !== '' ? { effectiveTaxAmount: tax } : {}),
      });
    }
  }
  return { rows, recorded };
}

function taskTally(r: SelectionTaskResult): string {
  return `勾选 selected ${r.selected}, 此前已勾选 already ${r.alreadySelected}, 失败 failed ${r.failed}, 待重发 to send again ${r.toRetry}`;
}

/** Every write the month sent to the bureau (selection, statistic generate / revoke, confirm, period change). */
function bureauWrites(activities: ActivityRun[]): BureauWrite[] {
  const completed = (type: string) => activities.filter((a) => a.activityType === type && a.state === 'completed');
  const awaited = (type: string, taskNo: string) =>
    completed(type).find((a) => (a.input as { taskNo?: string }).taskNo === taskNo)?.result;
  const writes: BureauWrite[] = [];
  for (const a of activities) {
    const input = (a.input ?? {}) as Record<string, unknown>;
    const result = (a.result ?? {}) as Record<string, unknown>;
    const base = {
      sentAt: a.scheduledAt.toISOString(),
      ...(a.closedAt ? { answeredAt: a.closedAt.toISOString() } : {}),
      attempts: a.attempts,
    };
    const failed = a.state !== 'completed' ? `${STATE_LABELS[a.state]}${a.failure ? `: ${a.failure}` : ''}` : undefined;
    switch (a.activityType) {
      case 'submitSelection':
      case 'submitPreSelection': {
        if (input.dryRun === true) break;
        const pre = a.activityType === 'submitPreSelection';
        const taskNos = Array.isArray(result.taskNos) ? (result.taskNos as string[]) : [];
        const resultType = pre ? 'awaitPreSelectionResult' : 'awaitSelectionResult';
        const tasks = taskNos.map((t) => {
          const r = awaited(resultType, t) as SelectionTaskResult | undefined;
          return `${t}: ${r ? taskTally(r) : '未读到结果 no result read'}`;
        });
        const immediate = result.immediate as SelectionTaskResult | undefined;
        if (immediate && immediate.total > 0) tasks.push(`即时 immediate: ${taskTally(immediate)}`);
        writes.push({
          ...base,
          interface: `${pre ? '预勾选 preSelect + 预勾选确认 preSelectConfirm' : '4.05 invoiceSelect 发票勾选'} (round ${String(input.round ?? 1)})`,
          taskNos,
          outcome:
            failed ??
            `已受理 accepted: ${String(result.submitted ?? 0)} 张 invoices sent of ${String(result.candidates ?? 0)} candidates`,
          taskResult: tasks.join('; '),
        });
        break;
      }
      case 'requestStatisticOperation': {
        const generate = input.operation === 'generate';
        const taskNo = typeof result.taskNo === 'string' ? result.taskNo : '';
        const task = taskNo
          ? (awaited('awaitStatisticTask', taskNo) as { statisticStatus?: string } | undefined)
          : undefined;
        writes.push({
          ...base,
          interface: generate
            ? '4.08 statisticCreate 生成统计表 generate (operateType 1)'
            : '4.08 statisticCreate 撤销统计表 revoke (operateType 2)',
          taskNos: taskNo ? [taskNo] : [],
          outcome:
            failed ??
            (taskNo
              ? '已受理 accepted'
              : `未发送：税局已是该结果 not sent: the bureau already had it (status ${String(result.statisticStatus ?? '?')})`),
          taskResult: task ? `createTjbbStatus ${task.statisticStatus ?? '?'}` : '',
        });
        break;
      }
      case 'requestConfirmation': {
        const taskNo = typeof result.taskNo === 'string' ? result.taskNo : '';
        const confirmation = completed('awaitConfirmation').find(
          (c) => (c.input as { taskNo?: string }).taskNo === taskNo,
        )?.result as { confirmTime?: string } | undefined;
        writes.push({
          ...base,
          interface: '4.10 statisticConfirm 确认统计表',
          taskNos: taskNo ? [taskNo] : [],
          outcome: failed ?? (taskNo ? '已受理 accepted' : '未发送：税局已确认 not sent: the bureau had it confirmed'),
          taskResult: confirmation ? `已确认 confirmed (05) ${confirmation.confirmTime ?? ''}`.trim() : '',
        });
        break;
      }
      case 'changeTaxPeriod':
        writes.push({
          ...base,
          interface: `4.12 taxperiodChange 变更所属期 to ${String(input.taxPeriod ?? '?')}`,
          taskNos: [],
          outcome: failed ?? `所属期 period now ${String(result.taxPeriod ?? '?')}`,
          taskResult: '',
        });
        break;
      default:
        break;
    }
  }
  return writes;
}

const STATE_LABELS: Record<ActivityRun['state'], string> = {
  completed: '完成 completed',
  failed: '失败 failed',
  'timed-out': '超时 timed out',
  canceled: '已取消 canceled',
  open: '无答复 no answer recorded',
};
