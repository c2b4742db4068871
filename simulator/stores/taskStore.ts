import type { Db } from '../db.js';
import { num, numOrNull, str, type Row } from './rows.js';
import type { SelectInvoiceLine } from '../../protocol/interfaces.js';

export type TaskKind = 'select' | 'statistic' | 'confirm' | 'download';

export interface Task {
  taskNo: string;
  taxNo: string;
  kind: TaskKind;
  operateType: string;
  period: string;
  request: unknown;
  createdAt: number;
  dueAt: number;
  settledAt: number | null;
  result: unknown;
}

function toTask(r: Row): Task {
  return {
    taskNo: str(r.task_no),
    taxNo: str(r.tax_no),
    kind: str(r.kind) as TaskKind,
    operateType: str(r.operate_type),
    period: str(r.period),
    request: JSON.parse(str(r.request_json)),
    createdAt: num(r.created_at),
    dueAt: num(r.due_at),
    settledAt: numOrNull(r.settled_at),
    result: r.result_json === null ? null : JSON.parse(str(r.result_json)),
  };
}

/** Bureau tasks, their reserved task numbers, and the replies kept for idempotent requests. */
export class TaskStore {
  constructor(private readonly db: Db) {}

  insert(t: Omit<Task, 'settledAt' | 'result'>): void {
    this.db
      .prepare(
        `INSERT INTO tasks (task_no, tax_no, kind, operate_type, period, request_json, created_at, due_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(t.taskNo, t.taxNo, t.kind, t.operateType, t.period, JSON.stringify(t.request), t.createdAt, t.dueAt);
  }
  get(taskNo: string): Task | undefined {
    const row = this.db.prepare('SELECT * FROM tasks WHERE task_no = ?').get(taskNo) as Row | undefined;
    return row ? toTask(row) : undefined;
  }
  nextDueTask(taxNo: string, now: number): Task | undefined {
    const row = this.db
      .prepare(
        `SELECT * FROM tasks WHERE tax_no = ? AND settled_at IS NULL AND due_at <= ?
         ORDER BY due_at, created_at, rowid LIMIT 1`,
      )
      .get(taxNo, now) as Row | undefined;
    return row ? toTask(row) : undefined;
  }
  /** The invoice lines of the taxpayer's select tasks not settled yet (created by `createdBy`, when given). */
  unsettledSelectLines(taxNo: string, createdBy = Number.MAX_SAFE_INTEGER): SelectInvoiceLine[] {
    const rows = this.db
      .prepare(
        `SELECT request_json FROM tasks WHERE tax_no = ? AND settled_at IS NULL AND kind = 'select'
           AND created_at <= ? ORDER BY created_at, rowid`,
      )
      .all(taxNo, createdBy) as Row[];
    return rows.flatMap(
      (r) => (JSON.parse(str(r.request_json)) as { payload: { invoices: SelectInvoiceLine[] } }).payload.invoices,
    );
  }
  /** Whether a task of one of these kinds for the taxpayer and period has not settled yet. */
  hasUnsettledTask(taxNo: string, period: string, kinds: readonly TaskKind[]): boolean {
    const row = this.db
      .prepare(
        `SELECT 1 FROM tasks WHERE tax_no = ? AND settled_at IS NULL AND period = ?
           AND kind IN (SELECT value FROM json_each(?)) LIMIT 1`,
      )
      .get(taxNo, period, JSON.stringify(kinds));
    return row !== undefined;
  }
  /** Settled tasks of a kind, in the order they settled. */
  settled(kind: TaskKind): Task[] {
    return (
      this.db
        .prepare('SELECT * FROM tasks WHERE kind = ? AND settled_at IS NOT NULL ORDER BY settled_at, rowid')
        .all(kind) as Row[]
    ).map(toTask);
  }
  settle(taskNo: string, at: number, result: unknown): void {
    this.db
      .prepare('UPDATE tasks SET settled_at = ?, result_json = ? WHERE task_no = ?')
      .run(at, JSON.stringify(result), taskNo);
  }
  /** Takes the next task number reserved for this taxpayer and kind (seed replay), if any. */
  takeReservedTaskNo(taxNo: string, kind: TaskKind): string | undefined {
    const row = this.db
      .prepare(
        `SELECT task_no FROM reserved_task_nos WHERE tax_no = ? AND kind = ? AND used = 0
           AND task_no NOT IN (SELECT task_no FROM tasks) ORDER BY seq LIMIT 1`,
      )
      .get(taxNo, kind) as Row | undefined;
    if (!row) return undefined;
    this.db.prepare('UPDATE reserved_task_nos SET used = 1 WHERE task_no = ?').run(row.task_no);
    return str(row.task_no);
  }
  reserveTaskNo(taxNo: string, kind: TaskKind, seq: number, taskNo: string): void {
    this.db
      .prepare('INSERT OR IGNORE INTO reserved_task_nos (task_no, tax_no, kind, seq) VALUES (?, ?, ?, ?)')
      .run(taskNo, taxNo, kind, seq);
  }

  // idempotency and ledger
  getIdempotentReply(taxNo: string, interfaceCode: string, requestId: string): unknown {
    const row = this.db
      .prepare('SELECT reply_json FROM idempotency WHERE tax_no = ? AND interface_code = ? AND request_id = ?')
      .get(taxNo, interfaceCode, requestId) as Row | undefined;
    return row ? JSON.parse(str(row.reply_json)) : undefined;
  }
  saveIdempotentReply(taxNo: string, interfaceCode: string, requestId: string, reply: unknown): void {
    this.db
      .prepare('INSERT INTO idempotency (tax_no, interface_code, request_id, reply_json) VALUES (?, ?, ?, ?)')
      .run(taxNo, interfaceCode, requestId, JSON.stringify(reply));
  }
}
