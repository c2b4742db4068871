import { Decimal } from 'decimal.js';
import type { z } from 'zod';
import type { PoolInvoice } from '../../protocol/interfaces.js';
import { likelyCurrentPeriod } from '../../protocol/period.js';
import type { Bureau } from '../bureau/bureau.js';
import {
  DEMO_CONFIRM_PASSWORD,
  DEMO_TAXPAYERS,
  DEMO_TENANT,
  SEED_SAMPLE_INVOICE,
  SEED_SAMPLE_TAX_NO,
  SEED_TASK_NOS,
} from '../demo.js';
import { PoolStore } from '../bureau/poolStore.js';
import { generateInvoices } from '../generator.js';
import type { Settings } from '../settings.js';
import type { Store } from '../store.js';
import type { InvoiceInput, SeedDemoBody, TaxpayerBody, TaxpayerSummary } from './schemas.js';

/** What the admin API does, over the store: seeding, taxpayers, invoices, summaries. */
export class AdminOperations {
  constructor(
    private readonly store: Store,
    private readonly settings: Settings,
    private readonly bureau: Bureau,
  ) {}

  upsertTaxpayer(body: z.output<typeof TaxpayerBody>): TaxpayerSummary {
    this.store.transaction(() => {
      if (!this.store.tenants.get(body.tenantId))
        throw new AdminInputError('tenantId', `unknown tenant ${body.tenantId}`);
      const existing = this.store.taxpayers.get(body.taxNo);
      const now = this.settings.now();
      this.store.taxpayers.upsert({
        taxNo: body.taxNo,
        tenantId: body.tenantId,
        name: body.name,
        softCertificate: body.softCertificate,
        periodChangeSupported: body.periodChangeSupported,
        taxPeriod: body.taxPeriod,
        nextRolloverAt: existing?.nextRolloverAt ?? 0,
        confirmPassword: body.confirmPassword,
        lastLoginAt: existing?.lastLoginAt ?? null,
      });
      if (existing?.taxPeriod !== body.taxPeriod) this.bureau.setPeriod(body.taxNo, body.taxPeriod, now);
    });
    return this.summary(body.taxNo)!;
  }

  /** Adds or replaces pool invoices (a replaced invoice loses its selection). */
  addInvoices(taxNo: string, invoices: z.output<typeof InvoiceInput>[]): number {
    return this.store.transaction(() => {
      for (const inv of invoices) {
        const totalAmount = inv.totalAmount ?? new Decimal(inv.invoiceAmount).plus(inv.taxAmount).toFixed(2);
        this.store.invoices.insert(taxNo, { ...inv, totalAmount }, true);
      }
      return invoices.length;
    });
  }

  /** Invoices the bureau holds for the taxpayer, for invoiceDown (进项表头归集) to pull into the pool. */
  addBureauInvoices(taxNo: string, invoices: z.output<typeof InvoiceInput>[]): number {
    const bureauSide = new PoolStore(this.store.db);
    return this.store.transaction(() => {
      for (const inv of invoices) {
        const totalAmount = inv.totalAmount ?? new Decimal(inv.invoiceAmount).plus(inv.taxAmount).toFixed(2);
        bureauSide.putBureauInvoice(taxNo, { ...inv, totalAmount });
      }
      return invoices.length;
    });
  }
  generateBureauInvoices(taxNo: string, opts: { count: number; seed: number; period: string }): PoolInvoice[] {
    const invoices = generateInvoices({ taxNo, ...opts });
    const bureauSide = new PoolStore(this.store.db);
    this.store.transaction(() => {
      for (const inv of invoices) bureauSide.putBureauInvoice(taxNo, inv);
    });
    return invoices;
  }

  /** Generated invoices are added only where absent, so generating twice changes nothing. */
  generateInvoices(taxNo: string, opts: { count: number; seed: number; period: string }): PoolInvoice[] {
    const invoices = generateInvoices({ taxNo, ...opts });
    this.store.transaction(() => {
      for (const inv of invoices) this.store.invoices.insert(taxNo, inv, false);
    });
    return invoices;
  }

  /** (Re)seeds the demo tenant. Same arguments, same state; wipes everything only with reset. */
  seedDemo(body: z.output<typeof SeedDemoBody>): TaxpayerSummary[] {
    if (body.reset) this.store.wipe();
    if (body.now) this.settings.setClock(Date.parse(body.now));
    const existingPeriod = this.store.taxpayers.get(DEMO_TAXPAYERS[0].taxNo)?.taxPeriod;
    const taxPeriod = body.taxPeriod ?? existingPeriod ?? likelyCurrentPeriod(new Date(this.settings.now()));
    this.store.transaction(() => {
      this.store.tenants.upsert(DEMO_TENANT);
      for (const tp of DEMO_TAXPAYERS) {
        this.upsertTaxpayer({
          ...tp,
          taxPeriod,
          confirmPassword: DEMO_CONFIRM_PASSWORD,
          tenantId: DEMO_TENANT.tenantId,
        });
        this.generateInvoices(tp.taxNo, {
          count: body.invoicesPerTaxpayer ?? 30,
          seed: body.seed ?? 1,
          period: taxPeriod,
        });
      }
      this.store.invoices.insert(SEED_SAMPLE_TAX_NO, SEED_SAMPLE_INVOICE, false);
      SEED_TASK_NOS.forEach(({ kind, taskNo }, seq) =>
        this.store.tasks.reserveTaskNo(SEED_SAMPLE_TAX_NO, kind, seq, taskNo),
      );
    });
    return DEMO_TAXPAYERS.map((tp) => this.summary(tp.taxNo)!);
  }

  summary(taxNo: string): TaxpayerSummary | undefined {
    if (!this.store.taxpayers.get(taxNo)) return undefined;
    return this.store.transaction(() => {
      this.bureau.catchUp(taxNo);
      const tp = this.bureau.taxpayer(taxNo);
      const counts = this.store.invoices.counts(taxNo);
      return {
        taxNo,
        name: tp.name,
        tenantId: tp.tenantId,
        softCertificate: tp.softCertificate,
        periodChangeSupported: tp.periodChangeSupported,
        taxPeriod: tp.taxPeriod,
        deductionDeadline: this.bureau.deadline(tp),
        statisticStatus: this.bureau.statisticStatus(taxNo, tp.taxPeriod),
        invoiceCount: counts.total,
        selectedCount: counts.selected,
        unselectedCount: counts.total - counts.selected,
        confirmedPeriods: this.store.taxpayers.confirmedPeriods(taxNo),
        lastLoginAt: tp.lastLoginAt === null ? null : new Date(tp.lastLoginAt).toISOString(),
      };
    });
  }
}

/** Bad admin input that zod could not catch (e.g. an unknown tenant): 400 naming the field. */
export class AdminInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
