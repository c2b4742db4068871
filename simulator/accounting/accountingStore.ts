import type { AccountResultLine } from '../../protocol/interfaces.js';
import type { StoredInvoice, Store } from '../store.js';

/** SQL of the sandbox's accounting (入账): booking pool invoices and the accounting tasks. */

export interface AccountingTask {
  taskNo: string;
  taxNo: string;
  createdAt: number;
  dueAt: number;
  lines: AccountResultLine[];
}

type Row = Record<string, unknown>;

export class AccountingStore {
  constructor(private readonly store: Store) {}

  /** Books one unbooked invoice; false when it was booked already (a second booking never happens). */
  book(taxNo: string, inv: Pick<StoredInvoice, 'invoiceCode' | 'invoiceNo'>, accountPeriod: string): boolean {
    return (
      this.store.db
        .prepare(
          `UPDATE invoices SET account_status = '1', account_period = ?
           WHERE tax_no = ? AND invoice_code = ? AND invoice_no = ? AND account_status = '0'`,
        )
        .run(accountPeriod, taxNo, inv.invoiceCode, inv.invoiceNo).changes > 0
    );
  }

  insertTask(task: AccountingTask): void {
    this.store.db
      .prepare(`INSERT INTO accounting_tasks (task_no, tax_no, created_at, due_at, result_json) VALUES (?, ?, ?, ?, ?)`)
      .run(task.taskNo, task.taxNo, task.createdAt, task.dueAt, JSON.stringify(task.lines));
  }

  getTask(taskNo: string): AccountingTask | undefined {
    const row = this.store.db.prepare('SELECT * FROM accounting_tasks WHERE task_no = ?').get(taskNo) as
      Row | undefined;
    if (!row) return undefined;
    return {
      taskNo: String(row.task_no),
      taxNo: String(row.tax_no),
      createdAt: Number(row.created_at),
      dueAt: Number(row.due_at),
      lines: JSON.parse(String(row.result_json)) as AccountResultLine[],
    };
  }
}
