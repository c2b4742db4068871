import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { DataDecodingError, decodeData, encodeData } from '../protocol/codec.js';
import {
  AccessTokenReply,
  AccessTokenRequest,
  AppTokenReply,
  AppTokenRequest,
  BusinessReply,
  BusinessRequest,
} from '../protocol/envelope.js';
import { interfaces, isInterfaceCode } from '../protocol/interfaces.js';
import { taxNoProblem, TaxNo } from '../protocol/taxNo.js';
import {
  SEED_ACCESS_TOKEN_REPLY,
  SEED_ACCESS_TOKEN_REQUEST,
  SEED_APP_TOKEN_REPLY,
  SEED_APP_TOKEN_REQUEST,
  SEED_SAMPLES,
} from './support/seedSamples.js';

describe('protocol: the seed samples against the contract', () => {
  it('auth samples parse (appSecuret spelling, trimmed "devbiz ")', () => {
    const app = AppTokenRequest.parse(SEED_APP_TOKEN_REQUEST);
    assert.equal(app.appSecuret, '12345678');
    assert.equal(AccessTokenRequest.parse(SEED_ACCESS_TOKEN_REQUEST).tenantid, 'devbiz');
    AppTokenReply.parse(SEED_APP_TOKEN_REPLY);
    AccessTokenReply.parse(SEED_ACCESS_TOKEN_REPLY);
    assert.equal(AppTokenRequest.safeParse({ ...SEED_APP_TOKEN_REQUEST, appSecuret: undefined }).success, false);
  });

  for (const [name, sample] of Object.entries(SEED_SAMPLES)) {
    it(`${sample.section} ${name}: request decodes and validates; reply parses`, () => {
      const envelope = BusinessRequest.parse(sample.request);
      assert.ok(isInterfaceCode(envelope.interfaceCode));
      const definition = interfaces[envelope.interfaceCode];
      const payload = decodeData(envelope.data, { kind: 'base64' });
      const parsed = definition.request.safeParse(payload);
      assert.ok(parsed.success, parsed.success ? '' : parsed.error.message);
      BusinessReply.parse(sample.reply);
      if (sample.reply.data !== undefined) {
        const reply = definition.reply.safeParse(decodeData(sample.reply.data, { kind: 'base64' }));
        assert.ok(reply.success, reply.success ? '' : reply.error.message);
      }
    });
  }

  it('4.05 sample fields decode to what the bureau needs', () => {
    const payload = interfaces.invoiceSelect.request.parse(
      decodeData(SEED_SAMPLES.invoiceSelect!.request.data, { kind: 'base64' }),
    );
    assert.equal(payload.authenticateFlag, '0');
    assert.deepEqual(
      [payload.invoices[0]!.invoiceNo, payload.invoices[0]!.invoiceType, payload.invoices[0]!.totalTaxAmount],
      ['23442000000164214335', '4,27,28,29', '238.00'],
    );
    const page = interfaces.invoiceSelectQuery.request.parse(
      decodeData(SEED_SAMPLES.invoiceSelectQuery!.request.data, { kind: 'base64' }),
    );
    assert.deepEqual([page.pageNo, page.pageSize], [1, 50]);
  });
});

describe('protocol: codec', () => {
  const payload = { taxNo: '91440300MA5G9GK78Y', note: '抵扣勾选', amount: '238.00' };

  it('round-trips base64', () => {
    const data = encodeData(payload, { kind: 'base64' });
    assert.equal(Buffer.from(data, 'base64').toString('utf8'), JSON.stringify(payload));
    assert.deepEqual(decodeData(data, { kind: 'base64' }), payload);
  });

  it('round-trips aes-gcm, with a fresh IV each time, and refuses the wrong password', () => {
    const enc = { kind: 'aes-gcm', password: 'p@ss' } as const;
    const a = encodeData(payload, enc);
    const b = encodeData(payload, enc);
    assert.notEqual(a, b);
    assert.deepEqual(decodeData(a, enc), payload);
    assert.equal(Buffer.from(a, 'base64').length, 12 + Buffer.byteLength(JSON.stringify(payload)) + 16);
    assert.throws(() => decodeData(a, { kind: 'aes-gcm', password: 'other' }), DataDecodingError);
    assert.throws(() => decodeData('AAAA', enc), DataDecodingError);
  });

  it('refuses data that is not base64 or not JSON', () => {
    assert.throws(() => decodeData('%%%', { kind: 'base64' }), DataDecodingError);
    assert.throws(() => decodeData(Buffer.from('not json').toString('base64'), { kind: 'base64' }), DataDecodingError);
  });
});

describe('protocol: taxNo check character', () => {
  for (const valid of ['91440300591872133B', '91440300MA5G9GK78Y', '914403007451947782', '91440300MA5DC6QB6G']) {
    it(`accepts ${valid}`, () => {
      assert.equal(taxNoProblem(valid), undefined);
      assert.equal(TaxNo.safeParse(valid).success, true);
    });
  }
  it('refuses a wrong check character, 17 characters and the letter I', () => {
    assert.match(taxNoProblem('91440300591872133C')!, /check character/);
    assert.match(taxNoProblem('91440300591872133')!, /18 characters/);
    assert.match(taxNoProblem('91440300MI5G9GK78Y')!, /not allowed/);
    assert.equal(TaxNo.safeParse('91440300591872133C').success, false);
  });
});
