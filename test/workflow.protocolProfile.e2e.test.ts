import assert from 'node:assert/strict';
import { WorkflowFailedError } from '@temporalio/client';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approve, startMonthlyDeduction, statisticAwaitingApproval } from '../client/deductions.js';
import type { ProtocolProfileInput } from '../protocol/profile.js';
import { withCheckCharacter } from '../protocol/taxNo.js';
import { progressQuery, type MonthlyDeductionResult } from '../workflows/contract.js';
import { TEST_WINDOW } from './support/calendar.js';
import { startStack, type TestStack } from './support/stack.js';
import { addTaxpayer } from './support/taxpayers.js';
import { waitForStage } from './support/workflows.js';
import { TEST_APPROVERS } from './support/approvers.js';

const { period: PERIOD, sandboxNow: SANDBOX_NOW } = TEST_WINDOW;
const FAST_POLLING = { initialIntervalMs: 200, maximumIntervalMs: 500, backoffCoefficient: 1.5 };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A protocol profile file for the worker (INVOICE_CLOUD_PROFILE). */
function profileFile(profile: ProtocolProfileInput): string {
  const file = join(mkdtempSync(join(tmpdir(), 'profile-')), 'tenant.json');
  writeFileSync(file, JSON.stringify(profile));
  return file;
}

