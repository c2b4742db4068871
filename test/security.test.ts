import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import axios from 'axios';
import { approve, startMonthlyDeduction, statisticAwaitingApproval } from '../client/deductions.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import { buildCodecServer } from '../security/codecServer.js';
import { AesGcmPayloadCodec } from '../security/payloadCodec.js';
import { payloadCodecFromEnv } from '../security/payloadKeys.js';
import type { MonthlyDeductionResult } from '../workflows/contract.js';
import { historyPayloads, historyText } from './support/history.js';
import { capturedLogLines } from './support/logSink.js';
import { addTaxpayer } from './support/taxpayers.js';
import { startStack, type TestStack } from './support/stack.js';
import { waitForStage } from './support/workflows.js';
import { TEST_WINDOW } from './support/calendar.js';
import { TEST_APPROVERS } from './support/approvers.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500 };

async function runMonth(stack: TestStack, taxNo: string, confirmPassword: string, comment: string) {
  await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 5, seed: 1 });
  await stack.admin.setClock(SANDBOX_NOW);
  await addTaxpayer(stack.admin, taxNo, { name: '安全测试有限公司', invoices: 10, seed: 99, confirmPassword });
  const { handle } = await startMonthlyDeduction(stack.client, {
    approvers: TEST_APPROVERS,
    taxNo,
    taxPeriod: PERIOD,
    polling: FAST_POLLING,
  });
  await waitForStage(handle, 'AWAITING_APPROVAL');
  await approve(stack.client, taxNo, PERIOD, {
    approver: '王会计',
    comment,
    statisticDigest: (await statisticAwaitingApproval(stack.client, taxNo, PERIOD)).digest,
  });
  const result: MonthlyDeductionResult = await handle.result();
  assert.equal(result.outcome, 'COMPLETED');
  return handle;
}

