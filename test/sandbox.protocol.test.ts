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
} from './support/sandbox.js';

/** Purpose rules, batch size, 进项表头归集 (invoiceDown), 预勾选 (preSelect), the ledger and invariants. */

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

  it('invoiceDown collects the bureau invoices of its search into the pool; invoiceDownQuery pages through them', async () => {
    await t.admin.addBureauInvoices(TAX, [
      inv('D1', { invoiceDate: '2025-10-03' }),
      inv('D2', { invoiceDate: '2025-10-20', invoiceType: 4, invoiceCode: '044001900111' }),
      inv('D3', { invoiceDate: '2025-11-02' }),
      inv('P1'), // already in the pool
    ]);
    await selectAndWait(t, TAX, [selectLine('P2')]);
    const before = (await t.admin.getTaxpayer(TAX)).invoiceCount;
    const { taskNo } = await t.ok('invoiceDown', { taxNo: TAX, asyncFlag: '1', searchOpt: { taxPeriod: '202510' } });
    const first = await t.settled('invoiceDownQuery', { taxNo: TAX, taskNo, saveFlag: '1', pageNo: 1, pageSize: 4 });
    assert.equal(first.errorCode, '0000');
    assert.deepEqual([first.decoded?.total, first.decoded?.pageNo, first.decoded?.invoices.length], [6, 1, 4]);
    const second = await t.ok('invoiceDownQuery', { taxNo: TAX, taskNo, saveFlag: '1', pageNo: 2, pageSize: 4 });
    const listed = [...first.decoded!.invoices, ...second.invoices];
    // The period's view: its invoices up to the period's end (D3 is later), the bureau's collected in.
    assert.deepEqual(
      listed.map((i) => i.invoiceNo),
      ['D1', 'P1', 'P2', 'P3', 'P4', 'D2'],
    );
    const p2 = listed.find((i) => i.invoiceNo === 'P2')!;
    assert.deepEqual(
      [p2.invoiceType, p2.invoiceDate, p2.invoiceAmount, p2.totalTaxAmount, p2.totalAmount, p2.effectiveTaxAmount],
      ['27', '2025-10-10', '100.00', '13.00', '113.00', '13.00'],
    );
    assert.deepEqual([p2.authenticateFlag, p2.taxPeriod, p2.invoiceStatus], ['1', '202510', '0']);
    assert.deepEqual(
      listed.filter((i) => i.invoiceNo !== 'P2').map((i) => i.authenticateFlag),
      ['0', '0', '0', '0', '0'],
    );
    assert.equal(listed.find((i) => i.invoiceNo === 'P4')!.invoiceStatus, '2');
    assert.equal((await t.admin.getTaxpayer(TAX)).invoiceCount, before + 2, 'D1 and D2 entered the pool');
    assert.deepEqual(await selectAndWait(t, TAX, [selectLine('D1'), selectLine('D2')]), { D1: '1', D2: '1' });

    const later = await t.ok('invoiceDown', {
      taxNo: TAX,
      searchOpt: { startTime: '2025-11-01', endTime: '2025-11-30' },
    });
    const found = await t.settled('invoiceDownQuery', { taxNo: TAX, taskNo: later.taskNo });
    assert.deepEqual(
      found.decoded?.invoices.map((i) => i.invoiceNo),
      ['D3'],
    );
    assert.equal((await t.admin.getTaxpayer(TAX)).invoiceCount, before + 3);
    const tooLarge = await t.call('invoiceDownQuery', { taxNo: TAX, taskNo, pageSize: 201 });
    assert.equal(tooLarge.errorCode, '1001');
    assert.match(tooLarge.message, /pageSize/);
  });

  it('invoiceDown refuses a reversed range (1001 naming searchOpt.endTime); without a bureau login its query answers 3001', async () => {
    const reversed = await t.call('invoiceDown', {
      taxNo: TAX,
      searchOpt: { startTime: '2025-10-31', endTime: '2025-10-01' },
    });
    assert.equal(reversed.errorCode, '1001');
    assert.match(reversed.message, /searchOpt\.endTime: endTime must not be before startTime/);
    await t.admin.expireBureauLogins(TAX);
    const { taskNo } = await t.ok('invoiceDown', { taxNo: TAX, searchOpt: { taxPeriod: '202510' } });
    const result = await t.settled('invoiceDownQuery', { taxNo: TAX, taskNo });
    assert.equal(result.errorCode, '3001');
    assert.equal(result.message, '税局登录失败');
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

  it('with requestId de-duplication on, repeats preSelectConfirm idempotently by requestId', async () => {
    await t.admin.setRequestIdDedup(true);
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
