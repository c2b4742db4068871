import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'mocha';
import { GatewayCode, StatisticStatus } from '../protocol/codes.js';
import {
  invoiceInput,
  KINGDEE,
  selectAndWait,
  selectLine,
  selectRequest,
  sleep,
  TestSandbox,
} from './support/sandbox.js';

/** The ledger holds every write request that reached the bureau, accepted or refused, with what it found. */

const TAX = KINGDEE;

describe('sandbox: the ledger of write requests', () => {
  let t: TestSandbox;

  beforeEach(async () => {
    t = await TestSandbox.start();
    await t.admin.seedDemo({ taxPeriod: '202510', now: '2025-11-05T10:00:00+08:00', invoicesPerTaxpayer: 0 });
    await t.admin.addInvoices(TAX, [
      invoiceInput('L1'),
      invoiceInput('L2', { invoiceAmount: '200.50', taxAmount: '26.07' }),
    ]);
    await t.login();
    await t.ok('taxLogin', { taxNo: TAX });
  });
  afterEach(() => t.close());

  it('records refused writes with the refusal, and not the repeats answered from the requestId cache (de-duplication on)', async () => {
    await t.admin.setRequestIdDedup(true);
    const refused = await t.call('statisticConfirm', { taxNo: TAX, password: 'bad', asyncFlag: '1' }, 'c-1');
    assert.equal(refused.errorCode, GatewayCode.BusinessRuleViolated);
    const selected = await t.ok('invoiceSelect', selectRequest(TAX, [selectLine('L1')]), 's-1');
    const repeated = await t.ok('invoiceSelect', selectRequest(TAX, [selectLine('L1')]), 's-1');
    assert.equal(repeated.taskNo, selected.taskNo);

    assert.equal((await t.admin.ledger({ taxNo: TAX, interfaceCode: 'statisticConfirm' })).length, 0);
    const all = await t.admin.ledger({ taxNo: TAX, includeRefused: 'true' });
    assert.deepEqual(
      all.map((e) => [e.interfaceCode, e.requestId, e.accepted]),
      [
        ['taxLogin', 'r1', true],
        ['statisticConfirm', 'c-1', false],
        ['invoiceSelect', 's-1', true],
      ],
    );
    const confirm = all[1]!;
    assert.deepEqual(confirm.refusal, { code: GatewayCode.BusinessRuleViolated, message: '确认密码错误' });
    assert.equal(confirm.outcome, `refused ${GatewayCode.BusinessRuleViolated} 确认密码错误`);
    assert.equal(confirm.period, '202510');
    assert.equal(confirm.statisticStatus, StatisticStatus.NotGenerated);
  });

  it('keeps what a select request asked and, once settled, its per-invoice result', async () => {
    await selectAndWait(t, TAX, [selectLine('L1'), selectLine('L2', { effectiveTaxAmount: '26.07' })]);
    await selectAndWait(t, TAX, [selectLine('L1')], { cancel: true });
    const [select, cancel] = await t.admin.ledger({ taxNo: TAX, interfaceCode: 'invoiceSelect' });
    // The default profile: 1 selects, 0 cancels; the ledger keeps the flag and how the profile read it.
    assert.deepEqual([select!.authenticateFlag, select!.selectAction], ['1', 'select']);
    assert.deepEqual([cancel!.authenticateFlag, cancel!.selectAction], ['0', 'cancel']);
    assert.deepEqual(select!.invoices, [
      { invoiceCode: '', invoiceNo: 'L1', effectiveTaxAmount: '13.00', purpose: '1' },
      { invoiceCode: '', invoiceNo: 'L2', effectiveTaxAmount: '26.07', purpose: '1' },
    ]);
    const lines = (select!.taskResult as { lines: { invoiceNo: string; resultCode: number }[] }).lines;
    assert.deepEqual(
      lines.map((l) => [l.invoiceNo, l.resultCode]),
      [
        ['L1', 1],
        ['L2', 1],
      ],
    );
    // The pool listing and the statistic table the bureau holds, over the admin API.
    const pool = await t.admin.listInvoices(TAX);
    assert.deepEqual(
      pool.map((i) => [i.invoiceNo, i.selectStatus, i.effectiveTax]),
      [
        ['L1', '0', ''],
        ['L2', '1', '26.07'],
      ],
    );
    const statistic = await t.admin.statistic(TAX, '202510');
    assert.equal(statistic.items[0]!.deductibleAmount, '200.50');
    assert.equal(statistic.items[0]!.deductibleTax, '26.07');
  });

  it('records the statistic status each generate request found, and its operateType', async () => {
    await selectAndWait(t, TAX, [selectLine('L1')]);
    await t.admin.setTaskDelays({ statisticMs: 60_000 });
    await t.ok('statisticCreate', { taxNo: TAX, operateType: '1', asyncFlag: '1' });
    await t.ok('statisticCreate', { taxNo: TAX, operateType: '1', asyncFlag: '1' });
    const creates = await t.admin.ledger({ taxNo: TAX, interfaceCode: 'statisticCreate' });
    assert.deepEqual(
      creates.map((e) => [e.operateType, e.statisticStatus, e.outcome]),
      [
        ['1', StatisticStatus.NotGenerated, 'pending'],
        ['1', StatisticStatus.Generating, 'pending'],
      ],
    );
  });
});

describe('sandbox: faults served', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'vat-faults-served-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('counts what it served, a reply lost after processing included, across a restart', async () => {
    const dbFile = join(dir, 'sandbox.sqlite');
    let t = await TestSandbox.start({ dbFile });
    try {
      await t.admin.seedDemo({ taxPeriod: '202510', now: '2025-11-05T10:00:00+08:00', invoicesPerTaxpayer: 0 });
      await t.login();
      await t.admin.setFaults({ http5xxRate: 1, injectAt: 'after', interfaces: ['taxLogin'] });
      assert.equal((await t.rawHttp(t.envelope('taxLogin', { taxNo: TAX }))).status, 503);
      await t.admin.setFaults({ hangRate: 1, injectAt: 'before', interfaces: ['taxperiodQuery'] });
      await assert.rejects(t.rawHttp(t.envelope('taxperiodQuery', { taxNo: TAX }), t.accessToken, 200), /timeout/);
      await sleep(50);
    } finally {
      await t.close();
    }
    t = await TestSandbox.start({ dbFile });
    try {
      const served = await t.admin.faultsServed();
      assert.deepEqual(served, {
        tenantId: 'devbiz',
        http5xx: 1,
        hang: 1,
        reset: 0,
        corrupt: 0,
        slow: 0,
        lostAfterProcessing: 1,
        writesLostAfterProcessing: 1,
        writesLostByInterface: { taxLogin: 1 },
      });
      assert.equal((await t.admin.ledger({ taxNo: TAX, interfaceCode: 'taxLogin' })).length, 1);
    } finally {
      await t.close();
    }
  });
});
