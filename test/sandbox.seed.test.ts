import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { decodeData } from '../protocol/codec.js';
import { softCertificateOffMessage, TASK_PROCESSING_MESSAGE } from '../protocol/codes.js';
import { AccessTokenReply, AppTokenReply } from '../protocol/envelope.js';
import {
  SEED_ACCESS_TOKEN_REQUEST,
  SEED_APP_TOKEN_REQUEST,
  SEED_SAMPLES,
  type SeedSample,
} from './support/seedSamples.js';
import { http, NO_SOFT_CERT, sleep, TestSandbox, TRADING } from './support/sandbox.js';

const decoded = (data: string | undefined) => decodeData(data ?? '', { kind: 'base64' });
/** The seed's reply envelope around data of the documented shape. */
const envelopeOf = (reply: { data?: string }) => ({ ...reply, data: undefined });

/**
 * Every request sample of the seed, sent as it stands, against the demo tenant. The seed's 4.05
 * sample sends authenticateFlag 0 in a section titled 勾选&撤销勾选; the replay runs under the
 * profile that reads 0 as "select" (the default profile reads it as a cancellation: tested below).
 */
describe('sandbox: the seed samples replay', () => {
  let t: TestSandbox;
  const send = (s: SeedSample) => t.raw(s.request);

  before(async () => {
    t = await TestSandbox.start({ profile: { selectFlag: { select: '0', cancel: '1' } } });
    await t.admin.seedDemo({ taxPeriod: '202510', now: '2025-11-05T10:00:00+08:00', invoicesPerTaxpayer: 10 });
    await t.admin.setTaskDelays({ selectMs: 400 });
  });
  after(() => t.close());

  it('1.01 / 1.02: app_token then access_token in the seed envelope (appSecuret, "devbiz ")', async () => {
    const app = await http.post(`${t.url}/api/getAppToken.do`, SEED_APP_TOKEN_REQUEST);
    const appReply = AppTokenReply.parse(app.data);
    assert.equal(appReply.state, 'success');
    assert.deepEqual(Object.keys(app.data.data).sort(), [
      'app_token',
      'error_code',
      'error_desc',
      'expire_time',
      'success',
    ]);
    assert.equal(appReply.data.error_code, '0');
    assert.ok(appReply.data.expire_time! > Date.now());
    // The seed says: replace apptoken with the one just obtained.
    const access = await http.post(`${t.url}/api/login.do`, {
      ...SEED_ACCESS_TOKEN_REQUEST,
      apptoken: appReply.data.app_token,
    });
    const accessReply = AccessTokenReply.parse(access.data);
    assert.equal(accessReply.state, 'success');
    assert.equal(accessReply.data.success, true);
    const lifetime = accessReply.data.expire_time! - Date.now();
    assert.ok(lifetime > 7_100_000 && lifetime <= 7_200_000, `access_token lives 2 h (${lifetime} ms)`);
    t.accessToken = accessReply.data.access_token!;
  });

  it('4.02 taxLogin answers exactly the seed reply', async () => {
    assert.deepEqual(await send(SEED_SAMPLES.taxLogin!), SEED_SAMPLES.taxLogin!.reply);
  });

  it('4.04 taxperiodQuery for a taxNo outside the tenant: 1130 with the seed message', async () => {
    assert.deepEqual(await send(SEED_SAMPLES.taxperiodQuery!), SEED_SAMPLES.taxperiodQuery!.reply);
  });

  it('4.05 invoiceSelect answers the seed envelope and taskNo, data in the documented shape', async () => {
    await t.ok('taxLogin', { taxNo: TRADING });
    const reply = await send(SEED_SAMPLES.invoiceSelect!);
    assert.deepEqual(envelopeOf(reply), envelopeOf(SEED_SAMPLES.invoiceSelect!.reply));
    assert.deepEqual(decoded(reply.data), {
      ...(decoded(SEED_SAMPLES.invoiceSelect!.reply.data) as object),
      success: [],
      fail: [],
    });
  });

  it('4.06 invoiceSelectQuery answers 6910 while the task runs, then the per-invoice result', async () => {
    const pending = await send(SEED_SAMPLES.invoiceSelectQuery!);
    assert.deepEqual(pending, { success: false, status: false, errorCode: '6910', message: TASK_PROCESSING_MESSAGE });
    await sleep(450);
    const done = await send(SEED_SAMPLES.invoiceSelectQuery!);
    assert.equal(done.errorCode, '0000');
    const page = decoded(done.data) as { success: { selectDate?: string }[] };
    assert.match(page.success[0]?.selectDate ?? '', /^2025-11-05 10:00:\d\d$/);
    assert.deepEqual(page, {
      taskNo: '389d8907ea8e49bf8cdcc81b6731e766',
      total: 1,
      pageNo: 1,
      pageSize: 50,
      success: [
        {
          invoiceCode: '',
          invoiceNo: '23442000000164214335',
          invoiceDate: '2023-08-16',
          effectiveTaxAmount: '2.36',
          taxPeriod: '202510',
          selectDate: page.success[0]!.selectDate,
          selectResult: '1',
          description: '勾选成功',
        },
      ],
      fail: [],
    });
  });

  it('4.07 statisticQuery: the statistic object of the selection; 1130 without soft certificate', async () => {
    const reply = await send(SEED_SAMPLES.statisticQuery!);
    assert.equal(reply.errorCode, '0000');
    const row = {
      deductibleNum: 1,
      deductibleAmount: '235.64',
      deductibleTax: '2.36',
      unDeductibleNum: 0,
      unDeductibleAmount: '0.00',
      unDeductibleTax: '0.00',
    };
    assert.deepEqual(decoded(reply.data), {
      taxPeriod: '202510',
      skssq: '202510;20251115;202511',
      gxrqfw: '20170101-20251031',
      updateTime: (decoded(reply.data) as { updateTime: string }).updateTime,
      createTjbbStatus: '01',
      isAllowQxTj: false,
      isAllowQrtj: false,
      allowChangeSsqBySeason: false,
      tjInfoArr: [
        { invoiceType: '01', ...row },
        { invoiceType: '99', ...row },
      ],
      tjInfo: '01=1=235.64=2.36=0=0.00=0.00;99=1=235.64=2.36=0=0.00=0.00',
    });
    const off = await t.call('statisticQuery', { taxNo: NO_SOFT_CERT });
    assert.deepEqual(off, {
      success: false,
      status: false,
      errorCode: '1130',
      message: softCertificateOffMessage(NO_SOFT_CERT),
    });
    assert.deepEqual(Object.keys(off).sort(), Object.keys(SEED_SAMPLES.statisticQuery!.reply).sort());
  });

  it('4.08 statisticCreate answers exactly the seed reply', async () => {
    assert.deepEqual(await send(SEED_SAMPLES.statisticCreate!), SEED_SAMPLES.statisticCreate!.reply);
  });

  it('4.09 statisticCreateQuery: the generated statistic object; 1130 without soft certificate', async () => {
    const reply = await send(SEED_SAMPLES.statisticCreateQuery!);
    assert.equal(reply.errorCode, '0000');
    const statistic = decoded(reply.data) as Record<string, unknown>;
    assert.deepEqual(
      [statistic.taskNo, statistic.taxPeriod, statistic.createTjbbStatus, statistic.isAllowQrtj, statistic.isAllowQxTj],
      ['b3c8b84b892a4423ae0747c81b6fd8b9', '202510', '02', true, true],
    );
    const off = await t.call('statisticCreateQuery', {
      taxNo: NO_SOFT_CERT,
      taskNo: 'b3c8b84b892a4423ae0747c81b6fd8b9',
    });
    assert.equal(off.errorCode, '1130');
    assert.equal(off.message, softCertificateOffMessage(NO_SOFT_CERT));
  });

  it('4.10 statisticConfirm answers exactly the seed reply', async () => {
    assert.deepEqual(await send(SEED_SAMPLES.statisticConfirm!), SEED_SAMPLES.statisticConfirm!.reply);
  });

  it('4.11 statisticCreateQuery with the confirm taskNo: 2002 with the seed message; 05 in the statistic', async () => {
    assert.deepEqual(await send(SEED_SAMPLES.confirmResultQuery!), SEED_SAMPLES.confirmResultQuery!.reply);
    const confirmed = await t.ok('statisticQuery', { taxNo: TRADING });
    assert.deepEqual([confirmed.createTjbbStatus, confirmed.isAllowQrtj], ['05', false]);
  });

  it('4.12 taxperiodChange on a channel without it: 0201 with the seed message', async () => {
    assert.deepEqual(await send(SEED_SAMPLES.taxperiodChange!), SEED_SAMPLES.taxperiodChange!.reply);
  });

  it('records every accepted write in the ledger', async () => {
    const all = await t.admin.ledger({ taxNo: TRADING });
    assert.ok(
      all.some((e) => e.interfaceCode === 'taxLogin' && e.outcome === 'ok'),
      'the bureau login is ledgered',
    );
    const ledger = all.filter((e) => e.interfaceCode !== 'taxLogin');
    assert.deepEqual(
      ledger.map((e) => [e.interfaceCode, e.requestId, e.taskNo]),
      [
        ['invoiceSelect', '1', '389d8907ea8e49bf8cdcc81b6731e766'],
        ['statisticCreate', '1', 'b3c8b84b892a4423ae0747c81b6fd8b9'],
        ['statisticConfirm', '1', 'd1902f3072db4441a3d7d990709f8cfb'],
      ],
    );
    assert.deepEqual(ledger[0]!.invoiceNos, ['23442000000164214335']);
    assert.deepEqual([ledger[0]!.authenticateFlag, ledger[0]!.selectAction], ['0', 'select']);
    assert.match(ledger[0]!.outcome, /ok=1/);
    assert.match(ledger[2]!.outcome, /status=05/);
  });

  it("4.06 for a taxpayer without soft-certificate mode: the seed's 6910 with the reason", async () => {
    const reply = await t.call('invoiceSelectQuery', {
      taxNo: NO_SOFT_CERT,
      taskNo: '389d8907ea8e49bf8cdcc81b6731e766',
    });
    assert.deepEqual(reply, {
      success: false,
      status: false,
      errorCode: '6910',
      message: `${TASK_PROCESSING_MESSAGE}[${softCertificateOffMessage(NO_SOFT_CERT)}]`,
    });
    assert.deepEqual(
      reply,
      { ...SEED_SAMPLES.invoiceSelectQuery!.reply, message: reply.message },
      'the seed envelope with its own taxNo',
    );
  });
});

