import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { FastifyInstance } from 'fastify';
import { startMonthlyDeduction } from '../client/deductions.js';
import { buildInbox } from '../inbox/server.js';
import { inboxSettingsFromEnv } from '../inbox/settings.js';
import type { TaxpayerInfo } from '../inbox/taxpayers.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import { decisionSigningKey, signDecision } from '../security/decisionSigning.js';
import {
  approveSignal,
  approveUpdate,
  DECISION_REFUSED,
  progressQuery,
  type MonthlyDeductionResult,
  type Progress,
} from '../workflows/contract.js';
import { TEST_WINDOW } from './support/calendar.js';
import { InboxBrowser, writeTestAccounts } from './support/inboxBrowser.js';
import { startStack, type TestStack } from './support/stack.js';
import { addTaxpayer } from './support/taxpayers.js';
import { historyLength, waitForStage } from './support/workflows.js';

/**
 * Signed decisions end to end (docs/decision-signing.md, docs/inbox-security.md "Signed
 * decisions"): a Temporal dev server, the invoice-cloud sandbox, a real worker whose
 * DECISION_VERIFY_KEYS holds the inbox's public key, and the inbox in-process, configured the way
 * inbox/main.ts configures it (INBOX_SIGNING_KEY_FILE / INBOX_SIGNING_KEY_ID read by
 * inboxSettingsFromEnv, the PEM file read and checked at start-up). Every month here is under the
 * `signed` decision policy and names the inbox account `wang` as its only approver.
 */

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500 };
const INBOX_KEY_ID = 'inbox-e2e-1';
/** A key id the workers never heard of (say, an inbox still pointed at a retired key). */
const RETIRED_KEY_ID = 'inbox-retired-0';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function writeKeyPair(dir: string, name: string): { file: string; publicKey: KeyObject; privateKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const file = join(dir, `${name}.pem`);
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return { file, publicKey, privateKey };
}

