import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { InvoiceCloudClient } from '../activities/invoiceCloudClient.js';
import { runCli } from '../client/cli.js';
import { approve, DecisionRefusedError, startMonthlyDeduction } from '../client/deductions.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import { temporalCliPath } from '../scripts/temporalTools.js';
import { approveSignal, type MonthlyDeductionResult, progressQuery } from '../workflows/contract.js';
import { addTaxpayer } from './support/taxpayers.js';
import { startStack, type TestStack } from './support/stack.js';
import { recordHistory } from './support/recordHistory.js';
import { historyLength, waitForStage } from './support/workflows.js';
import { TEST_WINDOW } from './support/calendar.js';
import { TEST_APPROVERS } from './support/approvers.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const execFileAsync = promisify(execFile);

describe('Approvals: who may approve, and what they approve', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let serial = 0;
  const keyDir = mkdtempSync(join(tmpdir(), 'approvals-keys-'));
  const inboxKey = generateKeyPairSync('ed25519');
  const inboxKeyFile = join(keyDir, 'inbox.pem');
  const strangerKeyFile = join(keyDir, 'stranger.pem');
  const savedVerifyKeys = process.env.DECISION_VERIFY_KEYS;

  before(async () => {
    writeFileSync(inboxKeyFile, inboxKey.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(strangerKeyFile, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }));
    // The in-process worker verifies signed decisions with these (read at each verification).
    process.env.DECISION_VERIFY_KEYS = JSON.stringify({
      'inbox-1': inboxKey.publicKey.export({ type: 'spki', format: 'pem' }),
    });
    stack = await startStack();
    await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 5, seed: 1 });
    await stack.admin.setClock(SANDBOX_NOW);
    await stack.startWorker();
  });
  after(async () => {
    if (savedVerifyKeys === undefined) delete process.env.DECISION_VERIFY_KEYS;
    else process.env.DECISION_VERIFY_KEYS = savedVerifyKeys;
    await stack?.stop();
  });

  /** A fresh taxpayer with a small pool, started and brought to AWAITING_APPROVAL. */
  async function taxpayerAwaitingApproval(extra: Record<string, unknown> = {}) {
    const taxNo = withCheckCharacter(`91440300MA5APPR${String(serial++).padStart(2, '0')}`);
    await addTaxpayer(stack.admin, taxNo, {
      name: `审批测试${serial}有限公司`,
      invoices: 12,
      seed: serial,
    });
    const { handle } = await startMonthlyDeduction(stack.client, {
      approvers: TEST_APPROVERS,
      taxNo,
      taxPeriod: PERIOD,
      polling: FAST_POLLING,
      ...extra,
    });
    const waiting = await waitForStage(handle, 'AWAITING_APPROVAL');
    return { taxNo, handle, digest: waiting.statistic!.digest };
  }

  /** The operator CLI against the test's dev server (stdin is not a terminal). */
  async function cli(...args: string[]) {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['node', 'cli', ...args], {
      env: { TEMPORAL_ADDRESS: stack.temporal.address, TEMPORAL_NAMESPACE: stack.temporal.namespace },
      out: (text) => (stdout += text),
      err: (text) => (stderr += text),
    });
    return { code, stdout, stderr };
  }

  /** `temporal <args>` against the test's dev server: what someone with raw access can send. */
  async function temporal(...args: string[]): Promise<{ code: number; output: string }> {
    try {
      const { stdout, stderr } = await execFileAsync(temporalCliPath(), [
        ...args,
        '--address',
        stack.temporal.address,
        '--namespace',
        stack.temporal.namespace,
      ]);
      return { code: 0, output: stdout + stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
    }
  }

  it('refuses and records a signal from someone who is not an approver; an approver is answered accepted', async () => {
    const { taxNo, handle, digest } = await taxpayerAwaitingApproval({ approvers: ['王会计', '李经理'] });
    await handle.signal(approveSignal, { approver: '外部人员' });
    await sleep(500);
    const progress = await handle.query(progressQuery);
    assert.equal(progress.stage, 'AWAITING_APPROVAL', 'still waiting');
    assert.equal(progress.refusedSignals?.length, 1);
    assert.equal(progress.refusedSignals![0]!.reason, `外部人员 is not an approver of ${taxNo}`, 'names no approver');
    assert.equal(progress.refusedSignals![0]!.approver, '外部人员');

    const decided = await approve(stack.client, taxNo, PERIOD, { approver: '李经理', statisticDigest: digest });
    assert.equal(decided.outcome, 'accepted');
    assert.equal(decided.statisticDigest, digest);
    const result: MonthlyDeductionResult = await handle.result();
    assert.equal(result.outcome, 'COMPLETED');
    assert.equal(result.decision?.approver, '李经理');
    assert.equal(result.decision?.via, 'update');
    assert.equal(result.refusedSignals?.length, 1, 'the refusal stays in the audit trail');
    assert.equal((await stack.admin.ledger({ taxNo, interfaceCode: 'statisticConfirm' })).length, 1);
    await recordHistory(handle, 'approved-by-update-after-refused-signal');
  });

  it('CLI approve: a refused decision exits 5 with the reason and leaves no history; an accepted one exits 0', async () => {
    const { taxNo, handle, digest } = await taxpayerAwaitingApproval({ approvers: ['王会计', '李经理'] });
    const other = digest === '00000000' ? '00000001' : '00000000';
    const events = await historyLength(stack.client, handle.workflowId);
    const base = ['--tax-no', taxNo, '--period', PERIOD];

    const outsider = await cli('approve', ...base, '--approver', '外部人员', '--digest', digest);
    assert.equal(outsider.code, 5, outsider.stderr);
    assert.equal(outsider.stderr, `error: refused 已拒绝: 外部人员 is not an approver of ${taxNo}\n`);
    const stale = await cli('approve', ...base, '--approver', '王会计', '--digest', other);
    assert.equal(stale.code, 5, stale.stderr);
    assert.equal(
      stale.stderr,
      `error: refused 已拒绝: approves statistic ${other}, but the statistic awaiting approval is ${digest}\n`,
    );
    const noDigest = await cli('approve', ...base, '--approver', '王会计');
    assert.equal(noDigest.code, 2, 'the CLI never fills in the digest');
    await assert.rejects(
      approve(stack.client, taxNo, PERIOD, { approver: '张三', statisticDigest: digest }),
      (e: unknown) => e instanceof DecisionRefusedError && e.code === 'not-an-approver',
    );
    // Answered at once by the validator: the real server keeps no trace of a rejected Update.
    assert.equal(await historyLength(stack.client, handle.workflowId), events, 'refusals add no history event');
    assert.equal((await handle.query(progressQuery)).refusedSignals, undefined);

    const accepted = await cli('approve', ...base, '--approver', '王会计', '--digest', digest, '--comment', '核对无误');
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.match(accepted.stdout, new RegExp(`Approved: the bureau's table is still ${digest}; the month goes on`));
    const again = await cli('approve', ...base, '--approver', '李经理', '--digest', digest);
    assert.notEqual(again.code, 0, 'a second decision is refused');
    const result: MonthlyDeductionResult = await handle.result();
    assert.equal(result.outcome, 'COMPLETED');
    assert.equal(result.decision?.approver, '王会计');
    assert.equal(result.decision?.comment, '核对无误');
  });

  it('voids an approval when the bureau changed the statistic after it was presented (CLI exit 6)', async () => {
    const { taxNo, handle, digest: before } = await taxpayerAwaitingApproval();

    // Someone else revokes and regenerates the table at the bureau (a new update time).
    const other = new InvoiceCloudClient(stack.invoiceCloud);
    await sleep(1100);
    for (const operateType of ['2', '1'] as const) {
      const { taskNo } = await other.call('statisticCreate', { taxNo, operateType, asyncFlag: '1' });
      for (let i = 0; i < 50; i++) {
        const done = await other.call('statisticCreateQuery', { taxNo, taskNo }).catch(() => undefined);
        if (done) break;
        await sleep(100);
      }
    }

    // The approver approves the table they saw; the workflow checks the bureau before confirming.
    const voided = await cli(
      'approve',
      '--tax-no',
      taxNo,
      '--period',
      PERIOD,
      '--approver',
      '王会计',
      '--digest',
      before,
    );
    assert.equal(voided.code, 6, voided.stderr);
    assert.match(voided.stderr, /Approval voided: the bureau's statistic changed from/);
    const progress = await handle.query(progressQuery);
    assert.equal(progress.stage, 'AWAITING_APPROVAL', 'the stale approval did not confirm anything');
    assert.match(progress.refusedSignals?.[0]?.reason ?? '', /statistic changed/);
    assert.equal(progress.refusedSignals?.[0]?.via, 'update');
    const now = progress.statistic!.digest;
    assert.notEqual(now, before, 'the new table is presented');
    assert.ok(voided.stderr.includes(`the new table is ${now}`), voided.stderr);
    assert.equal((await stack.admin.ledger({ taxNo, interfaceCode: 'statisticConfirm' })).length, 0);

    const decided = await approve(stack.client, taxNo, PERIOD, { approver: '王会计', statisticDigest: now });
    assert.equal(decided.outcome, 'accepted');
    const result: MonthlyDeductionResult = await handle.result();
    assert.equal(result.outcome, 'COMPLETED');
    await recordHistory(handle, 'voided-update-then-approved');
  });

  it('signed policy: raw signals and unsigned or badly signed Updates are refused; a signed approval completes', async () => {
    const { taxNo, handle, digest } = await taxpayerAwaitingApproval({
      approvers: ['王会计'],
      decisionPolicy: 'signed',
    });
    const workflowId = handle.workflowId;

    // Raw access to Temporal, in the approver's name.
    const signal = await temporal(
      'workflow',
      'signal',
      '--workflow-id',
      workflowId,
      '--name',
      'approve',
      '--input',
      JSON.stringify({ approver: '王会计', statisticDigest: digest }),
    );
    assert.equal(signal.code, 0, signal.output);
    for (let i = 0; i < 50 && !(await handle.query(progressQuery)).refusedSignals; i++) await sleep(100);
    const afterSignal = await handle.query(progressQuery);
    assert.match(
      afterSignal.refusedSignals?.[0]?.reason ?? '',
      /takes only signed decisions \(decisionPolicy signed\)/,
    );
    assert.equal(afterSignal.decision, undefined);

    const events = await historyLength(stack.client, workflowId);
    const update = await temporal(
      'workflow',
      'update',
      'execute',
      '--workflow-id',
      workflowId,
      '--name',
      'approve',
      '--input',
      JSON.stringify({ approver: '王会计', statisticDigest: digest }),
    );
    assert.notEqual(update.code, 0);
    assert.match(update.output, /takes only signed decisions/);
    const base = ['approve', '--tax-no', taxNo, '--period', PERIOD, '--approver', '王会计', '--digest', digest];
    const unsigned = await cli(...base);
    assert.equal(unsigned.code, 5);
    assert.match(unsigned.stderr, /takes only signed decisions/);
    assert.ok((await historyLength(stack.client, workflowId)) > events, 'unsigned Updates are in the history');
    const afterUnsigned = (await handle.query(progressQuery)).refusedSignals ?? [];
    assert.deepEqual(
      afterUnsigned.map((r) => [r.via ?? 'signal', r.approver]),
      [
        ['signal', '王会计'],
        ['update', '王会计'],
        ['update', '王会计'],
      ],
      'the signal and both unsigned Updates (temporal CLI, our CLI) are recorded as refused',
    );

    // A key the workers do not know under that id: accepted for checking, refused and recorded.
    const forged = await cli(...base, '--signing-key', strangerKeyFile, '--key-id', 'inbox-1');
    assert.equal(forged.code, 5, forged.stderr);
    assert.match(forged.stderr, /refused 已拒绝: signature refused: the signature does not match the decision/);
    const recorded = (await handle.query(progressQuery)).refusedSignals ?? [];
    assert.equal(recorded.length, 4);
    assert.equal(recorded[3]?.via, 'update');

    const signed = await cli(...base, '--signing-key', inboxKeyFile, '--key-id', 'inbox-1', '--json');
    assert.equal(signed.code, 0, signed.stderr);
    assert.equal(JSON.parse(signed.stdout).outcome, 'accepted');
    const result: MonthlyDeductionResult = await handle.result();
    assert.equal(result.outcome, 'COMPLETED');
    assert.equal(result.decision?.signature?.keyId, 'inbox-1');
    assert.equal((await stack.admin.ledger({ taxNo, interfaceCode: 'statisticConfirm' })).length, 1);
    await recordHistory(handle, 'signed-approval-after-refusals');
  });
});