describe('Security', function () {
  this.timeout(120_000);

  describe('payload encryption', () => {
    const keyA = randomBytes(32);
    const keyB = randomBytes(32);
    const codecA = new AesGcmPayloadCodec(new Map([['2026-a', keyA]]), '2026-a');
    let stack: TestStack;
    before(async () => {
      stack = await startStack({ dataConverter: { payloadCodecs: [codecA] } });
      await stack.startWorker();
    });
    after(async () => stack?.stop());

    it('stores every payload encrypted with its key id, readable through the codec server only with the key and token', async () => {
      const comment = '机密备注-核对无误-7731';
      const taxNo = withCheckCharacter('91440300MA5XECR01');
      const handle = await runMonth(stack, taxNo, '1234567', comment);

      const raw = await stack.client.workflowService.getWorkflowExecutionHistory({
        namespace: stack.temporal.namespace,
        execution: { workflowId: handle.workflowId },
      });
      // Search attributes (TaxNo, TaxPeriod, DeductionStage) stay plain by design: the server indexes them.
      // Search attributes must stay readable to the server, and a patch marker's details carry only
      // the patch id, written by the SDK's core without the codec: neither holds business data.
      const payloads = historyPayloads(raw.history).filter(
        (p) =>
          !p.path.includes('searchAttributes') && !p.path.includes('markerRecordedEventAttributes.details.patch-data'),
      );
      assert.ok(payloads.length > 10, `history has payloads (${payloads.length})`);
      for (const p of payloads) {
        const encoding = Buffer.from(p.metadata!.encoding!).toString();
        assert.equal(encoding, 'binary/encrypted', p.path);
        assert.equal(Buffer.from(p.metadata!['encryption-key-id']!).toString(), '2026-a');
      }
      assert.ok(!historyText(raw.history).includes(comment), 'the comment is not in the stored history');
      assert.ok(!historyText(raw.history).includes('王会计'), 'nor the approver');

      const signal = payloads.find((p) => p.data.length > 0)!;
      const body = {
        payloads: [
          {
            metadata: Object.fromEntries(
              Object.entries(signal.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
            ),
            data: Buffer.from(signal.data).toString('base64'),
          },
        ],
      };
      // Key rotation: a codec whose current key is B still reads what A wrote.
      const rotated = payloadCodecFromEnv({
        TEMPORAL_PAYLOAD_KEYS: `2026-a=${keyA.toString('base64')},2026-b=${keyB.toString('base64')}`,
        TEMPORAL_PAYLOAD_KEY_ID: '2026-b',
      })!;
      const server = buildCodecServer({
        codec: rotated,
        allowedOrigins: ['http://127.0.0.1:8233'],
        authToken: 'ui-token',
      });
      const url = await server.listen({ port: 0, host: '127.0.0.1' });
      try {
        const refused = await axios.post(`${url}/decode`, body, { validateStatus: () => true });
        assert.equal(refused.status, 401);
        const decoded = await axios.post(`${url}/decode`, body, { headers: { Authorization: 'Bearer ui-token' } });
        const encoding = Buffer.from(decoded.data.payloads[0].metadata.encoding, 'base64').toString();
        assert.equal(encoding, 'json/plain');
        const onlyB = buildCodecServer({
          codec: new AesGcmPayloadCodec(new Map([['2026-b', keyB]]), '2026-b'),
          allowedOrigins: [],
        });
        const urlB = await onlyB.listen({ port: 0, host: '127.0.0.1' });
        const missing = await axios.post(`${urlB}/decode`, body, { validateStatus: () => true });
        await onlyB.close();
        assert.equal(missing.status, 422);
        assert.match(missing.data.error, /key "2026-a", which is not configured/);
      } finally {
        await server.close();
      }
    });

    it('refuses bad key settings with a message naming the setting', () => {
      assert.throws(
        () => payloadCodecFromEnv({ TEMPORAL_PAYLOAD_KEYS: 'k1=c2hvcnQ=' }),
        /"k1": expected base64 of 32 bytes/,
      );
      assert.throws(() => payloadCodecFromEnv({ TEMPORAL_PAYLOAD_KEYS: 'nokey' }), /is not <id>=<base64>/);
      assert.throws(() => payloadCodecFromEnv({ TEMPORAL_PAYLOAD_KEY_ID: 'x' }), /no payload keys are configured/);
      assert.equal(payloadCodecFromEnv({}), undefined);
    });
  });

  describe('secrets', () => {
    const tokens = new Set<string>();
    let stack: TestStack;
    const confirmPassword = 'Confirm#Pw-58213';
    const dataPassword = 'Data#Pw-7731-aes';
    const taxNo = withCheckCharacter('91440300MA5XECR02');

    before(async () => {
      const http = axios.create({ timeout: 15_000 });
      http.interceptors.response.use((response) => {
        const data = response.data?.data;
        for (const key of ['app_token', 'access_token']) if (typeof data?.[key] === 'string') tokens.add(data[key]);
        return response;
      });
      stack = await startStack({
        invoiceCloudEnv: {
          INVOICE_CLOUD_CONFIRM_PASSWORDS: JSON.stringify({ [taxNo]: confirmPassword }),
          INVOICE_CLOUD_DATA_PASSWORD: dataPassword,
        },
        http,
      });
      http.defaults.baseURL = stack.sandboxUrl;
      await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 5, seed: 1 });
      await stack.admin.setTenantEncoding({ kind: 'aes-gcm', password: dataPassword });
      await stack.startWorker();
    });
    after(async () => stack?.stop());

    it('keeps the app secret, data password, confirmation password and tokens out of history and logs', async () => {
      const linesBefore = capturedLogLines.length;
      const handle = await runMonth(stack, taxNo, confirmPassword, '核对无误');
      assert.ok(tokens.size >= 2, 'the worker obtained an app token and an access token');
      const history = historyText(await handle.fetchHistory());
      const logs = capturedLogLines.slice(linesBefore).join('\n');
      assert.ok(logs.includes(taxNo), 'the run did log (so the search below means something)');
      const secrets = ['12345678', confirmPassword, dataPassword, ...tokens];
      for (const secret of secrets) {
        assert.ok(!history.includes(secret), `a secret (${secret.slice(0, 3)}…) is in the workflow history`);
        assert.ok(!logs.includes(secret), `a secret (${secret.slice(0, 3)}…) is in a log line`);
      }
    });
  });
});
