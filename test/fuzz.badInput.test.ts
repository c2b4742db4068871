import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { InvoiceCloudClient } from '../activities/invoiceCloudClient.js';
import { invoiceCloudConfigFromEnv } from '../activities/invoiceCloudConfig.js';
import { InvoiceCloudError } from '../activities/invoiceCloudErrors.js';
import { runCli } from '../client/cli.js';
import { encodeData } from '../protocol/codec.js';
import { Money } from '../protocol/money.js';
import { TaxNo } from '../protocol/taxNo.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import {
  approveSignal,
  deductionWorkflowId,
  type MonthlyDeductionResult,
  progressQuery,
  rejectSignal,
  TASK_QUEUE,
  WORKFLOW_TYPE,
} from '../workflows/contract.js';
import { addTaxpayer } from './support/taxpayers.js';
import { startStack, type TestStack } from './support/stack.js';
import { waitForStage } from './support/workflows.js';
import { TEST_WINDOW } from './support/calendar.js';

/**
 * At least 1,000 generated bad inputs across every boundary: CLI arguments, workflow input,
 * signals, money amounts and malformed invoice-cloud replies. Each must get a clear error naming
 * what was wrong; none may cause a bureau write; the worker must keep running.
 */
const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const counts: Record<string, number> = {};
const count = (layer: string) => (counts[layer] = (counts[layer] ?? 0) + 1);

