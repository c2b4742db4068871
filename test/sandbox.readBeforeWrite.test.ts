import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'mocha';
import { StatisticStatus } from '../protocol/codes.js';
import { sandboxEnv } from '../simulator/sandboxEnv.js';
import { SANDBOX_NOW, TEST_PERIOD } from './support/calendar.js';
import {
  invoiceInput,
  KINGDEE,
  selectAndWait,
  selectLine,
  selectRequest,
  statisticTask,
  TestSandbox,
} from './support/sandbox.js';

/**
 * Writes that are safe on a real bureau: the sandbox does not de-duplicate requestIds unless told
 * to, and shows the in-progress states a client reads before it resends a write (勾选中, and no
 * revoking or confirming while a statistic task runs).
 */

const TAX = KINGDEE;
const DAY = `${TEST_PERIOD.slice(0, 4)}-${TEST_PERIOD.slice(4)}-10`;
/** Long enough (sandbox time) to keep a task pending for the whole test. */
const PENDING_MS = 600_000;
/** The sandbox clock once every pending task is due. */
const LATER = new Date(Date.parse(SANDBOX_NOW) + 2 * PENDING_MS).toISOString();

const line = (invoiceNo: string) => selectLine(invoiceNo, { invoiceDate: DAY });

describe('sandbox: reading before writing', () => {
  let t: TestSandbox;

  beforeEach(async () => {
    t = await TestSandbox.start();
    await t.admin.seedDemo({ taxPeriod: TEST_PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 0 });
    await t.admin.addInvoices(
      TAX,
      ['S1', 'S2', 'S3'].map((n) => invoiceInput(n, { invoiceDate: DAY })),
    );
    await t.login();
    await t.ok('taxLogin', { taxNo: TAX });
  });
  afterEach(() => t.close());

  const ledger = async (interfaceCode: string) => t.admin.ledger({ taxNo: TAX, interfaceCode });
  const pending = (kind: 'select' | 'statistic' | 'confirm' | 'download') =>
    t.admin.setTaskLatency({ kind, distribution: { type: 'fixed', ms: PENDING_MS } });
  const allows = async () => {
    const s = await t.ok('statisticQuery', { taxNo: TAX });
    return { status: s.createTjbbStatus, revoke: s.isAllowQxTj, confirm: s.isAllowQrtj };
  };

  describe('requestId de-duplication', () => {
    it('is off by default: the same requestId twice is two writes, two tasks, two ledger entries', async () => {
      assert.deepEqual(await t.admin.getRequestIdDedup('devbiz'), { tenantId: 'devbiz', enabled: false });
      const first = await t.ok('invoiceSelect', selectRequest(TAX, [line('S1')]), 'same');
      const second = await t.ok('invoiceSelect', selectRequest(TAX, [line('S1')]), 'same');
      assert.notEqual(second.taskNo, first.taskNo);
      assert.deepEqual(
        (await ledger('invoiceSelect')).map((e) => [e.requestId, e.taskNo]),
        [
          ['same', first.taskNo],
          ['same', second.taskNo],
        ],
      );
    });

    it('is on through the admin API: the repeat gets the first reply and reaches nothing', async () => {
      assert.deepEqual(await t.admin.setRequestIdDedup(true), { tenantId: '*', enabled: true });
      assert.equal((await t.admin.getRequestIdDedup('devbiz')).enabled, true, 'a tenant without its own follows "*"');
      const first = await t.ok('invoiceSelect', selectRequest(TAX, [line('S1')]), 'same');
      const second = await t.ok('invoiceSelect', selectRequest(TAX, [line('S1')]), 'same');
      assert.equal(second.taskNo, first.taskNo);
      assert.equal((await ledger('invoiceSelect')).length, 1);

      assert.deepEqual(await t.admin.setRequestIdDedup(false, 'devbiz'), { tenantId: 'devbiz', enabled: false });
      await t.ok('invoiceSelect', selectRequest(TAX, [line('S1')]), 'same');
      assert.equal((await ledger('invoiceSelect')).length, 2, "the tenant's own setting wins");
    });

    it('is set for every tenant at start, and by SANDBOX_DEDUPLICATE_REQUEST_IDS', async () => {
      const started = await TestSandbox.start({ deduplicateRequestIds: true });
      try {
        assert.equal((await started.admin.getRequestIdDedup()).enabled, true);
      } finally {
        await started.close();
      }
      assert.equal(sandboxEnv({ SANDBOX_DEDUPLICATE_REQUEST_IDS: '1' }).deduplicateRequestIds, true);
      assert.equal(sandboxEnv({}).deduplicateRequestIds, undefined);
      assert.throws(() => sandboxEnv({ SANDBOX_DEDUPLICATE_REQUEST_IDS: 'yes' }), /SANDBOX_DEDUPLICATE_REQUEST_IDS/);
    });
  });

  describe('勾选中 (flag 5) while a select task is pending', () => {
    const poolFlags = async (selectStatus?: '0' | '1' | '5') => {
      const page = await t.ok('invoicePoolQuery', { taxNo: TAX, ...(selectStatus ? { selectStatus } : {}) });
      assert.equal(page.total, page.invoices.length);
      return Object.fromEntries(page.invoices.map((i) => [i.invoiceNo, i.selectStatus]));
    };
    const downloadFlags = async (authenticateFlags?: string) => {
      const searchOpt = { taxPeriod: TEST_PERIOD, ...(authenticateFlags ? { authenticateFlags } : {}) };
      const { taskNo } = await t.ok('invoiceDown', { taxNo: TAX, asyncFlag: '1', searchOpt });
      const reply = await t.settled('invoiceDownQuery', { taxNo: TAX, taskNo, saveFlag: '1' });
      assert.equal(reply.errorCode, '0000', reply.message);
      return Object.fromEntries(reply.decoded!.invoices.map((i) => [i.invoiceNo, i.authenticateFlag]));
    };

    it('shows 5 in the pool and in a download, filters by it, and 1 once the task settled', async () => {
      await pending('select');
      await t.ok('invoiceSelect', selectRequest(TAX, [line('S1')]));
      // A confirmed pre-selection is a select task too.
      await t.ok('preSelect', { taxNo: TAX, deductionPurpose: '1', invoices: [line('S2')] });
      await t.ok('preSelectConfirm', { taxNo: TAX, asyncFlag: '1' });

      assert.deepEqual(await poolFlags(), { S1: '5', S2: '5', S3: '0' });
      assert.deepEqual(await poolFlags('0'), { S3: '0' }, 'an invoice in progress is not "not selected"');
      assert.deepEqual(await poolFlags('5'), { S1: '5', S2: '5' });
      assert.deepEqual(await poolFlags('1'), {});
      assert.deepEqual(await downloadFlags(), { S1: '5', S2: '5', S3: '0' });
      assert.deepEqual(await downloadFlags('5'), { S1: '5', S2: '5' });
      assert.deepEqual(await downloadFlags('0,1'), { S3: '0' });

      await t.admin.setClock(LATER);
      assert.deepEqual(await poolFlags(), { S1: '1', S2: '1', S3: '0' });
      assert.deepEqual(await poolFlags('5'), {});
      assert.deepEqual(await downloadFlags(), { S1: '1', S2: '1', S3: '0' });
    });

    it('shows 5 while a cancellation is pending', async () => {
      await selectAndWait(t, TAX, [line('S1')]);
      await pending('select');
      await t.ok('invoiceSelect', selectRequest(TAX, [line('S1')], { cancel: true }));
      assert.deepEqual(await poolFlags(), { S1: '5', S2: '0', S3: '0' });
      await t.admin.setClock(LATER);
      assert.deepEqual(await poolFlags(), { S1: '0', S2: '0', S3: '0' });
    });
  });

  describe('no revoking or confirming while a statistic or confirm task is pending', () => {
    beforeEach(async () => {
      await selectAndWait(t, TAX, [line('S1')]);
      await statisticTask(t, TAX, '1');
      assert.deepEqual(await allows(), { status: StatisticStatus.Generated, revoke: true, confirm: true });
    });

    it('a pending confirmation: the status stays 02, and a second confirmation is still accepted and ledgered', async () => {
      await pending('confirm');
      await t.ok('statisticConfirm', { taxNo: TAX, password: '1234567', asyncFlag: '1' });
      assert.deepEqual(await allows(), { status: StatisticStatus.Generated, revoke: false, confirm: false });
      await t.ok('statisticConfirm', { taxNo: TAX, password: '1234567', asyncFlag: '1' });
      assert.deepEqual(
        (await ledger('statisticConfirm')).map((e) => [e.accepted, e.outcome]),
        [
          [true, 'pending'],
          [true, 'pending'],
        ],
      );
      await t.admin.setClock(LATER);
      assert.equal((await allows()).status, StatisticStatus.Confirmed);
    });

    it('a pending revoke: the status stays 02 until it settles', async () => {
      await pending('statistic');
      await t.ok('statisticCreate', { taxNo: TAX, operateType: '2', asyncFlag: '1' });
      assert.deepEqual(await allows(), { status: StatisticStatus.Generated, revoke: false, confirm: false });
      await t.admin.setClock(LATER);
      assert.equal((await allows()).status, StatisticStatus.NotGenerated);
    });

    it('maxInjected 1 loses exactly one reply; setting the faults again starts a new count', async () => {
      await pending('confirm');
      const faults = {
        http5xxRate: 1,
        injectAt: 'after' as const,
        interfaces: ['statisticConfirm'],
        maxInjected: 1,
      };
      await t.admin.setFaults(faults);
      const confirm = () =>
        t.rawHttp(t.envelope('statisticConfirm', { taxNo: TAX, password: '1234567', asyncFlag: '1' }));
      assert.equal((await confirm()).status, 503);
      assert.equal((await allows()).confirm, false, 'the lost write shows as a pending confirmation');
      const answered = await confirm();
      assert.deepEqual([answered.status, answered.data.errorCode], [200, '0000']);
      assert.equal((await t.admin.faultsServed()).http5xx, 1);
      assert.equal((await ledger('statisticConfirm')).length, 2);

      await t.admin.setFaults(faults);
      assert.equal((await confirm()).status, 503);
      assert.equal((await confirm()).status, 200);
      assert.equal((await t.admin.faultsServed()).http5xx, 2);
    });
  });
});