describe('signed decision policy end to end: the inbox signs, the worker verifies', function () {
  this.timeout(180_000);
  let stack: TestStack;
  let accountsFile: string;
  const directory = new Map<string, TaxpayerInfo>();
  const inboxes: FastifyInstance[] = [];
  let serial = 0;
  const keyDir = mkdtempSync(join(tmpdir(), 'signed-decision-keys-'));
  const inboxKey = writeKeyPair(keyDir, 'inbox');
  const strangerKey = writeKeyPair(keyDir, 'stranger');
  const savedVerifyKeys = process.env.DECISION_VERIFY_KEYS;

  before(async () => {
    // The in-process worker's DECISION_VERIFY_KEYS (activities/decisionVerification.ts reads it at
    // each verification): the inbox's public key only, as `scripts/decisionKeys.ts` prints it.
    process.env.DECISION_VERIFY_KEYS = JSON.stringify({
      [INBOX_KEY_ID]: inboxKey.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    });
    accountsFile = await writeTestAccounts();
    stack = await startStack();
    await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 5, seed: 3 });
    await stack.admin.setClock(SANDBOX_NOW);
    await stack.startWorker();
  });
  after(async () => {
    for (const app of inboxes) await app.close();
    await stack?.stop();
    if (savedVerifyKeys === undefined) delete process.env.DECISION_VERIFY_KEYS;
    else process.env.DECISION_VERIFY_KEYS = savedVerifyKeys;
  });

  /** An inbox over the stack's client, its signing key set as inbox/main.ts reads it from the environment. */
  async function inboxSigningWith(keyFile: string, keyId: string): Promise<FastifyInstance> {
    const settings = inboxSettingsFromEnv({
      INBOX_ACCOUNTS_FILE: accountsFile,
      INBOX_SIGNING_KEY_FILE: keyFile,
      INBOX_SIGNING_KEY_ID: keyId,
    });
    assert.deepEqual(settings.signing, { keyFile, keyId });
    const app = await buildInbox({
      client: stack.client,
      taxpayers: () => directory,
      security: settings,
      signer: { privateKey: decisionSigningKey(readFileSync(settings.signing!.keyFile, 'utf8')), keyId },
    });
    inboxes.push(app);
    return app;
  }

  async function loggedInAsWang(app: FastifyInstance): Promise<InboxBrowser> {
    const browser = new InboxBrowser(app);
    const response = await browser.login('wang');
    assert.equal(response.statusCode, 303, response.body);
    assert.equal(response.headers.location, '/');
    return browser;
  }

  /** A fresh taxpayer under the `signed` policy, approver `wang`, brought to AWAITING_APPROVAL. */
  async function signedMonthAwaitingApproval() {
    serial += 1;
    const taxNo = withCheckCharacter(`91440300MA5DECK${String(serial).padStart(2, '0')}`);
    const name = `签名审批${serial}有限公司`;
    await addTaxpayer(stack.admin, taxNo, { name, invoices: 10, seed: 40 + serial });
    directory.set(taxNo, { name, approvers: ['wang'] });
    const { handle } = await startMonthlyDeduction(stack.client, {
      taxNo,
      taxPeriod: PERIOD,
      polling: FAST_POLLING,
      approvers: ['wang'],
      decisionPolicy: 'signed',
    });
    const waiting = await waitForStage(handle, 'AWAITING_APPROVAL');
    assert.ok(waiting.statistic?.digest, 'the month presents a statistic table');
    return { taxNo, handle, digest: waiting.statistic.digest };
  }

  async function confirmations(taxNo: string): Promise<number> {
    return (await stack.admin.ledger({ taxNo, interfaceCode: 'statisticConfirm' })).length;
  }

  async function progressOf(handle: WorkflowHandle): Promise<Progress> {
    return handle.query(progressQuery);
  }

  /** Polls until the month has recorded `count` refusals. */
  async function refusalsRecorded(handle: WorkflowHandle, count: number): Promise<Progress> {
    let progress = await progressOf(handle);
    for (let i = 0; i < 50 && (progress.refusedSignals?.length ?? 0) < count; i++) {
      await sleep(100);
      progress = await progressOf(handle);
    }
    return progress;
  }

  /** The month still waits, undecided, and the bureau has confirmed nothing for it. */
  async function assertNothingDecided(taxNo: string, handle: WorkflowHandle, digest: string): Promise<Progress> {
    await sleep(500); // room for a decision, had one been taken, to move the month on
    const progress = await progressOf(handle);
    assert.equal(progress.stage, 'AWAITING_APPROVAL', 'the month still waits for an approver');
    assert.equal(progress.decision, undefined, 'no decision was taken');
    assert.equal(progress.statistic?.digest, digest, 'the same table awaits approval');
    assert.equal(await confirmations(taxNo), 0, 'nothing was confirmed at the bureau');
    return progress;
  }

  /** Approves through the inbox signing with the key the workers know; the month completes, confirmed once. */
  async function approveThroughInbox(browser: InboxBrowser, taxNo: string, handle: WorkflowHandle, digest: string) {
    const shown = await browser.decide('/approve', {
      taxNo,
      period: PERIOD,
      statisticDigest: digest,
      comment: '核对无误',
    });
    assert.equal(shown.error, undefined, `the inbox showed an error: ${shown.error}`);
    assert.match(shown.message ?? '', new RegExp(`^${taxNo} ${PERIOD}: .*${digest}`));
    const result: MonthlyDeductionResult = await handle.result();
    assert.equal(result.outcome, 'COMPLETED');
    assert.equal(result.stage, 'COMPLETED');
    assert.equal(result.decision?.decision, 'approved');
    assert.equal(result.decision?.approver, 'wang', 'the logged-in account is the approver');
    assert.equal(result.decision?.comment, '核对无误');
    assert.equal(result.decision?.via, 'update');
    assert.equal(result.decision?.signature?.keyId, INBOX_KEY_ID, "signed with the inbox's key");
    assert.equal(await confirmations(taxNo), 1, 'confirmed once at the bureau');
    return result;
  }

  it("(1) an approval through the inbox, signed with the inbox's key, is accepted: COMPLETED, confirmed once", async () => {
    const browser = await loggedInAsWang(await inboxSigningWith(inboxKey.file, INBOX_KEY_ID));
    const { taxNo, handle, digest } = await signedMonthAwaitingApproval();
    const result = await approveThroughInbox(browser, taxNo, handle, digest);
    assert.equal(result.refusedSignals, undefined, 'nothing was refused on the way');
  });

  it('(2) a raw signal and a raw unsigned Update do not decide: refused and recorded, nothing confirmed', async () => {
    const browser = await loggedInAsWang(await inboxSigningWith(inboxKey.file, INBOX_KEY_ID));
    const { taxNo, handle, digest } = await signedMonthAwaitingApproval();

    // Someone with raw access to Temporal, in the approver's name, with the right table.
    await handle.signal(approveSignal, { approver: 'wang', statisticDigest: digest, comment: 'raw' });
    const afterSignal = await refusalsRecorded(handle, 1);
    assert.equal(afterSignal.refusedSignals?.length, 1, 'the signal is recorded as refused');
    const [signalRefusal] = afterSignal.refusedSignals!;
    assert.equal(signalRefusal!.signal, 'approve');
    assert.equal(signalRefusal!.approver, 'wang');
    assert.match(
      signalRefusal!.reason,
      /takes only signed decisions \(decisionPolicy signed\): a approve signal does not decide/,
    );
    assert.notEqual(signalRefusal!.via, 'update');

    // An unsigned Update is refused too, and recorded: the caller gets DecisionRefused `unsigned`,
    // and the month's audit trail (and its history) keeps the attempt (docs/decision-signing.md).
    const events = await historyLength(stack.client, handle.workflowId);
    const refused = await handle
      .executeUpdate(approveUpdate, { args: [{ approver: 'wang', statisticDigest: digest }] })
      .then(
        (outcome) => assert.fail(`an unsigned Update was answered ${JSON.stringify(outcome)}`),
        (error: unknown) => error,
      );
    assert.ok(refused instanceof WorkflowUpdateFailedError, String(refused));
    const failure = refused.cause;
    assert.ok(failure instanceof ApplicationFailure, String(failure));
    assert.equal(failure.type, DECISION_REFUSED);
    assert.deepEqual(failure.details, ['unsigned']);
    assert.match(failure.message, new RegExp(`${taxNo} takes only signed decisions`));
    assert.ok((await historyLength(stack.client, handle.workflowId)) > events, 'the refused Update is in the history');

    const progress = await assertNothingDecided(taxNo, handle, digest);
    assert.equal(progress.refusedSignals?.length, 2, 'the signal and the Update are in the audit trail');
    const updateRefusal = progress.refusedSignals![1]!;
    assert.equal(updateRefusal.via, 'update');
    assert.equal(updateRefusal.approver, 'wang');
    assert.match(updateRefusal.reason, /takes only signed decisions/);

    // The approver then decides in the inbox: that one decision confirms, once.
    const result = await approveThroughInbox(browser, taxNo, handle, digest);
    assert.equal(result.refusedSignals?.length, 2, 'the refusals stay in the audit trail');
  });

  it('(3) a decision signed with a key the worker does not know is refused and recorded; nothing confirmed', async () => {
    const { taxNo, handle, digest } = await signedMonthAwaitingApproval();

    // An inbox signing with a key id the workers do not list (e.g. one removed from
    // DECISION_VERIFY_KEYS): the worker refuses it, the page shows why.
    const retired = await loggedInAsWang(await inboxSigningWith(strangerKey.file, RETIRED_KEY_ID));
    const shown = await retired.decide('/approve', { taxNo, period: PERIOD, statisticDigest: digest });
    assert.equal(shown.message, undefined);
    assert.match(
      shown.error ?? '',
      new RegExp(`signature refused: the worker knows no verification key ${RETIRED_KEY_ID}`),
    );
    let progress = await refusalsRecorded(handle, 1);
    assert.equal(progress.refusedSignals?.length, 1);
    assert.equal(progress.refusedSignals![0]!.via, 'update');
    assert.equal(progress.refusedSignals![0]!.approver, 'wang');
    assert.match(progress.refusedSignals![0]!.reason, new RegExp(`no verification key ${RETIRED_KEY_ID}`));

    // A key the worker does not know, claiming the inbox's key id (a forged signature).
    const signedAt = new Date().toISOString();
    const forged = signDecision(strangerKey.privateKey, INBOX_KEY_ID, {
      taxNo,
      taxPeriod: PERIOD,
      statisticDigest: digest,
      decision: 'approve',
      approver: 'wang',
      signedAt,
    });
    const refused = await handle
      .executeUpdate(approveUpdate, { args: [{ approver: 'wang', statisticDigest: digest, signature: forged }] })
      .then(
        (outcome) => assert.fail(`a forged signature was answered ${JSON.stringify(outcome)}`),
        (error: unknown) => error,
      );
    assert.ok(refused instanceof WorkflowUpdateFailedError, String(refused));
    assert.ok(refused.cause instanceof ApplicationFailure, String(refused.cause));
    assert.equal(refused.cause.type, DECISION_REFUSED);
    assert.deepEqual(refused.cause.details, ['bad-signature']);
    assert.match(
      refused.cause.message,
      new RegExp(`signature refused: the signature does not match the decision \\(key ${INBOX_KEY_ID}\\)`),
    );

    progress = await assertNothingDecided(taxNo, handle, digest);
    assert.equal(progress.refusedSignals?.length, 2, 'both refusals are recorded');
    assert.equal(progress.refusedSignals![1]!.via, 'update');
    assert.match(progress.refusedSignals![1]!.reason, /signature refused: the signature does not match the decision/);

    // The inbox with the key the workers know still decides the month.
    const browser = await loggedInAsWang(await inboxSigningWith(inboxKey.file, INBOX_KEY_ID));
    const result = await approveThroughInbox(browser, taxNo, handle, digest);
    assert.equal(result.refusedSignals?.length, 2, 'the refusals stay in the audit trail');
  });
});
