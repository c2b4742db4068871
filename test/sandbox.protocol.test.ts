import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'mocha';
import { MAX_INVOICES_PER_BATCH } from '../protocol/interfaces.js';
import {
  confirmAndWait,
  invoiceInput,
  KINGDEE,
  selectAndWait,
  selectLine,
  selectRequest,
  statisticTask,
  TestSandbox,
} from './sandbox.helpers.js';

/** Issue 3 §1-3: purpose rules, batch size, 进项表头归集 (invoiceDown), 预勾选 (preSelect), the ledger and invariants. */

const inv = invoiceInput;

describe('sandbox: protocol completeness', () => {
  let t: TestSandbox;
  const TAX = KINGDEE;

  beforeEach(async () => {
    t = await TestSandbox.start();
    await t.admin.seedDemo({ taxPeriod: '202510', now: '2025-11-05T10:00:00+08:00', invoicesPerTaxpayer: 0 });
    await t.admin.addInvoices(TAX, [inv('P1'), inv('P2'), inv('P3'), inv('P4', { invoiceStatus: 2 })]);
    await t.login();
    await t.ok('taxLogin', { taxNo: TAX });
  });
  afterEach(() => t.close());

  it('needs notDeductibleType with deductionPurpose 2 (1001 naming the line field)', async () => {
    const refused = await t.call('invoiceSelect', selectRequest(TAX, [selectLine('P1')], { purpose: '2' }));
    assert.equal(refused.errorCode, '1001');
    assert.match(refused.message, /invoices\.0\.notDeductibleType: notDeductibleType is required/);
    const codes = await selectAndWait(t, TAX, [selectLine('P1', { notDeductibleType: '1' })], { purpose: '2' });
    assert.deepEqual(codes, { P1: '1' });
  });

  it('needs a reason with deductionPurpose 5', async () => {
    const base = { ...selectRequest(TAX, [selectLine('P1')]), deductionPurpose: '5' };
    const refused = await t.call('invoiceSelect', base);
    assert.equal(refused.errorCode, '1001');
    assert.match(refused.message, /reason: reason is required when deductionPurpose is 5/);
    assert.equal((await t.call('invoiceSelect', { ...base, reason: '进项转出' })).errorCode, '0000');
  });

  it(`takes at most ${MAX_INVOICES_PER_BATCH} invoices per batch`, async () => {
    const lines = Array.from({ length: MAX_INVOICES_PER_BATCH + 1 }, (_, i) => selectLine(`X${i}`));
    const refused = await t.call('invoiceSelect', selectRequest(TAX, lines));
    assert.equal(refused.errorCode, '1001');
    assert.match(refused.message, /invoices: at most 2000 invoices per batch/);
    const full = await t.call('invoiceSelect', selectRequest(TAX, lines.slice(0, MAX_INVOICES_PER_BATCH)));
    assert.equal(full.errorCode, '0000');
  });

  it('invoiceDown pulls the bureau invoices of a date range into the pool; invoiceDownQuery reports it', async () => {
    await t.admin.addBureauInvoices(TAX, [
      inv('D1', { invoiceDate: '2025-10-03' }),
      inv('D2', { invoiceDate: '2025-10-20', invoiceType: 4, invoiceCode: '044001900111' }),
      inv('D3', { invoiceDate: '2025-11-02' }),
      inv('P1'), // already in the pool
    ]);
    const before = (await t.admin.getTaxpayer(TAX)).invoiceCount;
    const { taskNo } = await t.ok('invoiceDown', {
      taxNo: TAX,
      startDate: '2025-10-01',
      endDate: '2025-10-31',
      asyncFlag: '1',
    });
    const result = await t.settled('invoiceDownQuery', { taxNo: TAX, taskNo });
    assert.equal(result.errorCode, '0000');
    assert.deepEqual(result.decoded, {
      taskNo,
      success: true,
      resultMsg: '归集成功',
      startDate: '2025-10-01',
      endDate: '2025-10-31',
      total: 3,
      added: 2,
    });
    assert.equal((await t.admin.getTaxpayer(TAX)).invoiceCount, before + 2);
    assert.deepEqual(await selectAndWait(t, TAX, [selectLine('D1'), selectLine('D2')]), { D1: '1', D2: '1' });

    const again = await t.ok('invoiceDown', { taxNo: TAX, startDate: '2025-10-01', endDate: '2025-10-31' });
    assert.equal((await t.settled('invoiceDownQuery', { taxNo: TAX, taskNo: again.taskNo })).decoded?.added, 0);
  });

  it('invoiceDown refuses a reversed range (1001 naming endDate) and fails without a bureau login', async () => {
    const reversed = await t.call('invoiceDown', { taxNo: TAX, startDate: '2025-10-31', endDate: '2025-10-01' });
    assert.equal(reversed.errorCode, '1001');
    assert.match(reversed.message, /endDate: endDate must not be before startDate/);
    await t.admin.expireBureauLogins(TAX);
    const { taskNo } = await t.ok('invoiceDown', { taxNo: TAX, startDate: '2025-10-01', endDate: '2025-10-31' });
    const result = await t.settled('invoiceDownQuery', { taxNo: TAX, taskNo });
    assert.equal(result.decoded?.success, false);
    assert.equal(result.decoded?.resultMsg, '税局登录失败');
  });

  it('pre-selects, confirms, and reports per-invoice results through preSelectConfirmQuery', async () => {
    const pre = await t.ok('preSelect', {
      taxNo: TAX,
      deductionPurpose: '1',
      invoices: [selectLine('P1'), selectLine('P4'), selectLine('NOPE')],
    });
    assert.deepEqual(
      [
        pre.success.map((l) => [l.invoiceNo, l.selectResult, l.description]),
        pre.fail.map((l) => [l.invoiceNo, l.selectResult]),
      ],
      [
        [
          ['P1', '1', '预勾选成功'],
          ['P4', '1', '预勾选成功'],
        ],
        [['NOPE', '2']],
      ],
    );
    assert.equal(pre.pendingCount, 2);
    const notDeducted = await t.ok('preSelect', {
      taxNo: TAX,
      deductionPurpose: '2',
      invoices: [selectLine('P2', { notDeductibleType: '1' })],
    });
    assert.equal(notDeducted.pendingCount, 3);
    assert.equal((await t.admin.getTaxpayer(TAX)).selectedCount, 0, 'pre-selection is not a selection');

    const confirm = await t.ok('preSelectConfirm', { taxNo: TAX, asyncFlag: '1' });
    assert.equal(confirm.count, 3);
    assert.equal(confirm.remaining, 0);
    const result = await t.settled('preSelectConfirmQuery', { taxNo: TAX, taskNo: confirm.taskNo, pageSize: 2 });
    assert.equal(result.decoded?.total, 3);
    assert.equal(result.decoded!.success.length + result.decoded!.fail.length, 2, 'paged');
    const all = await t.ok('preSelectConfirmQuery', { taxNo: TAX, taskNo: confirm.taskNo, pageSize: 50 });
    assert.deepEqual(Object.fromEntries([...all.success, ...all.fail].map((l) => [l.invoiceNo, l.selectResult])), {
      P1: '1',
      P4: '11',
      P2: '1',
    });
    const stat = await t.ok('statisticQuery', { taxNo: TAX });
    assert.deepEqual(
      stat.tjInfoArr?.map((i) => [i.invoiceType, i.deductibleNum, i.unDeductibleNum]),
      [
        ['01', 1, 1],
        ['99', 1, 1],
      ],
    );

    const nothing = await t.call('preSelectConfirm', { taxNo: TAX, asyncFlag: '1' });
    assert.equal(nothing.errorCode, '3001');
    const selectTask = await t.ok('invoiceSelect', selectRequest(TAX, [selectLine('P3')]));
    const wrongKind = await t.call('preSelectConfirmQuery', { taxNo: TAX, taskNo: selectTask.taskNo! });
    assert.equal(wrongKind.errorCode, '2001');
  });

  it('answers "1" 发票已勾选 when pre-selecting an invoice already selected, and keeps nothing pending', async () => {
    await selectAndWait(t, TAX, [selectLine('P1')]);
    const pre = await t.ok('preSelect', { taxNo: TAX, deductionPurpose: '1', invoices: [selectLine('P1')] });
    assert.deepEqual(
      [pre.success.map((i) => [i.selectResult, i.description]), pre.fail, pre.pendingCount],
      [[['1', '发票已勾选']], [], 0],
    );
  });

  it('repeats preSelectConfirm and invoiceDown idempotently by requestId', async () => {
    await t.ok('preSelect', { taxNo: TAX, deductionPurpose: '1', invoices: [selectLine('P1')] });
    const first = await t.ok('preSelectConfirm', { taxNo: TAX, asyncFlag: '1' }, 'confirm-1');
    const again = await t.ok('preSelectConfirm', { taxNo: TAX, asyncFlag: '1' }, 'confirm-1');
    assert.deepEqual(again, first);
    assert.equal((await t.admin.ledger({ interfaceCode: 'preSelectConfirm' })).length, 1);
  });

  it('ledgers every accepted operation and checks invariants (no double selection, one confirmation)', async () => {
    await selectAndWait(t, TAX, [selectLine('P1'), selectLine('P2')]);
    await selectAndWait(t, TAX, [selectLine('P1')]); // 19: not a second selection
    await selectAndWait(t, TAX, [selectLine('P2')], { cancel: true });
    await selectAndWait(t, TAX, [selectLine('P2')]); // selected again after a cancellation
    await statisticTask(t, TAX, '1');
    await confirmAndWait(t, TAX);

    const ledger = await t.admin.ledger({ taxNo: TAX });
    assert.deepEqual(
      ledger.map((e) => e.interfaceCode),
      [
        'taxLogin',
        'invoiceSelect',
        'invoiceSelect',
        'invoiceSelect',
        'invoiceSelect',
        'statisticCreate',
        'statisticConfirm',
      ],
    );
    for (const e of ledger) {
      assert.ok(e.time && e.taxNo === TAX && e.requestId && e.outcome && e.outcome !== 'pending', JSON.stringify(e));
    }
    assert.deepEqual(ledger[1]!.invoiceNos, ['P1', 'P2']);
    const invariants = await t.admin.invariants();
    assert.deepEqual(invariants.invoicesSelectedTwice, []);
    assert.deepEqual(invariants.periodsConfirmedTwice, []);
    assert.deepEqual(
      invariants.confirmationsPerTaxpayerPeriod.map((c) => [c.taxNo, c.period, c.confirmations]),
      [[TAX, '202510', 1]],
    );
  });
});
