import assert from 'node:assert/strict';
import { poolInvoice } from './support/poolInvoice.js';
import { scheduleOptionsFor } from '../client/schedules.js';
import { RegistryEntry } from '../config/registrySchema.js';
import { PoolFilter, passesPoolFilter } from '../rules/poolFilter.js';
import { planSelection, skipReason, type SelectionScope } from '../rules/selectionPolicy.js';
import { LauncherInput } from '../workflows/launcherContract.js';

const scope: SelectionScope = { taxPeriod: '202611', deductionDeadline: '2026-12-15', today: '2026-12-05' };

const invoice = poolInvoice;

describe('selection policy by pool dimensions', () => {
  it('keeps every invoice when no filter is given (the default)', () => {
    assert.equal(passesPoolFilter(invoice(), undefined), true);
    assert.equal(skipReason(invoice({ accountStatus: '0', boundBillType: '0' }), scope), undefined);
  });

  it('selects only booked invoices bound to a document', () => {
    const filter = PoolFilter.parse({ include: { accountStatus: ['Booked'] }, exclude: { boundBillType: ['None'] } });
    const pool = [
      invoice({ invoiceNo: 'booked-bound', accountStatus: '1', boundBillType: '4' }),
      invoice({ invoiceNo: 'booked-unbound', accountStatus: '1', boundBillType: '0' }),
      invoice({ invoiceNo: 'unbooked-bound', accountStatus: '0', boundBillType: '1' }),
    ];
    const plan = planSelection(pool, { ...scope, poolFilter: filter });
    assert.deepEqual(
      plan.candidates.map((c) => c.invoiceNo),
      ['booked-bound'],
    );
    assert.deepEqual(plan.skipped, { 'dimension-not-in-scope': 2 });
  });

  it('includes by data source and document type (every listed dimension must match)', () => {
    const filter = PoolFilter.parse({
      include: { dataSource: ['Collected'], boundBillType: ['ExpenseClaim', 'TravelClaimNotClientPaid'] },
    });
    assert.equal(passesPoolFilter(invoice({ dataSource: '2', boundBillType: '1' }), filter), true);
    assert.equal(passesPoolFilter(invoice({ dataSource: '2', boundBillType: '3' }), filter), true);
    assert.equal(passesPoolFilter(invoice({ dataSource: '1', boundBillType: '1' }), filter), false);
    assert.equal(passesPoolFilter(invoice({ dataSource: '2', boundBillType: '2' }), filter), false);
  });

  it('excludes an invoice when any excluded dimension matches', () => {
    const filter = PoolFilter.parse({
      exclude: { dataSource: ['BureauDownload'], boundBillType: ['TravelClaimClientPaid'] },
    });
    assert.equal(passesPoolFilter(invoice({ dataSource: '1', boundBillType: '1' }), filter), false);
    assert.equal(passesPoolFilter(invoice({ dataSource: '2', boundBillType: '2' }), filter), false);
    assert.equal(passesPoolFilter(invoice({ dataSource: '2', boundBillType: '1' }), filter), true);
  });

  it('rejects unknown names and empty lists, naming the field', () => {
    const unknown = PoolFilter.safeParse({ include: { boundBillType: ['Expense'] } });
    assert.equal(unknown.success, false);
    assert.deepEqual(unknown.error?.issues[0]?.path, ['include', 'boundBillType', 0]);
    const empty = PoolFilter.safeParse({ exclude: { accountStatus: [] } });
    assert.equal(empty.success, false);
    assert.match(empty.error?.issues[0]?.message ?? '', /at least one value/);
  });
});

describe('pool filter per taxpayer in the registry', () => {
  const entry = (options: unknown) =>
    RegistryEntry.safeParse({
      taxNo: '91440300591872133B',
      name: '深圳示例科技有限公司',
      approvers: ['王会计'],
      schedule: { dayOfMonth: 3, hour: 9 },
      options,
    });

  it('is carried from the registry into the monthly schedule', () => {
    const poolFilter = { include: { accountStatus: ['Booked'] }, exclude: { boundBillType: ['None'] } };
    const parsed = entry({ poolFilter });
    assert.ok(parsed.success);
    const action = scheduleOptionsFor(parsed.data).action as unknown as { args: [LauncherInput] };
    assert.deepEqual(action.args[0].poolFilter, poolFilter);
    assert.equal(LauncherInput.parse(action.args[0]).poolFilter?.include?.accountStatus?.[0], 'Booked');
  });

  it('names the registry field of a bad filter', () => {
    const parsed = entry({ poolFilter: { include: { dataSource: ['Fax'] } } });
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error?.issues[0]?.path, ['options', 'poolFilter', 'include', 'dataSource', 0]);
  });
});
