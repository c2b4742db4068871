import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'mocha';
import {
  confirmAndWait,
  invoiceInput,
  KINGDEE,
  selectAndWait,
  selectLine,
  selectRequest,
  selectResults,
  statisticTask,
  TestSandbox,
  withCheckCharacter,
} from './support/sandbox.js';

/**
 * The bureau rules, each with its documented selectResult (docs/protocol.md). Period
 * 202510, clock 2025-11-05 unless said.
 */

const inv = invoiceInput;

describe('sandbox: bureau rules', () => {
  let t: TestSandbox;
  const TAX = KINGDEE;

  beforeEach(async () => {
    t = await TestSandbox.start();
    await t.admin.seedDemo({ taxPeriod: '202510', now: '2025-11-05T10:00:00+08:00', invoicesPerTaxpayer: 0 });
    await t.admin.addInvoices(TAX, [
      inv('A1'),
      inv('A2'),
      inv('A3'),
      inv('ORD', { invoiceType: 1 }),
      inv('AGRI', { invoiceType: 26, agricultural: true, taxAmount: '9.00' }),
      inv('OOC', { invoiceStatus: 1 }),
      inv('VOID', { invoiceStatus: 2 }),
      inv('RED', { invoiceStatus: 3 }),
      inv('ABN', { invoiceStatus: 4 }),
      inv('PART', { invoiceStatus: 7 }),
      inv('NEG', { invoiceAmount: '-100.00', taxAmount: '-13.00' }),
      inv('LATE', { invoiceDate: '2025-11-02' }),
      inv('OLD', { invoiceDate: '2023-08-16' }),
    ]);
    await t.login();
    await t.ok('taxLogin', { taxNo: TAX });
  });
  afterEach(() => t.close());

  it('gives each invoice its result code', async () => {
    const codes = await selectAndWait(t, TAX, [
      selectLine('A1'),
      selectLine('MISSING'),
      selectLine('ORD'),
      selectLine('AGRI', { effectiveTaxAmount: '9.00' }),
      selectLine('OOC'),
      selectLine('VOID'),
      selectLine('RED'),
      selectLine('ABN'),
      selectLine('PART'),
      selectLine('NEG', { effectiveTaxAmount: '0.00' }),
      selectLine('A2', { effectiveTaxAmount: '13.01' }),
      selectLine('A3', { effectiveTaxAmount: '-1.00' }),
      selectLine('LATE'),
      selectLine('OLD'),
    ]);
    assert.deepEqual(codes, {
      A1: '1',
      MISSING: '2',
      ORD: '3',
      AGRI: '1',
      OOC: '15',
      VOID: '11',
      RED: '12',
      ABN: '3',
      PART: '1',
      NEG: '16',
      A2: '8',
      A3: '8',
      LATE: '10',
      OLD: '1',
    });
    const again = await selectResults(t, TAX, [selectLine('A1')]);
    assert.deepEqual(
      again.success.map((i) => [i.invoiceNo, i.selectResult, i.description]),
      [['A1', '1', '发票已勾选']],
      're-select answers success "already selected"',
    );
    const pool = await t.ok('invoicePoolQuery', { taxNo: TAX, selectStatus: '1' });
    assert.deepEqual(pool.invoices.map((i) => i.invoiceNo).sort(), ['A1', 'AGRI', 'OLD', 'PART']);
    assert.ok(pool.invoices.every((i) => i.selectPeriod === '202510'));
  });

  it('refuses an invoice whose type is not in the line type list (2)', async () => {
    assert.deepEqual(await selectAndWait(t, TAX, [selectLine('A1', { invoiceType: '4' })]), { A1: '2' });
  });

  it('cancels a selection (authenticateFlag 0 under the default profile)', async () => {
    await selectAndWait(t, TAX, [selectLine('A1')]);
    assert.deepEqual(await selectAndWait(t, TAX, [selectLine('A1')], { cancel: true }), { A1: '1' });
    const pool = await t.ok('invoicePoolQuery', { taxNo: TAX, selectStatus: '1' });
    assert.equal(pool.total, 0);
  });

  it('answers 8 "税局登录失败" without a bureau login in the last 24 h', async () => {
    const loginFailed = async (invoiceNo: string) => {
      const { success, fail } = await selectResults(t, taxNo, [selectLine(invoiceNo)]);
      assert.deepEqual(success, []);
      assert.deepEqual(
        fail.map((i) => [i.invoiceNo, i.selectResult]),
        [[invoiceNo, '8']],
      );
      assert.match(fail[0]!.description, /税局登录失败/);
    };
    const taxNo = withCheckCharacter('91440300MA5TEQ012');
    await t.admin.upsertTaxpayer({
      taxNo,
      name: '未登录测试有限公司',
      softCertificate: true,
      periodChangeSupported: true,
      taxPeriod: '202510',
      confirmPassword: '1234567',
    });
    await t.admin.addInvoices(taxNo, [inv('B1')]);
    await loginFailed('B1');
    await t.ok('taxLogin', { taxNo });
    await t.admin.setClock('2025-11-06T10:00:01+08:00');
    await loginFailed('B1'); // the login expired after 24 h
    await t.ok('taxLogin', { taxNo });
    assert.deepEqual(await selectAndWait(t, taxNo, [selectLine('B1')]), { B1: '1' });
  });

  it('generates 22 with nothing selected, 02 with a selection; revoking gives 01', async () => {
    assert.equal((await statisticTask(t, TAX, '1')).createTjbbStatus, '22');
    await selectAndWait(t, TAX, [selectLine('A1')]);
    const generated = await statisticTask(t, TAX, '1');
    assert.deepEqual([generated.createTjbbStatus, generated.isAllowQrtj, generated.isAllowQxTj], ['02', true, true]);
    assert.equal((await t.ok('statisticQuery', { taxNo: TAX })).createTjbbStatus, '02');
    const revoked = await statisticTask(t, TAX, '2');
    assert.deepEqual([revoked.createTjbbStatus, revoked.isAllowQrtj, revoked.isAllowQxTj], ['01', false, false]);
  });

  it('locks selection and cancellation (20) while the statistic is generated', async () => {
    await selectAndWait(t, TAX, [selectLine('A1')]);
    await statisticTask(t, TAX, '1');
    assert.deepEqual(await selectAndWait(t, TAX, [selectLine('A2')]), { A2: '20' });
    assert.deepEqual(await selectAndWait(t, TAX, [selectLine('A1')], { cancel: true }), { A1: '20' });
  });

  it('generates 03 outside the filing window', async () => {
    await t.admin.setClock('2025-09-20T10:00:00+08:00');
    await t.ok('taxLogin', { taxNo: TAX });
    await selectAndWait(t, TAX, [selectLine('A1', { invoiceDate: '2025-09-01' })]);
    const outside = await statisticTask(t, TAX, '1');
    assert.deepEqual([outside.createTjbbStatus, outside.isAllowQrtj, outside.isAllowQxTj], ['03', false, true]);
  });

  it('confirms only after the period month, with the right password, a generated statistic', async () => {
    await selectAndWait(t, TAX, [selectLine('A1')]);
    const confirm = (password = '1234567') => t.call('statisticConfirm', { taxNo: TAX, password, asyncFlag: '1' });
    const notGenerated = await confirm();
    assert.equal(notGenerated.errorCode, '3001');
    assert.match(notGenerated.message, /01/);
    await statisticTask(t, TAX, '1');
    const wrong = await confirm('7654321');
    assert.deepEqual([wrong.errorCode, wrong.message], ['3001', '确认密码错误']);

    await t.admin.setClock('2025-10-31T23:59:00+08:00');
    const early = await confirm();
    assert.deepEqual([early.errorCode, early.message], ['3002', '未到统计确认时间']);

    await t.admin.setClock('2025-11-06T10:00:00+08:00');
    await t.ok('taxLogin', { taxNo: TAX });
    const { statistic } = await confirmAndWait(t, TAX);
    assert.deepEqual(
      [statistic.createTjbbStatus, statistic.isAllowQrtj, statistic.isAllowQxTj, statistic.updateTime],
      ['05', false, false, '2025-11-06 10:00:00'],
    );
    const state = await t.admin.getTaxpayer(TAX);
    assert.deepEqual([state.statisticStatus, state.confirmedPeriods], ['05', ['202510']]);
    assert.deepEqual(await selectAndWait(t, TAX, [selectLine('A2')]), { A2: '20' }, 'the period is closed');
  });

  it('rolls the period over at the end of the deadline day and revokes unconfirmed selections', async () => {
    await selectAndWait(t, TAX, [selectLine('A1')]);
    await t.admin.setClock('2025-11-15T23:59:59+08:00');
    assert.equal((await t.admin.getTaxpayer(TAX)).taxPeriod, '202510');
    await t.admin.setClock('2025-11-16T00:00:00+08:00');
    const state = await t.admin.getTaxpayer(TAX);
    assert.deepEqual([state.taxPeriod, state.deductionDeadline, state.selectedCount], ['202511', '2025-12-15', 0]);
    const period = await t.ok('taxperiodQuery', { taxNo: TAX });
    assert.deepEqual(
      [period.taxPeriod, period.skssq, period.gxrqfw],
      ['202511', '202511;20251215;202511', '20170101-20251130'],
    );
    assert.equal((await t.ok('statisticQuery', { taxNo: TAX })).createTjbbStatus, '01');
  });

  it('keeps confirmed selections over the rollover', async () => {
    await selectAndWait(t, TAX, [selectLine('A1')]);
    await statisticTask(t, TAX, '1');
    await confirmAndWait(t, TAX);
    await t.admin.setClock('2025-11-20T10:00:00+08:00');
    const state = await t.admin.getTaxpayer(TAX);
    assert.deepEqual([state.taxPeriod, state.selectedCount], ['202511', 1]);
  });

  it('reports deductible and not-deductible sums by bureau category; updateTime follows changes', async () => {
    await selectAndWait(t, TAX, [selectLine('A1'), selectLine('A2', { effectiveTaxAmount: '6.50' })]);
    await selectAndWait(t, TAX, [selectLine('AGRI', { effectiveTaxAmount: '9.00', notDeductibleType: '1' })], {
      purpose: '2',
    });
    const first = await t.ok('statisticQuery', { taxNo: TAX });
    // 27 (数电专票) is category 01; 26 (数电普票) has no category: it counts in the total only.
    assert.deepEqual(first.tjInfoArr, [
      {
        invoiceType: '01',
        deductibleNum: 2,
        deductibleAmount: '200.00',
        deductibleTax: '19.50',
        unDeductibleNum: 0,
        unDeductibleAmount: '0.00',
        unDeductibleTax: '0.00',
      },
      {
        invoiceType: '99',
        deductibleNum: 2,
        deductibleAmount: '200.00',
        deductibleTax: '19.50',
        unDeductibleNum: 1,
        unDeductibleAmount: '100.00',
        unDeductibleTax: '9.00',
      },
    ]);
    await t.admin.setClock('2025-11-05T11:30:00+08:00');
    assert.equal((await t.ok('statisticQuery', { taxNo: TAX })).updateTime, first.updateTime, 'unchanged');
    await t.ok('taxLogin', { taxNo: TAX });
    await selectAndWait(t, TAX, [selectLine('A3')]);
    assert.equal((await t.ok('statisticQuery', { taxNo: TAX })).updateTime, '2025-11-05 11:30:00');
  });

  it('changes the period one month at a time, within 12 months back, never to a confirmed one', async () => {
    const change = (taxPeriod: string) => t.call('taxperiodChange', { taxNo: TAX, taxPeriod, status: 1 });
    assert.equal((await change('202512')).errorCode, '3001', 'two months forward');
    assert.deepEqual((await change('202511')).decoded, {
      taxNo: TAX,
      taxPeriod: '202511',
      allowChangeSsqBySeason: true,
    });
    assert.equal((await t.ok('taxperiodQuery', { taxNo: TAX })).taxPeriod, '202511');
    assert.equal((await change('202511')).errorCode, '0000', 'already there: success');
    assert.equal((await change('202512')).errorCode, '3001', 'future period');
    assert.equal((await change('202510')).errorCode, '0000', 'back one month');

    await selectAndWait(t, TAX, [selectLine('A1')]);
    await statisticTask(t, TAX, '1');
    const locked = await change('202511');
    assert.match(locked.message, /已生成统计表/);
    await confirmAndWait(t, TAX);
    assert.equal((await change('202511')).errorCode, '0000');
    const back = await change('202510');
    assert.equal(back.errorCode, '3001');
    assert.match(back.message, /已确认/);

    await t.admin.upsertTaxpayer({
      taxNo: TAX,
      name: '深圳市金蝶示例科技有限公司',
      softCertificate: true,
      periodChangeSupported: true,
      taxPeriod: '202411',
      confirmPassword: '1234567',
    });
    const tooOld = await change('202410');
    assert.equal(tooOld.errorCode, '3001');
    assert.match(tooOld.message, /12个月/);
  });

  it('answers 2002 / 2001 for task numbers of the wrong kind or unknown; 1003 for an undocumented confirm result', async () => {
    await selectAndWait(t, TAX, [selectLine('A1')]);
    const generate = await t.ok('statisticCreate', { taxNo: TAX, operateType: '1', asyncFlag: '1' });
    await t.settled('statisticCreateQuery', { taxNo: TAX, taskNo: generate.taskNo });
    const confirm = await t.ok('statisticConfirm', { taxNo: TAX, password: '1234567', asyncFlag: '1' });
    assert.equal((await t.call('statisticCreateQuery', { taxNo: TAX, taskNo: confirm.taskNo })).errorCode, '2002');
    const unknown = '0123456789abcdef0123456789abcdef';
    assert.equal((await t.call('invoiceSelectQuery', { taxNo: TAX, taskNo: unknown })).errorCode, '2001');
    // The default profile has no confirm-result interface (confirmation shows as 05 in the statistic).
    assert.equal((await t.call('statisticConfirmResult', { taxNo: TAX, taskNo: confirm.taskNo })).errorCode, '1003');
  });

  it('with requestId de-duplication on, repeats a write with the same requestId: same reply, done once', async () => {
    await t.admin.setRequestIdDedup(true);
    const first = await t.ok('invoiceSelect', selectRequest(TAX, [selectLine('A1')]), 'sel-1');
    const again = await t.ok('invoiceSelect', selectRequest(TAX, [selectLine('A2')]), 'sel-1');
    assert.equal(again.taskNo, first.taskNo);
    await t.settled('invoiceSelectQuery', { taxNo: TAX, taskNo: first.taskNo! });
    const pool = await t.ok('invoicePoolQuery', { taxNo: TAX, selectStatus: '1' });
    assert.deepEqual(
      pool.invoices.map((i) => i.invoiceNo),
      ['A1'],
    );
    assert.equal((await t.admin.ledger({ taxNo: TAX, interfaceCode: 'invoiceSelect' })).length, 1);

    await statisticTask(t, TAX, '1');
    // A refused write is not remembered: the retry with the right password goes through.
    const refused = await t.call('statisticConfirm', { taxNo: TAX, password: 'bad', asyncFlag: '1' }, 'conf-1');
    assert.equal(refused.errorCode, '3001');
    const accepted = await t.ok('statisticConfirm', { taxNo: TAX, password: '1234567', asyncFlag: '1' }, 'conf-1');
    const repeated = await t.ok('statisticConfirm', { taxNo: TAX, password: '1234567', asyncFlag: '1' }, 'conf-1');
    assert.equal(repeated.taskNo, accepted.taskNo);
    assert.equal((await t.admin.ledger({ taxNo: TAX, interfaceCode: 'statisticConfirm' })).length, 1);
  });

  it('pages the select result and the pool', async () => {
    const lines = ['A1', 'A2', 'A3', 'ORD', 'VOID'].map((n) => selectLine(n));
    const { taskNo } = await t.ok('invoiceSelect', selectRequest(TAX, lines));
    const page2 = await t.settled('invoiceSelectQuery', { taxNo: TAX, taskNo: taskNo!, pageNo: 2, pageSize: 2 });
    assert.deepEqual([page2.decoded?.total, page2.decoded?.pageNo, page2.decoded?.pageSize], [5, 2, 2]);
    assert.deepEqual(
      [page2.decoded?.success.map((l) => l.invoiceNo), page2.decoded?.fail.map((l) => l.invoiceNo)],
      [['A3'], ['ORD']],
    );
    const page3 = await t.ok('invoiceSelectQuery', { taxNo: TAX, taskNo: taskNo!, pageNo: 3, pageSize: 2 });
    assert.deepEqual([page3.success.length, page3.fail.map((l) => l.invoiceNo)], [0, ['VOID']]);
    const pool = await t.ok('invoicePoolQuery', {
      taxNo: TAX,
      invoiceType: '27',
      invoiceDateStart: '2025-10-01',
      invoiceDateEnd: '2025-10-31',
      pageNo: 1,
      pageSize: 3,
    });
    assert.equal(pool.total, 9);
    assert.equal(pool.invoices.length, 3);
  });
});