const badTaxNo = fc.oneof(
  fc.string({ maxLength: 30 }).filter((s) => TaxNo.safeParse(s).success === false),
  fc.stringMatching(/^[0-9A-Z]{18}$/).filter((s) => TaxNo.safeParse(s).success === false),
);
const badPeriod = fc.oneof(
  fc.stringMatching(/^\d{4}(1[3-9]|00)$/),
  fc.stringMatching(/^\d{4}-\d{2}$/),
  fc.string({ maxLength: 8 }).filter((s) => !/^\d{6}$/.test(s)),
);
// Bad amounts by construction, never by asking Money which strings it rejects.
const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^\\d{${min},${max}}$`));
const badAmount = fc.oneof(
  fc.tuple(digits(1, 9), digits(3, 6)).map(([i, d]) => `${i}.${d}`), // more than two decimals
  digits(16, 22), // more than 15 integer digits
  fc
    .double()
    .filter((d) => !Number.isFinite(d) || String(d).includes('e'))
    .map(String), // NaN, ±Infinity, 1e+21, 5e-7
  fc.tuple(digits(1, 3), digits(3, 3)).map(([a, b]) => `${a},${b}.00`), // thousands separator
  fc.string({ maxLength: 12 }).filter((s) => !/\d/.test(s)), // no digit at all
  fc.constantFrom('', ' ', ' 1.00', '1.00 ', '1e5', '12,50', '¥100', '100.', '.5', '--1', '+1.00', '1.2.3'),
);
/** Good amounts by construction: up to 15 integer digits, optionally one or two decimals. */
const goodAmount = fc
  .tuple(fc.boolean(), digits(1, 15), fc.option(digits(1, 2), { nil: undefined }))
  .map(([negative, i, d]) => `${negative ? '-' : ''}${i}${d === undefined ? '' : `.${d}`}`);

describe('Fuzz: generated bad input at every boundary', function () {
  this.timeout(240_000);
  let stack: TestStack;
  let writesBefore = 0;
  let worker: Awaited<ReturnType<TestStack['startWorker']>>;

  before(async () => {
    stack = await startStack();
    await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 8, seed: 4 });
    await stack.admin.setClock(SANDBOX_NOW);
    worker = await stack.startWorker();
    writesBefore = (await stack.admin.ledger()).length;
  });
  after(async () => {
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    console.log(`      bad inputs by layer: ${JSON.stringify(counts)}, total ${total}`);
    await stack?.stop();
  });

  it('CLI: every bad taxNo, period or approver exits 2 naming the argument, without connecting', async () => {
    let connects = 0;
    const run = async (args: string[]) => {
      let stderr = '';
      const code = await runCli(['node', 'cli', ...args], {
        err: (t) => (stderr += t),
        out: () => undefined,
        connect: () => {
          connects++;
          throw new Error('must not connect');
        },
      });
      return { code, stderr };
    };
    await fc.assert(
      fc.asyncProperty(badTaxNo, async (taxNo) => {
        count('cli');
        const { code, stderr } = await run(['status', '--tax-no', taxNo, '--period', PERIOD]);
        return code === 2 && stderr.includes('--tax-no');
      }),
      { numRuns: 200 },
    );
    await fc.assert(
      fc.asyncProperty(badPeriod, async (period) => {
        count('cli');
        const { code, stderr } = await run([
          'approve',
          '--tax-no',
          '91440300591872133B',
          '--period',
          period,
          '--approver',
          'x',
        ]);
        return code === 2 && stderr.includes('--period');
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('', ' ', '   '), async (approver) => {
        count('cli');
        const { code, stderr } = await run([
          'approve',
          '--tax-no',
          '91440300591872133B',
          '--period',
          PERIOD,
          '--approver',
          approver,
        ]);
        return code === 2 && /approver/.test(stderr);
      }),
      { numRuns: 50 },
    );
    assert.equal(connects, 0);
  });

  it('Money: every malformed amount is refused with the expected format named', () => {
    fc.assert(
      fc.property(badAmount, (amount) => {
        count('money');
        const parsed = Money.safeParse(amount);
        return !parsed.success && /decimal string with at most 2 decimals/.test(parsed.error.issues[0]!.message);
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(goodAmount, (amount) => Money.safeParse(amount).success),
      { numRuns: 200 },
    );
  });

  it('Invoice-cloud replies: every malformed reply is a non-retryable protocol error naming the interface and field', async () => {
    let reply: unknown = {};
    const server: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        if (req.url?.startsWith('/api/')) {
          const key = req.url.includes('getAppToken') ? 'app_token' : 'access_token';
          res.end(
            JSON.stringify({
              data: { [key]: 'tok', success: true, error_desc: '', expire_time: Date.now() + 3.6e6, error_code: '0' },
              state: 'success',
            }),
          );
          return;
        }
        res.end(typeof reply === 'string' ? reply : JSON.stringify(reply));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new InvoiceCloudClient(invoiceCloudConfigFromEnv({ INVOICE_CLOUD_BASE_URL: url }));
    const ok = (data: unknown) => ({
      success: true,
      status: true,
      errorCode: '0000',
      message: '请求成功',
      data: encodeData(data, { kind: 'base64' }),
    });
    // 4.04 replies a decision cannot use, by construction: no period at all, or a field in a shape
    // no reading accepts (tolerated drift, like extra fields, is not bad input).
    const noDigits = fc.string({ maxLength: 12 }).filter((v) => !/\d/.test(v));
    const badPeriodReply = fc.oneof(
      fc.record(
        { taxNo: fc.string({ maxLength: 20 }), gxrqfw: fc.constant('20170101-20261130') },
        { requiredKeys: [] },
      ),
      fc.record({ taxPeriod: badPeriod }),
      fc.record({ skssq: fc.oneof(noDigits, fc.stringMatching(/^\d{4}-\d{2}$/), fc.constant('2026/12;20261215')) }),
      fc.record({ taxPeriod: fc.constant(PERIOD), gxrqfw: fc.oneof(noDigits, fc.constant('2017-01-01~2026-11-30')) }),
      fc.record({
        taxPeriod: fc.constant(PERIOD),
        allowChangeSsqBySeason: fc.oneof(
          fc.integer(),
          noDigits.filter((v) => v !== 'true' && v !== 'false'),
        ),
      }),
    );
    const malformedEnvelope = fc.oneof(
      fc.constant('not json'),
      fc.record({ success: noDigits.filter((v) => v !== 'true' && v !== 'false'), errorCode: fc.integer() }),
      fc.constant({ success: true, status: true, errorCode: '0000', message: 'ok', data: '%%%not-base64%%%' }),
      fc.constant({
        success: true,
        status: true,
        errorCode: '0000',
        message: 'ok',
        data: Buffer.from('{"broken":').toString('base64'),
      }),
      fc.constant({ success: true, status: true, errorCode: '0000', message: 'ok' }),
    );
    try {
      await fc.assert(
        fc.asyncProperty(fc.oneof(badPeriodReply.map(ok), malformedEnvelope), async (generated) => {
          count('reply');
          reply = generated;
          try {
            await client.call('taxperiodQuery', { taxNo: '91440300591872133B' });
            return false;
          } catch (error) {
            return (
              error instanceof InvoiceCloudError &&
              error.kind === 'protocol' &&
              error.message.startsWith('taxperiodQuery:') &&
              error.message.length > 'taxperiodQuery: []'.length
            );
          }
        }),
        { numRuns: 300 },
      );
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('Workflow input: every invalid input fails the workflow naming the field, before any bureau call', async () => {
    const badInput = fc.oneof(
      badTaxNo.map((taxNo) => ({ taxNo, taxPeriod: PERIOD })),
      badPeriod.map((taxPeriod) => ({ taxNo: '91440300591872133B', taxPeriod })),
      fc
        .integer({ min: 2001, max: 1e6 })
        .map((batchSize) => ({ taxNo: '91440300591872133B', taxPeriod: PERIOD, batchSize })),
      fc
        .string({ maxLength: 20 })
        .map((approvalDeadline) => ({ taxNo: '91440300591872133B', taxPeriod: PERIOD, approvalDeadline })),
      fc.constant({ taxNo: '91440300591872133B', taxPeriod: PERIOD, approvers: [''] }),
      // No approver: nobody could approve the table, so the month does not start.
      fc.constant({ taxNo: '91440300591872133B', taxPeriod: PERIOD }),
    );
    const samples = fc.sample(badInput, { numRuns: 60, seed: 42 });
    await Promise.all(
      samples.map(async (input, i) => {
        count('workflow-input');
        const handle = await stack.client.workflow.start(WORKFLOW_TYPE, {
          taskQueue: TASK_QUEUE,
          workflowId: `fuzz-input-${i}`,
          args: [input],
        });
        await assert.rejects(handle.result(), (error: Error & { cause?: Error }) => {
          assert.match(String(error.cause?.message), /^Invalid workflow input: \w+/);
          return true;
        });
      }),
    );
  });

  it('Signals: every malformed or unauthorised approve/reject is refused and recorded; a valid one still completes', async () => {
    const taxNo = withCheckCharacter('91440300MA5FUXX00');
    await addTaxpayer(stack.admin, taxNo, {
      name: '模糊测试有限公司',
      invoices: 6,
      seed: 8,
    });
    const handle = await stack.client.workflow.start(WORKFLOW_TYPE, {
      taskQueue: TASK_QUEUE,
      workflowId: deductionWorkflowId(taxNo, PERIOD),
      args: [
        {
          taxNo,
          taxPeriod: PERIOD,
          approvers: ['王会计'],
          polling: { initialIntervalMs: 200, maximumIntervalMs: 500 },
        },
      ],
    });
    await waitForStage(handle, 'AWAITING_APPROVAL');
    const badApprove = fc.oneof(
      fc.record({ approver: fc.constantFrom('', ' ', 'x'.repeat(65)) }),
      fc.record({
        approver: fc.string({ minLength: 1, maxLength: 10 }).filter((s) => s.trim() !== '' && s.trim() !== '王会计'),
      }),
      fc.record({ approver: fc.constant('王会计'), statisticDigest: fc.string({ maxLength: 10 }) }),
      fc.record({ approver: fc.constant('王会计'), comment: fc.constant('长'.repeat(501)) }),
      fc.anything().filter((v) => typeof v !== 'object' || v === null),
    );
    const badReject = fc.oneof(
      fc.record({ approver: fc.constant('王会计') }),
      fc.record({ approver: fc.constant('王会计'), reason: fc.constantFrom('', '   ') }),
      fc.record({ approver: fc.constant('陌生人'), reason: fc.constant('不同意') }),
    );
    const signals = [
      ...fc.sample(badApprove, { numRuns: 200, seed: 7 }).map((a) => handle.signal(approveSignal, a as never)),
      ...fc.sample(badReject, { numRuns: 100, seed: 9 }).map((r) => handle.signal(rejectSignal, r as never)),
    ];
    for (let i = 0; i < signals.length; i++) count('signal');
    await Promise.all(signals);
    const progress = await handle.query(progressQuery);
    assert.equal(progress.stage, 'AWAITING_APPROVAL', 'no bad signal decided anything');
    assert.equal(progress.decision, undefined);
    assert.equal(progress.refusedSignals?.length, 50, 'refusals recorded (the first 50 kept)');
    for (const r of progress.refusedSignals!)
      assert.match(r.reason, /invalid (approve|reject) signal: (\w|\(root\))|not an approver|approves statistic/);

    await handle.signal(approveSignal, { approver: '王会计' });
    const result: MonthlyDeductionResult = await handle.result();
    assert.equal(result.outcome, 'COMPLETED');
  });

  it('caused no bureau write but the one valid month, and left the worker running', async () => {
    const writes = (await stack.admin.ledger()).slice(writesBefore);
    const taxNos = new Set(writes.filter((w) => w.interfaceCode !== 'taxLogin').map((w) => w.taxNo));
    assert.deepEqual([...taxNos], [withCheckCharacter('91440300MA5FUXX00')]);
    assert.equal(worker.worker.getState(), 'RUNNING');
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    assert.ok(total >= 1000, `${total} bad inputs generated`);
  });
});
