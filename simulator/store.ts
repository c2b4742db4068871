import { ALL_TABLES, type Db } from './db.js';
import { InvoiceStore } from './stores/invoiceStore.js';
import { LedgerStore } from './stores/ledgerStore.js';
import { SettingsStore } from './stores/settingsStore.js';
import { TaskStore } from './stores/taskStore.js';
import { TaxpayerStore } from './stores/taxpayerStore.js';
import { TenantStore } from './stores/tenantStore.js';

export * from './stores/invoiceStore.js';
export * from './stores/ledgerStore.js';
export * from './stores/taskStore.js';
export * from './stores/taxpayerStore.js';
export * from './stores/tenantStore.js';

/**
 * The sandbox's SQLite state, one store per aggregate (simulator/stores/): every SQL statement of
 * the sandbox lives in them. A transaction spans them all.
 */
export class Store {
  readonly settings: SettingsStore;
  readonly tenants: TenantStore;
  readonly taxpayers: TaxpayerStore;
  readonly invoices: InvoiceStore;
  readonly tasks: TaskStore;
  readonly ledger: LedgerStore;

  constructor(readonly db: Db) {
    this.settings = new SettingsStore(db);
    this.tenants = new TenantStore(db);
    this.taxpayers = new TaxpayerStore(db);
    this.invoices = new InvoiceStore(db);
    this.tasks = new TaskStore(db);
    this.ledger = new LedgerStore(db);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  isEmpty(): boolean {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM tenants').get() as { n: number }).n === 0;
  }

  wipe(): void {
    this.transaction(() => {
      for (const table of ALL_TABLES) this.db.prepare(`DELETE FROM ${table}`).run();
    });
  }
}