describe('sandbox: the seed 4.05 sample under the default profile (1 selects, 0 cancels)', () => {
  it('is a cancellation: the unselected invoice answers "1" and nothing is selected', async () => {
    const t = await TestSandbox.start();
    try {
      await t.admin.seedDemo({ taxPeriod: '202510', now: '2025-11-05T10:00:00+08:00', invoicesPerTaxpayer: 0 });
      await t.login();
      await t.ok('taxLogin', { taxNo: TRADING });
      const reply = await t.raw(SEED_SAMPLES.invoiceSelect!.request);
      assert.equal(reply.errorCode, '0000');
      const result = await t.settled('invoiceSelectQuery', {
        taxNo: TRADING,
        taskNo: '389d8907ea8e49bf8cdcc81b6731e766',
      });
      assert.deepEqual(
        result.decoded?.success.map((i) => [i.invoiceNo, i.selectResult, i.selectDate]),
        [['23442000000164214335', '1', undefined]],
      );
      assert.deepEqual(result.decoded?.fail, []);
      assert.equal((await t.admin.getTaxpayer(TRADING)).selectedCount, 0);
      const [entry] = await t.admin.ledger({ taxNo: TRADING, interfaceCode: 'invoiceSelect' });
      assert.deepEqual([entry?.authenticateFlag, entry?.selectAction], ['0', 'cancel']);
    } finally {
      await t.close();
    }
  });
});
