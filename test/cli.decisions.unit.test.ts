import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { runCli } from '../client/cli.js';
import { exitCodeFor, type CliIo } from '../client/cliSupport.js';
import { DecisionRefusedError } from '../client/deductions.js';
import { verifyDecision, parseVerifyKeys } from '../security/decisionSigning.js';
import { DECISION_REFUSED, type DecisionOutcome } from '../workflows/contract.js';

const TAX_NO = '91440300591872133B';
const PERIOD = '202611';
const DIGEST = '3f2a9c01';

interface SentUpdate {
  name: string;
  args: unknown[];
}

/**
 * Just what the CLI's approve / reject call of a Temporal client: describe, the progress query,
 * executeUpdate (answered by `answer`), withDeadline, close.
 */
function fakeClient(opts: {
  stage?: string;
  decisionPolicy?: 'unsigned' | 'signed';
  answer: (update: SentUpdate) => DecisionOutcome | Error;
  sent: SentUpdate[];
}): Client {
  const progress = {
    taxNo: TAX_NO,
    taxPeriod: PERIOD,
    stage: opts.stage ?? 'AWAITING_APPROVAL',
    decisionPolicy: opts.decisionPolicy ?? 'unsigned',
    updatedAt: '2026-12-05T02:00:00.000Z',
    statistic: {
      digest: DIGEST,
      statisticStatus: '02',
      updateTime: '2026-12-05 10:00:00',
      deductionDeadline: '2026-12-15',
      items: [],
      deductibleCount: 3,
      deductibleAmount: '300.00',
      deductibleTax: '39.00',
    },
  };
  const handle = {
    describe: async () => ({
      runId: 'run-1',
      status: { name: 'RUNNING' },
      startTime: new Date('2026-12-01T00:00:00Z'),
      historyLength: 30,
      typedSearchAttributes: { get: () => progress.stage },
    }),
    query: async () => progress,
    executeUpdate: async (def: { name: string } | string, options: { args: unknown[] }) => {
      const update = { name: typeof def === 'string' ? def : def.name, args: options.args };
      opts.sent.push(update);
      const answer = opts.answer(update);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return {
    workflow: { getHandle: () => handle },
    connection: { withDeadline: (_deadline: number, fn: () => Promise<unknown>) => fn(), close: async () => undefined },
  } as unknown as Client;
}

function refusal(reason: string, code: string): WorkflowUpdateFailedError {
  return new WorkflowUpdateFailedError(
    'Workflow Update failed',
    ApplicationFailure.create({ message: reason, type: DECISION_REFUSED, nonRetryable: true, details: [code] }),
  );
}

async function cli(
  args: string[],
  client: Client | undefined,
  io: Partial<CliIo> = {},
): Promise<{ code: number; stdout: string; stderr: string; connects: number }> {
  let stdout = '';
  let stderr = '';
  let connects = 0;
  const code = await runCli(['node', 'cli', ...args], {
    env: {},
    out: (text) => (stdout += text),
    err: (text) => (stderr += text),
    connect: async () => {
      connects++;
      if (!client) throw new Error('must not connect');
      return client;
    },
    ...io,
  });
  return { code, stdout, stderr, connects };
}

const APPROVE = ['approve', '--tax-no', TAX_NO, '--period', PERIOD, '--approver', '王会计'];

describe('CLI approve / reject: the digest shown, the outcome, the exit codes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-decisions-'));
  const keys = generateKeyPairSync('ed25519');
  const keyFile = join(dir, 'approver.pem');
  writeFileSync(keyFile, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const rsaFile = join(dir, 'rsa.pem');
  writeFileSync(
    rsaFile,
    generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
  );

  it('never fills the digest in: without --digest and without a terminal it refuses before connecting', async () => {
    const run = await cli(APPROVE, undefined);
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.connects, 0);
    assert.match(run.stderr, /--digest: required when stdin is not a terminal/);
  });

  it('checks --digest, --signing-key and --key-id before connecting', async () => {
    const cases: [string[], RegExp][] = [
      [['--digest', 'XYZ'], /--digest XYZ: must be the 8 hex characters/],
      [['--digest', DIGEST, '--signing-key', keyFile], /--signing-key and --key-id go together/],
      [['--digest', DIGEST, '--key-id', 'k1'], /--signing-key and --key-id go together/],
      [['--digest', DIGEST, '--signing-key', keyFile, '--key-id', 'a b'], /--key-id a b: must be/],
      [['--digest', DIGEST, '--signing-key', join(dir, 'missing.pem'), '--key-id', 'k1'], /cannot be read \(ENOENT\)/],
      [['--digest', DIGEST, '--signing-key', rsaFile, '--key-id', 'k1'], /not Ed25519/],
    ];
    for (const [extra, message] of cases) {
      const run = await cli([...APPROVE, ...extra], undefined);
      assert.equal(run.code, 2, `${extra.join(' ')}: ${run.stderr}`);
      assert.equal(run.connects, 0);
      assert.match(run.stderr, message);
    }
  });

  it('accepted: exit 0 with the outcome; the Update names the digest given', async () => {
    const sent: SentUpdate[] = [];
    const client = fakeClient({ sent, answer: () => ({ outcome: 'accepted', statisticDigest: DIGEST }) });
    const run = await cli([...APPROVE, '--digest', DIGEST, '--comment', '核对无误'], client);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Approved: the bureau's table is still 3f2a9c01; the month goes on to confirm it/);
    assert.deepEqual(sent, [
      { name: 'approve', args: [{ approver: '王会计', statisticDigest: DIGEST, comment: '核对无误' }] },
    ]);
    const json = await cli([...APPROVE, '--digest', DIGEST, '--json'], client);
    assert.equal(json.code, 0);
    assert.equal(JSON.parse(json.stdout).outcome, 'accepted');
  });

  it('refused: exit 5 with the reason', async () => {
    const client = fakeClient({
      sent: [],
      answer: () =>
        refusal('approves statistic 00000000, but the statistic awaiting approval is 3f2a9c01', 'stale-table'),
    });
    const run = await cli([...APPROVE, '--digest', '00000000'], client);
    assert.equal(run.code, 5, run.stderr);
    assert.equal(
      run.stderr,
      'error: refused 已拒绝: approves statistic 00000000, but the statistic awaiting approval is 3f2a9c01\n',
    );
    assert.deepEqual(exitCodeFor(new DecisionRefusedError('王 is not an approver of X', 'not-an-approver')), [
      5,
      'refused 已拒绝: 王 is not an approver of X',
    ]);
  });

  it('voided: exit 6 with the reason and the new table', async () => {
    const reason = `the bureau's statistic changed from ${DIGEST} to 0badf00d after it was approved; approve the new table`;
    const client = fakeClient({
      sent: [],
      answer: () => ({ outcome: 'voided', reason, statisticDigest: '0badf00d' }),
    });
    const run = await cli([...APPROVE, '--digest', DIGEST], client);
    assert.equal(run.code, 6, run.stderr);
    assert.ok(run.stderr.includes(reason), run.stderr);
    assert.match(run.stderr, /the new table is 0badf00d/);
  });

  it('on a terminal: shows the table, asks for its digest, and sends only what was typed', async () => {
    const sent: SentUpdate[] = [];
    const client = fakeClient({ sent, answer: () => ({ outcome: 'accepted', statisticDigest: DIGEST }) });
    const questions: string[] = [];
    const typed = (answer: string) => ({
      isStdinTty: true,
      ask: async (q: string) => {
        questions.push(q);
        return answer;
      },
    });
    const cancelled = await cli(APPROVE, client, typed('y'));
    assert.equal(cancelled.code, 2);
    assert.match(cancelled.stdout, /Stage 阶段:\s+AWAITING_APPROVAL/);
    assert.match(cancelled.stdout, /Deductible total 可抵扣合计:\s+count 3, amount 300.00, tax 39.00/);
    assert.match(questions[0] ?? '', /type its digest \(3f2a9c01\)/);
    assert.match(cancelled.stderr, /not confirmed .*nothing was sent/);
    assert.equal(sent.length, 0);

    const confirmed = await cli(APPROVE, client, typed(` ${DIGEST} `));
    assert.equal(confirmed.code, 0, confirmed.stderr);
    assert.deepEqual(sent, [{ name: 'approve', args: [{ approver: '王会计', statisticDigest: DIGEST }] }]);
  });

  it('signed policy: without a key it sends nothing; with one the Update carries a signature the worker verifies', async () => {
    const sent: SentUpdate[] = [];
    const client = fakeClient({
      sent,
      decisionPolicy: 'signed',
      answer: () => ({ outcome: 'accepted', statisticDigest: DIGEST }),
    });
    const unsigned = await cli(APPROVE, client, { isStdinTty: true, ask: async () => DIGEST });
    assert.equal(unsigned.code, 5);
    assert.match(unsigned.stderr, /takes only signed decisions .*--signing-key and --key-id; nothing was sent/);
    assert.equal(sent.length, 0);

    const run = await cli([...APPROVE, '--digest', DIGEST, '--signing-key', keyFile, '--key-id', 'ops-1'], client);
    assert.equal(run.code, 0, run.stderr);
    const input = sent[0]?.args[0] as { signature: { keyId: string; signedAt: string; value: string } };
    assert.equal(input.signature.keyId, 'ops-1');
    const verifyKeys = parseVerifyKeys(
      JSON.stringify({ 'ops-1': keys.publicKey.export({ type: 'spki', format: 'pem' }) }),
    );
    const fields = {
      taxNo: TAX_NO,
      taxPeriod: PERIOD,
      statisticDigest: DIGEST,
      decision: 'approve' as const,
      approver: '王会计',
      signedAt: input.signature.signedAt,
    };
    assert.deepEqual(verifyDecision(verifyKeys, fields, input.signature), { valid: true, keyId: 'ops-1' });
  });

  it('reject: exit 0 with the outcome; a signed rejection needs the digest', async () => {
    const sent: SentUpdate[] = [];
    const client = fakeClient({ sent, answer: () => ({ outcome: 'rejected' }) });
    const REJECT = ['reject', '--tax-no', TAX_NO, '--period', PERIOD, '--approver', '王会计', '--reason', '金额不符'];
    const run = await cli(REJECT, client);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Rejected: the month revokes the statistic table/);
    assert.deepEqual(sent, [{ name: 'reject', args: [{ approver: '王会计', reason: '金额不符' }] }]);
    const signedNoDigest = await cli([...REJECT, '--signing-key', keyFile, '--key-id', 'ops-1'], client);
    assert.equal(signedNoDigest.code, 2);
    assert.match(signedNoDigest.stderr, /a signed rejection names the table/);
  });

  it('start --decision-policy signed starts the month with that policy; an unknown one is bad input', async () => {
    const started: unknown[] = [];
    const client = {
      workflow: {
        start: async (_type: string, options: { args: unknown[] }) => {
          started.push(options.args[0]);
          return { firstExecutionRunId: 'run-1' };
        },
      },
      connection: { close: async () => undefined },
    } as unknown as Client;
    const run = await cli(
      ['start', '--tax-no', TAX_NO, '--period', PERIOD, '--approver', 'wang', '--decision-policy', 'signed'],
      client,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal((started[0] as { decisionPolicy: string }).decisionPolicy, 'signed');
    assert.deepEqual((started[0] as { approvers: string[] }).approvers, ['wang']);
    const bad = await cli(
      ['start', '--tax-no', TAX_NO, '--period', PERIOD, '--approver', 'wang', '--decision-policy', 'sometimes'],
      undefined,
    );
    assert.equal(bad.code, 2);
    assert.equal(bad.connects, 0);
  });
});
