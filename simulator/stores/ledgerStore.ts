import type { Db } from '../db.js';
import { num, str, type Row } from './rows.js';

export interface LedgerInvoice {
  invoiceCode: string;
  invoiceNo: string;
  /** What the request asked to deduct (select lines only). */
  effectiveTaxAmount?: string;
  /** deductionPurpose the line was sent with (select lines only). */
  purpose?: string;
}

/**
 * One write request that reached a write handler of the bureau, accepted or refused. With the
 * tenant's requestId de-duplication on, repeats answered from the requestId cache never reach a
 * handler and are not here; with it off (the default) every repeat is.
 */
export interface LedgerEntry {
  id: number;
  time: number;
  taxNo: string;
  interfaceCode: string;
  requestId: string;
  taskNo: string;
  invoiceNos: string[];
  /** 'pending' until an asynchronous task settles; 'refused <code> <message>' for a refusal. */
  outcome: string;
  /** False when the bureau refused the request (refusal says why); nothing changed then. */
  accepted: boolean;
  refusal: { code: string; message: string } | null;
  /** The taxpayer's period when the request arrived. */
  period: string;
  /** The status of that period's statistic table when the request arrived. */
  statisticStatus: string;
  /** statisticCreate: 1 generate, 2 revoke. Empty for other writes. */
  operateType: string;
  /** invoiceSelect: the authenticateFlag sent (its meaning depends on the tenant's profile). Empty for other writes. */
  authenticateFlag: string;
  /**
   * invoiceSelect and preSelectConfirm: 'select' or 'cancel', as the tenant's protocol profile
   * read the request when it arrived (profile.selectFlag). Empty for other writes.
   */
  selectAction: string;
  invoices: LedgerInvoice[];
  /** The settled task's result (select: per-invoice lines), null while pending or without a task. */
  taskResult: unknown;
}

export type NewLedgerEntry = Omit<
  LedgerEntry,
  | 'id'
  | 'accepted'
  | 'refusal'
  | 'period'
  | 'statisticStatus'
  | 'operateType'
  | 'authenticateFlag'
  | 'selectAction'
  | 'invoices'
  | 'taskResult'
> &
  Partial<
    Pick<
      LedgerEntry,
      'refusal' | 'period' | 'statisticStatus' | 'operateType' | 'authenticateFlag' | 'selectAction' | 'invoices'
    >
  >;

export interface LedgerFilter {
  taxNo?: string;
  interfaceCode?: string;
  /** Also the requests the bureau refused (default: accepted writes only). */
  includeRefused?: boolean;
}

/** The ledger of bureau writes: what was asked, accepted or refused, and what its task came to. */
export class LedgerStore {
  constructor(private readonly db: Db) {}

  add(e: NewLedgerEntry): void {
    this.db
      .prepare(
        `INSERT INTO ledger (time, tax_no, interface_code, request_id, task_no, invoice_nos, outcome, accepted,
           refusal_code, refusal_message, period, statistic_status, operate_type, authenticate_flag, select_action,
           invoices_json)
         VALUES (@time, @taxNo, @interfaceCode, @requestId, @taskNo, @invoiceNos, @outcome, @accepted,
           @refusalCode, @refusalMessage, @period, @statisticStatus, @operateType, @authenticateFlag, @selectAction,
           @invoices)`,
      )
      .run({
        time: e.time,
        taxNo: e.taxNo,
        interfaceCode: e.interfaceCode,
        requestId: e.requestId,
        taskNo: e.taskNo,
        invoiceNos: JSON.stringify(e.invoiceNos),
        outcome: e.outcome,
        accepted: e.refusal ? 0 : 1,
        refusalCode: e.refusal?.code ?? '',
        refusalMessage: e.refusal?.message ?? '',
        period: e.period ?? '',
        statisticStatus: e.statisticStatus ?? '',
        operateType: e.operateType ?? '',
        authenticateFlag: e.authenticateFlag ?? '',
        selectAction: e.selectAction ?? '',
        invoices: JSON.stringify(e.invoices ?? []),
      });
  }
  /** A task settled: its write's outcome and result. */
  setOutcome(taskNo: string, outcome: string, taskResult: unknown): void {
    this.db
      .prepare('UPDATE ledger SET outcome = ?, task_result_json = ? WHERE task_no = ? AND accepted = 1')
      .run(outcome, JSON.stringify(taskResult), taskNo);
  }
  entries(filter: LedgerFilter): LedgerEntry[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM ledger WHERE (@taxNo IS NULL OR tax_no = @taxNo)
           AND (@interfaceCode IS NULL OR interface_code = @interfaceCode)
           AND (@includeRefused = 1 OR accepted = 1) ORDER BY id`,
      )
      .all({
        taxNo: filter.taxNo ?? null,
        interfaceCode: filter.interfaceCode ?? null,
        includeRefused: filter.includeRefused ? 1 : 0,
      }) as Row[];
    return rows.map((r) => ({
      id: num(r.id),
      time: num(r.time),
      taxNo: str(r.tax_no),
      interfaceCode: str(r.interface_code),
      requestId: str(r.request_id),
      taskNo: str(r.task_no),
      invoiceNos: JSON.parse(str(r.invoice_nos)) as string[],
      outcome: str(r.outcome),
      accepted: r.accepted === 1,
      refusal: r.accepted === 1 ? null : { code: str(r.refusal_code), message: str(r.refusal_message) },
      period: str(r.period),
      statisticStatus: str(r.statistic_status),
      operateType: str(r.operate_type),
      authenticateFlag: str(r.authenticate_flag),
      selectAction: str(r.select_action),
      invoices: JSON.parse(str(r.invoices_json)) as LedgerInvoice[],
      taskResult:
        r.task_result_json === null || r.task_result_json === undefined ? null : JSON.parse(str(r.task_result_json)),
    }));
  }
}