/** The message of the failure that ended a workflow, down to its root cause. */
async function failureOf(result: Promise<unknown>): Promise<string> {
  const error = await result.then(
    (value) => assert.fail(`the month should have failed: ${JSON.stringify(value)}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof WorkflowFailedError, String(error));
  const messages: string[] = [];
  for (let cause: Error | undefined = error; cause; cause = (cause as { cause?: Error }).cause) {
    messages.push(cause.message);
  }
  return messages.join(' <- ');
}

async function startMonth(stack: TestStack, taxNo: string) {
  const { handle } = await startMonthlyDeduction(stack.client, {
    approvers: TEST_APPROVERS,
    taxNo,
    taxPeriod: PERIOD,
    polling: FAST_POLLING,
  });
  return handle;
}

describe('the protocol profile on a real dev server and the sandbox', function () {
  this.timeout(180_000);

  describe('a tenant whose select flag is the other way round (sandbox profile reversed, worker default)', () => {
    let stack: TestStack;
    before(async () => {
      stack = await startStack();
      await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 0, seed: 7 });
      await stack.admin.setClock(SANDBOX_NOW);
      await stack.admin.setProfile({ selectFlag: { select: '0', cancel: '1' } });
      await stack.startWorker();
    });
    after(async () => stack?.stop());

    it('stops the month before approval, naming authenticateFlag, and confirms nothing', async () => {
      const taxNo = withCheckCharacter('91440300MA5CRF001');
      await addTaxpayer(stack.admin, taxNo, { invoices: 12, seed: 31 });
      const began = Date.now();
      const handle = await startMonth(stack, taxNo);
      const message = await failureOf(handle.result());
      assert.ok(Date.now() - began < 120_000, 'stopped within minutes');
      assert.match(message, /authenticateFlag/);
      assert.match(message, /Stopped before approval/);

      const progress = await handle.query(progressQuery);
      assert.equal(progress.stage, 'FAILED');
      assert.equal(progress.plannedVersusBureau?.agrees, false);
      assert.ok(progress.plannedVersusBureau!.planned.count > 0, 'the bureau answered every invoice as selected');
      assert.equal(progress.plannedVersusBureau!.bureau.count, 0, 'and the table counts none of them');
      const events = (await handle.fetchHistory()).events ?? [];
      const closing = events.at(-1)?.workflowExecutionFailedEventAttributes?.failure;
      assert.match(JSON.stringify(closing), /authenticateFlag/, 'the history names authenticateFlag');
      assert.deepEqual(await stack.admin.ledger({ taxNo, interfaceCode: 'statisticConfirm' }), []);
    });
  });

  describe('a tenant with a confirm-result interface of its own', () => {
    let stack: TestStack;
    const tenantProfile = { confirmation: { kind: 'result-interface', interfaceCode: 'tjbbQrjgQuery' } } as const;
    before(async () => {
      stack = await startStack({ invoiceCloudEnv: { INVOICE_CLOUD_PROFILE: profileFile(tenantProfile) } });
      await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 0, seed: 7 });
      await stack.admin.setClock(SANDBOX_NOW);
      await stack.startWorker();
    });
    after(async () => stack?.stop());

    it('reads the confirmation through that interface when the cloud serves it', async () => {
      await stack.admin.setProfile(tenantProfile);
      const taxNo = withCheckCharacter('91440300MA5CRF002');
      await addTaxpayer(stack.admin, taxNo, { invoices: 6, seed: 32 });
      const handle = await startMonth(stack, taxNo);
      await waitForStage(handle, 'AWAITING_APPROVAL');
      await approve(stack.client, taxNo, PERIOD, {
        approver: '王会计',
        statisticDigest: (await statisticAwaitingApproval(stack.client, taxNo, PERIOD)).digest,
      });
      const result: MonthlyDeductionResult = await handle.result();
      assert.equal(result.outcome, 'COMPLETED');
      assert.equal(result.statistic?.statisticStatus, '05');
      assert.equal((await stack.admin.ledger({ taxNo, interfaceCode: 'statisticConfirm' })).length, 1);
    });

    it('fails at the confirmation, naming the interface, when the cloud does not serve it', async () => {
      await stack.admin.setProfile({});
      const taxNo = withCheckCharacter('91440300MA5CRF003');
      await addTaxpayer(stack.admin, taxNo, { invoices: 6, seed: 33 });
      const handle = await startMonth(stack, taxNo);
      await waitForStage(handle, 'AWAITING_APPROVAL');
      await approve(stack.client, taxNo, PERIOD, {
        approver: '王会计',
        statisticDigest: (await statisticAwaitingApproval(stack.client, taxNo, PERIOD)).digest,
      });
      const message = await failureOf(handle.result());
      assert.match(message, /tjbbQrjgQuery|statisticConfirmResult/);
    });
  });

  describe('a taxpayer whose soft-certificate mode goes off while its selection runs', () => {
    let stack: TestStack;
    before(async () => {
      stack = await startStack();
      await stack.admin.seedDemo({ taxPeriod: PERIOD, now: SANDBOX_NOW, invoicesPerTaxpayer: 0, seed: 7 });
      await stack.admin.setClock(SANDBOX_NOW);
      await stack.admin.setTaskDelays({ selectMs: 60_000 });
      await stack.startWorker();
    });
    after(async () => stack?.stop());

    it('fails the month at once on 6910 "…没有开启软证书模式", naming soft-certificate mode', async () => {
      const taxNo = withCheckCharacter('91440300MA5CRF004');
      await addTaxpayer(stack.admin, taxNo, { invoices: 6, seed: 34 });
      const handle = await startMonth(stack, taxNo);
      for (let i = 0; i < 150; i++) {
        const progress = await handle.query(progressQuery).catch(() => undefined);
        if (progress?.selection?.taskNos.length) break;
        await sleep(200);
      }
      const summary = await stack.admin.getTaxpayer(taxNo);
      await stack.admin.upsertTaxpayer({
        taxNo,
        name: `测试纳税人${taxNo.slice(-4)}`,
        softCertificate: false,
        periodChangeSupported: true,
        taxPeriod: summary.taxPeriod,
        confirmPassword: '1234567',
      });
      const noticed = Date.now();
      const message = await failureOf(handle.result());
      assert.ok(Date.now() - noticed < 30_000, 'failed at once, not polled for a day');
      assert.match(message, /soft-certificate mode/);
      assert.match(message, /没有开启软证书模式/);
    });
  });
});
