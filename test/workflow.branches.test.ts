import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import proto from '@temporalio/proto';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { createDecisionActivities } from '../activities/decisionVerification.js';
import { toActivityFailure } from '../activities/failures.js';
import { FailureType } from '../protocol/failureTypes.js';
import { InvoiceCloudError } from '../activities/invoiceCloudErrors.js';
import { GatewayCode, StatisticStatus } from '../protocol/codes.js';
import { shanghaiParts } from '../protocol/period.js';
import { statisticDigest, statisticItemsDigest } from '../rules/statisticDigest.js';
import { signDecision, type DecisionFields } from '../security/decisionSigning.js';
import { workflowBundle, WORKFLOWS_PATH } from '../workers/createWorker.js';
import {
  type ApproveDecisionInput,
  type ApproveSignalInput,
  approveSignal,
  approveUpdate,
  DECISION_REFUSED,
  type DecisionRefusalCode,
  type MonthlyDeductionInput,
  type Progress,
  progressQuery,
  type RejectDecisionInput,
  type RejectSignalInput,
  rejectSignal,
  rejectUpdate,
  WORKFLOW_TYPE,
} from '../workflows/contract.js';
import { LAUNCHER_WORKFLOW_TYPE, type LauncherResult } from '../workflows/launcherContract.js';
import type { MonthlyDeductionWorkflow } from '../workflows/monthlyDeduction.js';
import { FakeBureau, type FakeBureauOptions, type StubName } from './support/fakeBureau.js';
import { startTimeSkippingServer } from './support/timeSkipping.js';
import { TEST_APPROVERS } from './support/approvers.js';
import { TEST_PERIOD, yyyymm } from './support/calendar.js';

/**
 * Every branch of MonthlyDeductionWorkflow against stubbed activities (test/support/fakeBureau.ts)
 * on the time-skipping test server: approval deadlines and retry backoffs pass while the test
 * awaits the result. Signals are sent while the test polls the progress query (time stands still).
 */

const TAX_NO = '91440300591872133B';
const PERIOD = TEST_PERIOD;
/** The periods either side of the month's, for a bureau on another period and a period change. */
const PREVIOUS_PERIOD = periodAfter(PERIOD, -1);
const NEXT_PERIOD = periodAfter(PERIOD, 1);
const DAY_MS = 86_400_000;
const APPROVER = TEST_APPROVERS[0]!;
const SECOND_APPROVER = TEST_APPROVERS[1]!;

/** The period `months` after `period` (YYYYMM). */
function periodAfter(period: string, months: number): string {
  return yyyymm(Number(period.slice(0, 4)), Number(period.slice(4)) + months);
}

type Handle = WorkflowHandle<typeof MonthlyDeductionWorkflow>;
type Start = (extra?: Partial<MonthlyDeductionInput>) => Promise<Handle>;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const EventType = proto.temporal.api.enums.v1.EventType;

/** The inbox's signing key in these tests, and the key the worker verifies with. */
const SIGNING = generateKeyPairSync('ed25519');
const KEY_ID = 'inbox-test-1';
const VERIFY_KEYS = JSON.stringify({ [KEY_ID]: SIGNING.publicKey.export({ type: 'spki', format: 'pem' }) });

describe('MonthlyDeductionWorkflow branches (stubbed activities, time-skipping server)', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let runs = 0;

  before(async () => {
    env = await startTimeSkippingServer();
    await workflowBundle();
  });
  after(async () => {
    await env?.teardown();
  });

  /** A fake bureau whose filing deadline is 20 days after the test server's current time. */
  async function bureau(options: Partial<FakeBureauOptions> = {}): Promise<FakeBureau> {
    const now = await env.currentTimeMs();
    return new FakeBureau({
      taxNo: TAX_NO,
      taxPeriod: PERIOD,
      deductionDeadline: shanghaiParts(new Date(now + 20 * DAY_MS)).iso,
      ...options,
    });
  }

  /** Runs `body` with a worker of the fake's activities on a task queue of its own. */
  async function withWorker(fake: FakeBureau, body: (start: Start) => Promise<void>): Promise<void> {
    const run = ++runs;
    const taskQueue = `branches-${run}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: { ...fake.activities(), ...createDecisionActivities({ verifyKeys: VERIFY_KEYS }) },
    });
    const start: Start = (extra = {}) =>
      env.client.workflow.start<typeof MonthlyDeductionWorkflow>(WORKFLOW_TYPE, {
        taskQueue,
        workflowId: `branches-${run}-${Date.now()}`,
        args: [
          {
            taxNo: TAX_NO,
            taxPeriod: PERIOD,
            approvers: TEST_APPROVERS,
            polling: { initialIntervalMs: 100, maximumIntervalMs: 100 },
            ...extra,
          },
        ],
      });
    await worker.runUntil(body(start));
  }

  /** Polls the progress query (small real sleeps, time stands still) until `test` holds. */
  async function waitFor(handle: Handle, test: (p: Progress) => boolean, what: string): Promise<Progress> {
    const deadline = Date.now() + 20_000;
    let last: Progress | undefined;
    while (Date.now() < deadline) {
      try {
        last = await handle.query(progressQuery);
        if (test(last)) return last;
      } catch {
        // The first workflow task has not run yet.
      }
      await sleep(25);
    }
    throw new Error(`${what} did not happen (last progress: ${JSON.stringify(last)})`);
  }
  const awaitingApproval = (handle: Handle) =>
    waitFor(handle, (p) => p.stage === 'AWAITING_APPROVAL', 'AWAITING_APPROVAL');
  const refusals = (handle: Handle, n: number) =>
    waitFor(handle, (p) => (p.refusedSignals?.length ?? 0) >= n, `${n} refused signal(s)`);

  async function until(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`${what} did not happen`);
      await sleep(25);
    }
  }

  /** The workflow's failure: it must fail, with an ApplicationFailure of `type`. */
  async function failureOf(handle: Handle, type: string): Promise<ApplicationFailure> {
    const error = await handle.result().then(
      (result) => assert.fail(`expected a failure, got ${JSON.stringify(result)}`),
      (e: unknown) => e,
    );
    assert.ok(error instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(error)}`);
    assert.ok(error.cause instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error.cause)}`);
    assert.equal(error.cause.type, type);
    return error.cause;
  }

  /** A fake bureau whose selection waits until the test opens `selecting` (decisions arrive meanwhile). */
  async function bureauHeldAtSelection(): Promise<{ fake: FakeBureau; selecting: ReturnType<typeof gate> }> {
    const fake = await bureau();
    const selecting = gate();
    fake.override('submitSelection', async (input) => {
      await selecting.opened;
      return fake.base.submitSelection(input);
    });
    return { fake, selecting };
  }

  /** A promise the test opens, for an activity that must wait until the test has acted. */
  function gate(): { opened: Promise<void>; open: () => void } {
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    return { opened, open };
  }

  const expectedApprovalDeadline = (fake: FakeBureau) =>
    new Date(`${fake.deductionDeadline}T00:00:00+08:00`).toISOString();

  const HAPPY_CALLS: StubName[] = [
    'logInToBureau',
    'queryTaxPeriod',
    'submitSelection',
    'awaitSelectionResult',
    'queryStatistic',
    'requestStatisticOperation',
    'awaitStatisticTask',
    'queryStatistic',
    // after the approval: the table is read again to check it did not change
    'queryStatistic',
    'requestConfirmation',
    'awaitConfirmation',
    'queryStatistic',
  ];

  describe('happy path', () => {
    it('selects, generates, waits for approval, confirms: COMPLETED with the decision recorded', async () => {
      const fake = await bureau();
      await withWorker(fake, async (start) => {
        const handle = await start();
        const waiting = await awaitingApproval(handle);
        assert.equal(waiting.statistic?.statisticStatus, StatisticStatus.Generated);
        assert.equal(waiting.statistic?.deductibleCount, 3);
        assert.equal(waiting.approvalDeadline, expectedApprovalDeadline(fake));
        assert.equal(fake.count('requestConfirmation'), 0, 'nothing confirmed before the approval');
        await handle.signal(approveSignal, {
          approver: APPROVER,
          comment: '核对无误',
          statisticDigest: waiting.statistic!.digest,
        });
        const result = await handle.result();

        assert.equal(result.outcome, 'COMPLETED');
        assert.equal(result.stage, 'COMPLETED');
        assert.equal(result.note, `Confirmed for ${PERIOD}, approved by ${APPROVER}.`);
        assert.equal(result.decision?.decision, 'approved');
        assert.equal(result.decision?.approver, APPROVER);
        assert.equal(result.decision?.comment, '核对无误');
        assert.ok(result.decision?.decidedAt);
        assert.equal(result.confirmedAt, '2026-12-05 10:30:00');
        assert.equal(result.periodAfterChange, undefined);
        assert.equal(result.statistic?.statisticStatus, StatisticStatus.Confirmed);
        assert.equal(result.statistic?.deductibleAmount, '300.00');
        assert.equal(result.statistic?.deductibleTax, '39.00');
        assert.equal(result.deductionDeadline, fake.deductionDeadline);
        assert.deepEqual(result.selection, {
          candidates: 3,
          submitted: 3,
          selected: 3,
          alreadySelected: 0,
          alreadySelectedInSource: { count: 0 },
          failed: 0,
          failures: [],
          taskNos: fake.inputs('awaitSelectionResult').map((i) => i.taskNo),
        });
        assert.deepEqual(result.plannedVersusBureau, {
          planned: { count: 3 },
          bureau: { count: 3, tax: '39.00' },
          agrees: true,
        });
        assert.equal(result.refusedSignals, undefined);

        assert.deepEqual(fake.names(), HAPPY_CALLS);
        assert.deepEqual(fake.inputs('submitSelection'), [
          {
            taxNo: TAX_NO,
            taxPeriod: PERIOD,
            deductionDeadline: fake.deductionDeadline,
            batchSize: 500,
            round: 1,
          },
        ]);
        assert.deepEqual(fake.inputs('requestStatisticOperation'), [
          { taxNo: TAX_NO, operation: 'generate', ordinal: 1 },
        ]);
        // The confirmation names the table approved: the bureau's must still be it.
        const approvedTable = waiting.statistic!;
        assert.deepEqual(fake.inputs('requestConfirmation'), [
          {
            taxNo: TAX_NO,
            approved: { digest: approvedTable.digest, items: statisticItemsDigest(approvedTable.items) },
          },
        ]);
        assert.equal(fake.inputs('awaitConfirmation')[0]?.taxNo, TAX_NO);
      });
    });

    it('with changePeriodTo: changes the period after confirming and reports the period read again', async () => {
      const fake = await bureau();
      await withWorker(fake, async (start) => {
        const handle = await start({ changePeriodTo: NEXT_PERIOD });
        await awaitingApproval(handle);
        await handle.signal(approveSignal, { approver: APPROVER });
        const result = await handle.result();
        assert.equal(result.outcome, 'COMPLETED');
        assert.equal(result.stage, 'COMPLETED');
        assert.equal(result.periodAfterChange, NEXT_PERIOD);
        assert.equal(result.decision?.approver, APPROVER);
        assert.deepEqual(fake.names(), [...HAPPY_CALLS, 'changeTaxPeriod', 'queryTaxPeriod']);
        assert.deepEqual(fake.inputs('changeTaxPeriod'), [{ taxNo: TAX_NO, taxPeriod: NEXT_PERIOD }]);
      });
    });

    it('selectionMode preselect: pre-selects, counts the immediate answers, and completes', async () => {
      const fake = await bureau();
      await withWorker(fake, async (start) => {
        const handle = await start({ selectionMode: 'preselect' });
        await awaitingApproval(handle);
        await handle.signal(approveSignal, { approver: APPROVER });
        const result = await handle.result();
        assert.equal(result.outcome, 'COMPLETED');
        assert.equal(fake.count('submitSelection'), 0);
        assert.equal(fake.count('awaitSelectionResult'), 0);
        assert.equal(fake.count('submitPreSelection'), 1);
        assert.equal(fake.count('awaitPreSelectionResult'), 1);
        assert.equal(result.selection?.selected, 3);
        assert.equal(result.selection?.alreadySelected, 1, 'the immediate answer is counted');
      });
    });
  });

  describe('period and early endings', () => {
    it('fails naming both periods when the bureau is on another period, and selects nothing', async () => {
      const fake = await bureau({ taxPeriod: PREVIOUS_PERIOD });
      await withWorker(fake, async (start) => {
        const handle = await start();
        const failure = await failureOf(handle, 'DeductionFailed');
        assert.ok(
          failure.message.includes(`current tax period for ${TAX_NO} is ${PREVIOUS_PERIOD}, not ${PERIOD}`),
          failure.message,
        );
        assert.ok(failure.message.includes(`Start the month for ${PREVIOUS_PERIOD}`), failure.message);
        assert.deepEqual(fake.names(), ['logInToBureau', 'queryTaxPeriod']);
        const progress = await handle.query(progressQuery);
        assert.equal(progress.stage, 'FAILED');
        assert.ok((progress.lastBureauError ?? '').includes(`is ${PREVIOUS_PERIOD}, not ${PERIOD}`));
      });
    });

    it('completes without selecting, generating or confirming when the period is already confirmed', async () => {
      const fake = await bureau({ statisticStatus: StatisticStatus.Confirmed, alreadySelectedInvoices: 4 });
      await withWorker(fake, async (start) => {
        const result = await (await start()).result();
        assert.equal(result.outcome, 'COMPLETED');
        assert.equal(result.stage, 'COMPLETED');
        assert.equal(result.note, `The statistic for ${PERIOD} was already confirmed; nothing was done again.`);
        assert.equal(result.statistic?.statisticStatus, StatisticStatus.Confirmed);
        assert.equal(result.statistic?.deductibleCount, 4);
        assert.equal(result.decision, undefined);
        assert.deepEqual(fake.names(), ['logInToBureau', 'queryTaxPeriod', 'queryStatistic']);
      });
    });

    it('fails with InvalidInput naming the field, before calling any activity', async () => {
      const fake = await bureau();
      await withWorker(fake, async (start) => {
        const badPeriod = await failureOf(await start({ taxPeriod: `${PERIOD.slice(0, 4)}13` }), 'InvalidInput');
        assert.match(badPeriod.message, /^Invalid workflow input: taxPeriod: tax period must be YYYYMM/);
        const badBatch = await failureOf(await start({ batchSize: 5000 }), 'InvalidInput');
        assert.match(badBatch.message, /^Invalid workflow input: batchSize: /);
        const badTaxNo = await failureOf(await start({ taxNo: '123' }), 'InvalidInput');
        assert.match(badTaxNo.message, /^Invalid workflow input: taxNo: /);
        assert.equal(fake.calls.length, 0);
      });
    });
  });

  describe('selection', () => {
    it('revokes a statistic that locks selection once, before selecting, when there are candidates', async () => {
      const fake = await bureau({
        statisticStatus: StatisticStatus.Generated,
        alreadySelectedInvoices: 2,
        dryRunCandidates: 3,
      });
      await withWorker(fake, async (start) => {
        const handle = await start();
        await awaitingApproval(handle);
        await handle.signal(approveSignal, { approver: APPROVER });
        const result = await handle.result();
        assert.equal(result.outcome, 'COMPLETED');
        assert.equal(result.statistic?.deductibleCount, 5, 'the earlier and the new invoices');
        assert.deepEqual(fake.names().slice(0, 8), [
          'logInToBureau',
          'queryTaxPeriod',
          'submitSelection', // dry run
          'requestStatisticOperation', // revoke
          'awaitStatisticTask',
          'submitSelection', // round 1
          'awaitSelectionResult',
          'queryStatistic',
        ]);
        const submissions = fake.inputs('submitSelection');
        assert.equal(submissions.length, 2);
        assert.equal(submissions[0]?.dryRun, true);
        assert.equal(submissions[0]?.round, 0);
        assert.equal(submissions[1]?.dryRun, undefined);
        assert.equal(submissions[1]?.round, 1);
        assert.deepEqual(fake.inputs('requestStatisticOperation'), [
          { taxNo: TAX_NO, operation: 'revoke', ordinal: 1 },
          { taxNo: TAX_NO, operation: 'generate', ordinal: 2 },
        ]);
        assert.equal(fake.count('requestConfirmation'), 1);
      });
    });

    it('does not revoke a locking statistic when the dry run counts no candidates', async () => {
      const fake = await bureau({
        statisticStatus: StatisticStatus.Generated,
        alreadySelectedInvoices: 2,
        dryRunCandidates: 0,
        rounds: [{ selected: 0, toRetry: 0 }],
      });
      await withWorker(fake, async (start) => {
        const handle = await start();
        const waiting = await awaitingApproval(handle);
        assert.equal(waiting.statistic?.deductibleCount, 2);
        await handle.signal(approveSignal, { approver: APPROVER });
        const result = await handle.result();
        assert.equal(result.outcome, 'COMPLETED');
        assert.equal(fake.count('requestStatisticOperation'), 0, 'neither revoked nor generated again');
        assert.deepEqual(
          fake.inputs('submitSelection').map((i) => [i.round, i.dryRun]),
          [
            [0, true],
            [1, undefined],
          ],
        );
        assert.equal(result.selection?.candidates, 0);
        assert.deepEqual(result.selection?.taskNos, []);
      });
    });

    it('logs in again and submits a second round when the bureau asks to retry some invoices', async () => {
      const fake = await bureau({
        rounds: [
          { selected: 2, toRetry: 1 },
          { selected: 1, toRetry: 0 },
        ],
      });
      await withWorker(fake, async (start) => {
        const handle = await start();
        await awaitingApproval(handle);
        await handle.signal(approveSignal, { approver: APPROVER });
        const result = await handle.result();
        assert.equal(result.outcome, 'COMPLETED');
        assert.deepEqual(fake.names().slice(0, 8), [
          'logInToBureau',
          'queryTaxPeriod',
          'submitSelection',
          'awaitSelectionResult',
          'logInToBureau',
          'submitSelection',
          'awaitSelectionResult',
          'queryStatistic',
        ]);
        assert.equal(fake.count('logInToBureau'), 2);
        assert.deepEqual(
          fake.inputs('submitSelection').map((i) => i.round),
          [1, 2],
        );
        assert.equal(result.selection?.candidates, 3, 'candidates of round 1');
        assert.equal(result.selection?.submitted, 4);
        assert.equal(result.selection?.selected, 3);
        assert.equal(result.selection?.taskNos.length, 2);
        assert.equal(result.statistic?.deductibleCount, 3);
      });
    });

    it(`stops after the maximum number of selection rounds (3) and goes on`, async () => {
      const fake = await bureau({ rounds: [{ selected: 1, toRetry: 2 }] });
      await withWorker(fake, async (start) => {
        const handle = await start();
        await awaitingApproval(handle);
        await handle.signal(approveSignal, { approver: APPROVER });
        const result = await handle.result();
        assert.equal(result.outcome, 'COMPLETED');
        assert.deepEqual(
          fake.inputs('submitSelection').map((i) => i.round),
          [1, 2, 3],
        );
        assert.equal(fake.count('awaitSelectionResult'), 3);
        assert.equal(fake.count('logInToBureau'), 3, 'the first login and one before each later round');
        assert.equal(result.selection?.submitted, 9);
        assert.equal(result.selection?.selected, 3);
        assert.equal(result.selection?.taskNos.length, 3);
      });
    });
  });

  describe('statistic planning', () => {
    it('revokes and regenerates a statistic generated outside the window', async () => {
      const fake = await bureau({
        statisticStatus: StatisticStatus.GeneratedOutsideWindow,
        alreadySelectedInvoices: 2,
        rounds: [{ selected: 0, toRetry: 0 }],
      });
      await withWorker(fake, async (start) => {
        const handle = await start();
        const waiting = await awaitingApproval(handle);
        assert.equal(waiting.statistic?.statisticStatus, StatisticStatus.Generated);
        await handle.signal(approveSignal, { approver: APPROVER });
        const result = await handle.result();
        assert.equal(result.outcome, 'COMPLETED');
        assert.deepEqual(fake.inputs('requestStatisticOperation'), [
          { taxNo: TAX_NO, operation: 'revoke', ordinal: 1 },
          { taxNo: TAX_NO, operation: 'generate', ordinal: 2 },
        ]);
        const afterSelection = fake.names().slice(fake.names().indexOf('queryStatistic'));
        assert.deepEqual(afterSelection.slice(0, 6), [
          'queryStatistic',
          'requestStatisticOperation',
          'awaitStatisticTask',
          'requestStatisticOperation',
          'awaitStatisticTask',
          'queryStatistic',
        ]);
      });
    });

    it('waits while the bureau generates the statistic, without generating it again', async () => {
      const fake = await bureau();
      let queries = 0;
      fake.override('queryStatistic', async (input) => {
        // A generation started elsewhere is under way when the workflow first looks.
        if (++queries === 1) fake.statisticStatus = StatisticStatus.Generating;
        return fake.base.queryStatistic(input);
      });
      let settles = 0;
      fake.override('awaitStatisticSettled', async (input) => {
        if (++settles === 3) fake.statisticStatus = StatisticStatus.Generated;
        return fake.base.awaitStatisticSettled(input);
      });
      await withWorker(fake, async (start) => {
        const handle = await start();
        const waiting = await awaitingApproval(handle);
        assert.equal(waiting.statistic?.statisticStatus, StatisticStatus.Generated);
        await handle.signal(approveSignal, { approver: APPROVER });
        const result = await handle.result();
        assert.equal(result.outcome, 'COMPLETED');
        assert.equal(fake.count('awaitStatisticSettled'), 3, 'retried while BureauTaskPending');
        assert.deepEqual(fake.inputs('awaitStatisticSettled')[0], { taxNo: TAX_NO });
        assert.equal(fake.count('requestStatisticOperation'), 0);
        assert.equal(fake.count('requestConfirmation'), 1);
      });
    });

    it('completes with "Nothing to deduct" when nothing was selected, without waiting for approval', async () => {
      const fake = await bureau({ rounds: [{ selected: 0, toRetry: 0 }] });
      await withWorker(fake, async (start) => {
        // No signal is sent: had it waited for an approval, the skipped deadline would make it EXPIRED.
        const result = await (await start()).result();
        assert.equal(result.outcome, 'COMPLETED');
        assert.equal(result.stage, 'COMPLETED');
        assert.equal(result.note, `Nothing to deduct for ${TAX_NO} in ${PERIOD}: no invoice selected.`);
        assert.equal(result.decision, undefined);
        assert.equal(fake.count('requestStatisticOperation'), 0);
        assert.equal(fake.count('requestConfirmation'), 0);
        assert.deepEqual(fake.names().slice(-1), ['queryStatistic']);
      });
    });

    it('stops before approval when the table does not count what the bureau answered selected (select flag)', async () => {
      const fake = await bureau();
      // Every invoice comes back "selected", but the bureau's table never counts them: what a
      // cancellation of unselected invoices looks like when the select flag is the other way round.
      fake.override('awaitSelectionResult', async ({ taskNo }) => {
        const result = await fake.base.awaitSelectionResult({ taxNo: TAX_NO, taskNo });
        fake.selected -= result.selected;
        return result;
      });
      await withWorker(fake, async (start) => {
        const handle = await start();
        const failure = await failureOf(handle, 'DeductionFailed');
        assert.match(
          failure.message,
          /Stopped before approval: the bureau's statistic table counts 0 deductible invoices/,
        );
        assert.match(failure.message, /authenticateFlag/);
        const progress = await handle.query(progressQuery);
        assert.deepEqual(progress.plannedVersusBureau, {
          planned: { count: 3 },
          bureau: { count: 0, tax: '0.00' },
          agrees: false,
        });
        assert.equal(fake.count('requestConfirmation'), 0, 'nothing confirmed');
      });
    });

    it('completes when the statistic turns out to be confirmed after selection', async () => {
      const fake = await bureau();
      fake.override('queryStatistic', async (input) => {
        fake.statisticStatus = StatisticStatus.Confirmed; // confirmed by hand meanwhile
        return fake.base.queryStatistic(input);
      });
      await withWorker(fake, async (start) => {
        const result = await (await start()).result();
        assert.equal(result.outcome, 'COMPLETED');
        assert.equal(result.stage, 'COMPLETED');
        assert.equal(result.note, `The statistic for ${PERIOD} was already confirmed.`);
        assert.equal(result.decision, undefined);
        assert.equal(fake.count('submitSelection'), 1);
        assert.equal(fake.count('queryStatistic'), 1);
        assert.equal(fake.count('requestStatisticOperation'), 0);
        assert.equal(fake.count('requestConfirmation'), 0);
      });
    });

    it('fails (StatisticNotGenerated) after 3 generations that leave the statistic not generated', async () => {
      const fake = await bureau();
      fake.override('awaitStatisticTask', async ({ taskNo }) => ({
        taskNo,
        success: true,
        statisticStatus: StatisticStatus.NotGenerated,
        resultMsg: '成功',
        operateType: '1',
      }));
      await withWorker(fake, async (start) => {
        const handle = await start();
        const failure = await failureOf(handle, 'DeductionFailed');
        assert.equal(
          failure.message,
          `Deduction for ${TAX_NO} ${PERIOD} failed: The statistic for ${TAX_NO} ${PERIOD} is still in status 01 after 3 attempts`,
        );
        assert.deepEqual(
          fake.inputs('requestStatisticOperation').map((i) => [i.operation, i.ordinal]),
          [
            ['generate', 1],
            ['generate', 2],
            ['generate', 3],
          ],
        );
        assert.equal(fake.count('queryStatistic'), 4);
        assert.equal(fake.count('requestConfirmation'), 0);
        assert.equal((await handle.query(progressQuery)).stage, 'FAILED');
      });
    });

    it('fails with the bureau message when the bureau refuses a statistic operation', async () => {
      const fake = await bureau();
      fake.override('awaitStatisticTask', async ({ taskNo }) => ({
        taskNo,
        success: false,
        statisticStatus: StatisticStatus.NotGenerated,
        resultMsg: '当前属期不允许生成统计表',
        operateType: '1',
      }));
      await withWorker(fake, async (start) => {
        const handle = await start();
        const failure = await failureOf(handle, 'DeductionFailed');
        assert.equal(
          failure.message,
          `Deduction for ${TAX_NO} ${PERIOD} failed: Statistic generate for ${TAX_NO} ${PERIOD} failed at the bureau: 当前属期不允许生成统计表`,
        );
        assert.equal(fake.count('requestStatisticOperation'), 1);
        assert.equal(fake.count('awaitStatisticTask'), 1, 'a refusal is not retried');
        assert.equal(fake.count('requestConfirmation'), 0);
        const progress = await handle.query(progressQuery);
        assert.equal(progress.stage, 'FAILED');
        assert.match(progress.lastBureauError ?? '', /当前属期不允许生成统计表/);
      });
    });
  });

  describe('decisions', () => {
    it('reject: revokes the statistic once, ends REJECTED, never confirms', async () => {
      const fake = await bureau();
      await withWorker(fake, async (start) => {
        const handle = await start({ approvers: [APPROVER, SECOND_APPROVER] });
        await awaitingApproval(handle);
        await handle.signal(rejectSignal, { approver: SECOND_APPROVER, reason: '金额不符' });
        const result = await handle.result();
        assert.equal(result.outcome, 'REJECTED');
        assert.equal(result.stage, 'REJECTED');
        assert.equal(result.note, `Rejected by ${SECOND_APPROVER}: 金额不符. The statistic was revoked.`);
        assert.equal(result.decision?.decision, 'rejected');
        assert.equal(result.decision?.approver, SECOND_APPROVER);
        assert.equal(result.decision?.comment, '金额不符');
        assert.equal(result.statistic?.statisticStatus, StatisticStatus.NotGenerated);
        assert.deepEqual(fake.inputs('requestStatisticOperation'), [
          { taxNo: TAX_NO, operation: 'generate', ordinal: 1 },
          { taxNo: TAX_NO, operation: 'revoke', ordinal: 2 },
        ]);
        assert.deepEqual(fake.names().slice(-3), ['requestStatisticOperation', 'awaitStatisticTask', 'queryStatistic']);
        assert.equal(fake.count('requestConfirmation'), 0);
        assert.equal(fake.count('awaitConfirmation'), 0);
      });
    });

    it('voids an approval when the table changed after it, and completes on an approval of the new table', async () => {
      const fake = await bureau();
      await withWorker(fake, async (start) => {
        const handle = await start();
        const shown = (await awaitingApproval(handle)).statistic!.digest;
        fake.updateSecond += 7; // the bureau's table changes behind the approver's back
        const changed = statisticDigest(fake.statistic());
        assert.notEqual(changed, shown);
        await handle.signal(approveSignal, { approver: APPROVER, statisticDigest: shown });
        const voided = await refusals(handle, 1);
        assert.equal(voided.stage, 'AWAITING_APPROVAL');
        assert.equal(voided.decision, undefined);
        assert.equal(voided.statistic?.digest, changed, 'the new table is shown');
        assert.deepEqual(
          voided.refusedSignals?.map(({ signal, approver, reason }) => ({ signal, approver, reason })),
          [
            {
              signal: 'approve',
              approver: APPROVER,
              reason: `the bureau's statistic changed from ${shown} to ${changed} after it was approved; approve the new table`,
            },
          ],
        );
        assert.equal(fake.count('requestConfirmation'), 0);

        await handle.signal(approveSignal, { approver: SECOND_APPROVER, statisticDigest: changed });
        const result = await handle.result();
        assert.equal(result.outcome, 'COMPLETED');
        assert.equal(result.decision?.approver, SECOND_APPROVER);
        assert.equal(result.refusedSignals?.length, 1, 'the voided approval stays in the audit trail');
        assert.equal(fake.count('requestConfirmation'), 1);
        // after selection, after generating, the voided approval's check, the second one's, after confirming
        assert.equal(fake.count('queryStatistic'), 5);
      });
    });

    it('records refused signals (wrong stage, malformed, non-approver, wrong digest) and still completes', async () => {
      const { fake, selecting } = await bureauHeldAtSelection();
      await withWorker(fake, async (start) => {
        const handle = await start({ approvers: [APPROVER, SECOND_APPROVER] });
        await until(() => fake.count('submitSelection') === 1, 'selection');
        await handle.signal(approveSignal, { approver: APPROVER });
        const early = await refusals(handle, 1);
        assert.equal(early.stage, 'SELECTING');
        selecting.open();

        const shown = (await awaitingApproval(handle)).statistic!.digest;
        const other = shown === '00000000' ? '00000001' : '00000000';
        await handle.signal(approveSignal, { approver: '' });
        await handle.signal(approveSignal, { approver: APPROVER, statisticDigest: 'xyz' });
        await handle.signal(rejectSignal, { approver: APPROVER } as unknown as RejectSignalInput);
        await handle.signal(approveSignal, 'yes' as unknown as ApproveSignalInput);
        await handle.signal(approveSignal, { approver: '外部人员' });
        await handle.signal(rejectSignal, { approver: '外部人员', reason: '不同意' });
        await handle.signal(approveSignal, { approver: APPROVER, statisticDigest: other });
        const progress = await refusals(handle, 8);
        assert.equal(progress.stage, 'AWAITING_APPROVAL');
        assert.equal(progress.decision, undefined);
        const refused = progress.refusedSignals!.map(({ signal, approver, reason }) => ({ signal, approver, reason }));
        assert.deepEqual(refused.slice(0, 1), [
          { signal: 'approve', approver: APPROVER, reason: 'arrived at stage SELECTING, not AWAITING_APPROVAL' },
        ]);
        const [, empty, badDigest, noReason, notAnObject, outsiderApprove, outsiderReject, wrongDigest] = refused;
        assert.equal(empty?.signal, 'approve');
        assert.match(empty?.reason ?? '', /^invalid approve signal: approver: must name a person/);
        assert.match(
          badDigest?.reason ?? '',
          /^invalid approve signal: statisticDigest: statisticDigest must be 8 hex characters/,
        );
        assert.equal(noReason?.signal, 'reject');
        assert.match(noReason?.reason ?? '', /^invalid reject signal: reason: /);
        assert.match(notAnObject?.reason ?? '', /^invalid approve signal: \(root\): /);
        // A refusal never names who may approve.
        assert.deepEqual(outsiderApprove, {
          signal: 'approve',
          approver: '外部人员',
          reason: `外部人员 is not an approver of ${TAX_NO}`,
        });
        assert.deepEqual(outsiderReject, {
          signal: 'reject',
          approver: '外部人员',
          reason: `外部人员 is not an approver of ${TAX_NO}`,
        });
        assert.deepEqual(wrongDigest, {
          signal: 'approve',
          approver: APPROVER,
          reason: `approves statistic ${other}, but the statistic awaiting approval is ${shown}`,
        });
        assert.equal(fake.count('requestConfirmation'), 0);
        assert.equal(fake.count('requestStatisticOperation'), 1, 'no reject was acted on');

        await handle.signal(approveSignal, { approver: APPROVER, statisticDigest: shown });
        const result = await handle.result();
        assert.equal(result.outcome, 'COMPLETED');
        assert.equal(result.decision?.approver, APPROVER);
        assert.equal(result.refusedSignals?.length, 8);
        assert.equal(fake.count('requestConfirmation'), 1);
      });
    });

    it('refuses a second decision once one is made, and a decision while confirming', async () => {
      const fake = await bureau();
      const checking = gate();
      fake.override('queryStatistic', async (input) => {
        if (fake.count('queryStatistic') === 3) await checking.opened; // the check after the approval
        return fake.base.queryStatistic(input);
      });
      const confirming = gate();
      fake.override('requestConfirmation', async (input) => {
        await confirming.opened;
        return fake.base.requestConfirmation(input);
      });
      await withWorker(fake, async (start) => {
        const handle = await start();
        await awaitingApproval(handle);
        await handle.signal(approveSignal, { approver: APPROVER });
        await until(() => fake.count('queryStatistic') === 3, 'the check of the approved table');
        await handle.signal(rejectSignal, { approver: SECOND_APPROVER, reason: '晚到的驳回' });
        const decided = await refusals(handle, 1);
        assert.equal(decided.stage, 'AWAITING_APPROVAL');
        assert.equal(decided.refusedSignals?.[0]?.reason, `a decision was already made by ${APPROVER}`);
        checking.open();

        await until(() => fake.count('requestConfirmation') === 1, 'confirmation');
        await handle.signal(rejectSignal, { approver: SECOND_APPROVER, reason: '太晚了' });
        const late = await refusals(handle, 2);
        assert.equal(late.stage, 'CONFIRMING');
        assert.equal(late.refusedSignals?.[1]?.reason, 'arrived at stage CONFIRMING, not AWAITING_APPROVAL');
        confirming.open();

        const result = await handle.result();
        assert.equal(result.outcome, 'COMPLETED');
        assert.equal(result.decision?.decision, 'approved');
        assert.equal(result.decision?.approver, APPROVER);
        assert.equal(result.refusedSignals?.length, 2);
        assert.equal(
          fake.inputs('requestStatisticOperation').filter((i) => i.operation === 'revoke').length,
          0,
          'the late rejects revoked nothing',
        );
      });
    });

    it('ends EXPIRED without confirming when no decision arrives by the approval deadline', async () => {
      const fake = await bureau();
      await withWorker(fake, async (start) => {
        const handle = await start();
        const waiting = await awaitingApproval(handle);
        const before = await env.currentTimeMs();
        const result = await handle.result(); // the test server skips to the deadline
        assert.ok((await env.currentTimeMs()) - before > 15 * DAY_MS, 'the deadline was ~19 days away');
        assert.equal(result.outcome, 'EXPIRED');
        assert.equal(result.stage, 'EXPIRED');
        assert.equal(result.approvalDeadline, expectedApprovalDeadline(fake));
        assert.equal(waiting.approvalDeadline, result.approvalDeadline);
        assert.equal(
          result.note,
          `No approval arrived by ${result.approvalDeadline}; the statistic was not confirmed. Confirm it by hand before ${fake.deductionDeadline} or file without it.`,
        );
        assert.equal(result.decision, undefined);
        assert.equal(result.statistic?.statisticStatus, StatisticStatus.Generated, 'left generated');
        assert.equal(fake.count('requestConfirmation'), 0);
        assert.equal(fake.count('requestStatisticOperation'), 1, 'generated, not revoked');
      });
    });

    it('cancelled while awaiting approval: ends CANCELED, with what the bureau was left with on record', async () => {
      const fake = await bureau();
      await withWorker(fake, async (start) => {
        const handle = await start();
        await awaitingApproval(handle);
        await handle.cancel();
        const error = await handle.result().then(
          (result) => assert.fail(`expected a cancellation, got ${JSON.stringify(result)}`),
          (e: unknown) => e,
        );
        assert.ok(error instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(error)}`);
        assert.ok(error.cause instanceof CancelledFailure, `expected a CancelledFailure, got ${String(error.cause)}`);
        assert.equal((await handle.describe()).status.name, 'CANCELLED');
        const progress = await handle.query(progressQuery);
        assert.equal(progress.stage, 'CANCELED');
        assert.equal(progress.leftAtBureau, 'statistic 02 generated, confirmable 已生成');
        assert.equal(progress.lastBureauError, undefined);
        assert.equal(progress.decision, undefined);
        assert.equal(fake.count('requestConfirmation'), 0);
        assert.equal(fake.count('requestStatisticOperation'), 1, 'the statistic was not revoked');
      });
    });
  });

  describe('decisions as Workflow Updates', () => {
    /** The refusal an Update is answered with: it must fail with DecisionRefused. */
    async function refusalOf(update: Promise<unknown>): Promise<{ code: DecisionRefusalCode; reason: string }> {
      const error = await update.then(
        (outcome) => assert.fail(`expected a refusal, got ${JSON.stringify(outcome)}`),
        (e: unknown) => e,
      );
      assert.ok(error instanceof WorkflowUpdateFailedError, `expected WorkflowUpdateFailedError, got ${String(error)}`);
      assert.ok(
        error.cause instanceof ApplicationFailure,
        `expected an ApplicationFailure, got ${String(error.cause)}`,
      );
      assert.equal(error.cause.type, DECISION_REFUSED);
      return { code: error.cause.details?.[0] as DecisionRefusalCode, reason: error.cause.message };
    }
    const approveBy = (handle: Handle, input: ApproveDecisionInput) =>
      handle.executeUpdate(approveUpdate, { args: [input] });
    const rejectBy = (handle: Handle, input: RejectDecisionInput) =>
      handle.executeUpdate(rejectUpdate, { args: [input] });
    const historyLength = async (handle: Handle) => (await handle.fetchHistory()).events?.length ?? 0;
    const WORKFLOW_TASK_EVENTS = [
      EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
      EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
      EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    ];
    /** The events added after the first `since`, but for workflow task bookkeeping. */
    async function eventTypesSince(handle: Handle, since: number): Promise<string[]> {
      const events = ((await handle.fetchHistory()).events ?? []).slice(since);
      return events
        .filter((e) => !WORKFLOW_TASK_EVENTS.includes(e.eventType as number))
        .map((e) => EventType[e.eventType as number] ?? String(e.eventType));
    }
    /** Signs as the inbox would, at the test server's time unless `signedAt` is given. */
    async function signed(fields: Omit<DecisionFields, 'taxNo' | 'taxPeriod' | 'signedAt'>, signedAt?: string) {
      const at = signedAt ?? new Date(await env.currentTimeMs()).toISOString();
      return signDecision(SIGNING.privateKey, KEY_ID, { taxNo: TAX_NO, taxPeriod: PERIOD, signedAt: at, ...fields });
    }

    it('refuses each decision it cannot take, with the reason, and records nothing', async () => {
      const { fake, selecting } = await bureauHeldAtSelection();
      await withWorker(fake, async (start) => {
        const handle = await start({ approvers: [APPROVER, SECOND_APPROVER] });
        await until(() => fake.count('submitSelection') === 1, 'selection');
        // The test server answers an Update only at the workflow task after a running activity
        // (a quirk of its own: the dev server answers at once, test/workflow.approvals.test.ts).
        const early = refusalOf(approveBy(handle, { approver: APPROVER, statisticDigest: '00000000' }));
        await sleep(300);
        selecting.open();
        assert.deepEqual(await early, {
          code: 'wrong-stage',
          reason: 'arrived at stage SELECTING, not AWAITING_APPROVAL',
        });

        const shown = (await awaitingApproval(handle)).statistic!.digest;
        const other = shown === '00000000' ? '00000001' : '00000000';
        const events = await historyLength(handle);
        const refusals = [
          await refusalOf(approveBy(handle, { approver: '外部人员', statisticDigest: shown })),
          await refusalOf(rejectBy(handle, { approver: '外部人员', reason: '不同意' })),
          await refusalOf(approveBy(handle, { approver: APPROVER, statisticDigest: other })),
          await refusalOf(rejectBy(handle, { approver: APPROVER, reason: '不对', statisticDigest: other })),
          await refusalOf(approveBy(handle, { approver: APPROVER } as ApproveDecisionInput)),
          await refusalOf(approveBy(handle, { approver: '', statisticDigest: shown })),
          await refusalOf(rejectBy(handle, { approver: APPROVER } as RejectDecisionInput)),
          await refusalOf(approveBy(handle, 'yes' as unknown as ApproveDecisionInput)),
        ];
        assert.deepEqual(refusals.slice(0, 4), [
          { code: 'not-an-approver', reason: `外部人员 is not an approver of ${TAX_NO}` },
          { code: 'not-an-approver', reason: `外部人员 is not an approver of ${TAX_NO}` },
          {
            code: 'stale-table',
            reason: `approves statistic ${other}, but the statistic awaiting approval is ${shown}`,
          },
          {
            code: 'stale-table',
            reason: `rejects statistic ${other}, but the statistic awaiting approval is ${shown}`,
          },
        ]);
        const [, , , , noDigest, noApprover, noReason, notAnObject] = refusals;
        assert.equal(noDigest?.code, 'invalid-input');
        assert.match(noDigest?.reason ?? '', /^invalid approve: statisticDigest: /);
        assert.match(noApprover?.reason ?? '', /^invalid approve: approver: must name a person/);
        assert.match(noReason?.reason ?? '', /^invalid reject: reason: /);
        assert.match(notAnObject?.reason ?? '', /^invalid approve: \(root\): /);
        for (const r of refusals)
          assert.ok(!r.reason.includes(SECOND_APPROVER), 'a refusal never names who may approve');
        // The test server logs a workflow task per Update; the dev server not even that.
        assert.deepEqual(await eventTypesSince(handle, events), [], 'refused Updates add nothing to the history');
        const progress = await handle.query(progressQuery);
        assert.equal(progress.refusedSignals, undefined, 'nothing recorded: the validator refused them');
        assert.equal(progress.decision, undefined);
        assert.equal(fake.count('queryStatistic'), 2, 'no re-check for a refused decision');

        // Accepted: the Update answers once the bureau's table was read again.
        const checking = gate();
        fake.override('queryStatistic', async (input) => {
          if (fake.count('queryStatistic') === 3) await checking.opened;
          return fake.base.queryStatistic(input);
        });
        let answered = false;
        const approval = approveBy(handle, {
          approver: SECOND_APPROVER,
          statisticDigest: shown,
          comment: '核对无误',
        }).finally(() => (answered = true));
        await until(() => fake.count('queryStatistic') === 3, 'the re-check of the approved table');
        const late = refusalOf(rejectBy(handle, { approver: APPROVER, reason: '晚到的驳回' }));
        await sleep(300);
        assert.equal(answered, false, 'no answer before the re-check');
        checking.open();
        assert.deepEqual(await approval, { outcome: 'accepted', statisticDigest: shown });
        assert.deepEqual(await late, {
          code: 'already-decided',
          reason: `a decision was already made by ${SECOND_APPROVER}`,
        });
        const result = await handle.result();
        assert.equal(result.outcome, 'COMPLETED');
        assert.deepEqual(
          { ...result.decision, decidedAt: undefined },
          { decision: 'approved', approver: SECOND_APPROVER, comment: '核对无误', decidedAt: undefined, via: 'update' },
        );
        assert.equal(result.refusedSignals, undefined);
        assert.equal(fake.count('requestConfirmation'), 1);
        const history = (await handle.fetchHistory()).events ?? [];
        assert.equal(
          history.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED).length,
          1,
          'only the accepted Update is in the history',
        );
      });
    });

    it('voided: an approval of a table that changed answers voided, and the new table is approved', async () => {
      const fake = await bureau();
      await withWorker(fake, async (start) => {
        const handle = await start();
        const shown = (await awaitingApproval(handle)).statistic!.digest;
        fake.updateSecond += 7; // the bureau's table changes behind the approver's back
        const changed = statisticDigest(fake.statistic());
        const reason = `the bureau's statistic changed from ${shown} to ${changed} after it was approved; approve the new table`;
        assert.deepEqual(await approveBy(handle, { approver: APPROVER, statisticDigest: shown }), {
          outcome: 'voided',
          reason,
          statisticDigest: changed,
        });
        const voided = await handle.query(progressQuery);
        assert.equal(voided.stage, 'AWAITING_APPROVAL');
        assert.equal(voided.decision, undefined);
        assert.equal(voided.statistic?.digest, changed, 'the new table awaits approval');
        assert.deepEqual(
          voided.refusedSignals?.map(({ signal, approver, reason, via }) => ({ signal, approver, reason, via })),
          [{ signal: 'approve', approver: APPROVER, reason, via: 'update' }],
        );
        assert.equal(fake.count('requestConfirmation'), 0);

        assert.equal(
          (await refusalOf(approveBy(handle, { approver: APPROVER, statisticDigest: shown }))).code,
          'stale-table',
        );
        assert.deepEqual(await approveBy(handle, { approver: APPROVER, statisticDigest: changed }), {
          outcome: 'accepted',
          statisticDigest: changed,
        });
        const result = await handle.result();
        assert.equal(result.outcome, 'COMPLETED');
        assert.equal(result.refusedSignals?.length, 1, 'the voided approval stays in the audit trail');
        assert.equal(fake.count('requestConfirmation'), 1);
      });
    });

    it('reject: answers rejected, then the month revokes the table and ends REJECTED', async () => {
      const fake = await bureau();
      await withWorker(fake, async (start) => {
        const handle = await start();
        const shown = (await awaitingApproval(handle)).statistic!.digest;
        assert.deepEqual(
          await rejectBy(handle, { approver: SECOND_APPROVER, reason: '金额不符', statisticDigest: shown }),
          {
            outcome: 'rejected',
          },
        );
        const result = await handle.result();
        assert.equal(result.outcome, 'REJECTED');
        assert.equal(result.note, `Rejected by ${SECOND_APPROVER}: 金额不符. The statistic was revoked.`);
        assert.equal(result.decision?.via, 'update');
        assert.deepEqual(
          fake.inputs('requestStatisticOperation').map((i) => i.operation),
          ['generate', 'revoke'],
        );
        assert.equal(fake.count('requestConfirmation'), 0);
      });
    });

    it('signed policy: a signal is refused and recorded, an unsigned or badly signed Update refused, a signed one accepted', async () => {
      const fake = await bureau();
      await withWorker(fake, async (start) => {
        const handle = await start({ approvers: [APPROVER, SECOND_APPROVER], decisionPolicy: 'signed' });
        const waiting = await awaitingApproval(handle);
        assert.equal(waiting.decisionPolicy, 'signed');
        const shown = waiting.statistic!.digest;

        // Raw access to Temporal: a signal in an approver's name is recorded and does nothing.
        await handle.signal(approveSignal, { approver: APPROVER, statisticDigest: shown });
        await handle.signal(rejectSignal, { approver: APPROVER, reason: '驳回' });
        const afterSignals = await refusals(handle, 2);
        assert.deepEqual(
          afterSignals.refusedSignals?.map(({ signal, approver, reason, via }) => ({ signal, approver, reason, via })),
          ['approve', 'reject'].map((signal) => ({
            signal,
            approver: APPROVER,
            reason: `${TAX_NO} takes only signed decisions (decisionPolicy signed): a ${signal} signal does not decide; decide in the inbox, or with the CLI's --signing-key`,
            via: undefined,
          })),
        );
        assert.equal(afterSignals.decision, undefined);

        // An unsigned Update: accepted by the validator, refused by the handler, recorded.
        const events = await historyLength(handle);
        const unsigned = await refusalOf(approveBy(handle, { approver: APPROVER, statisticDigest: shown }));
        assert.deepEqual(unsigned, {
          code: 'unsigned',
          reason: `${TAX_NO} takes only signed decisions (decisionPolicy signed): decide in the inbox, or with the CLI's --signing-key`,
        });
        // A signature made an hour and more ago: refused and recorded too, before any key is used.
        const old = new Date((await env.currentTimeMs()) - 2 * 3600_000).toISOString();
        const stale = await refusalOf(
          approveBy(handle, {
            approver: APPROVER,
            statisticDigest: shown,
            signature: await signed({ statisticDigest: shown, decision: 'approve', approver: APPROVER }, old),
          }),
        );
        assert.equal(stale.code, 'stale-signature');
        const sinceUnsigned = await eventTypesSince(handle, events);
        assert.ok(sinceUnsigned.includes('EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED'), sinceUnsigned.join(', '));
        assert.ok(
          !sinceUnsigned.includes('EVENT_TYPE_MARKER_RECORDED'),
          `no signature was verified for them: ${sinceUnsigned.join(', ')}`,
        );
        const afterUnsigned = await handle.query(progressQuery);
        assert.deepEqual(
          afterUnsigned.refusedSignals?.slice(2).map(({ approver, reason, via }) => ({ approver, reason, via })),
          [unsigned, stale].map((r) => ({ approver: APPROVER, reason: r.reason, via: 'update' })),
        );

        // Signatures that do not verify: accepted by the validator, refused after the check, recorded.
        const asAnother = await signed({ statisticDigest: shown, decision: 'approve', approver: SECOND_APPROVER });
        const forReject = await signed({ statisticDigest: shown, decision: 'reject', approver: APPROVER });
        const unknownKey = {
          ...(await signed({ statisticDigest: shown, decision: 'approve', approver: APPROVER })),
          keyId: 'retired',
        };
        const forged = [
          await refusalOf(approveBy(handle, { approver: APPROVER, statisticDigest: shown, signature: asAnother })),
          await refusalOf(approveBy(handle, { approver: APPROVER, statisticDigest: shown, signature: forReject })),
          await refusalOf(approveBy(handle, { approver: APPROVER, statisticDigest: shown, signature: unknownKey })),
        ];
        for (const r of forged) assert.equal(r.code, 'bad-signature');
        assert.match(
          forged[0]!.reason,
          /^signature refused: the signature does not match the decision \(key inbox-test-1\)/,
        );
        assert.equal(forged[2]!.reason, 'signature refused: the worker knows no verification key retired');
        const recorded = await handle.query(progressQuery);
        assert.deepEqual(
          recorded.refusedSignals
            ?.slice(4)
            .map(({ signal, approver, reason, via }) => ({ signal, approver, reason, via })),
          forged.map((r) => ({ signal: 'approve', approver: APPROVER, reason: r.reason, via: 'update' })),
        );
        assert.equal(recorded.decision, undefined);
        assert.equal(recorded.stage, 'AWAITING_APPROVAL');

        // The inbox's signature of this approver's approval of this table: accepted.
        const signature = await signed({ statisticDigest: shown, decision: 'approve', approver: APPROVER });
        assert.deepEqual(
          await approveBy(handle, { approver: APPROVER, statisticDigest: shown, comment: '核对无误', signature }),
          { outcome: 'accepted', statisticDigest: shown },
        );
        const result = await handle.result();
        assert.equal(result.outcome, 'COMPLETED');
        assert.equal(result.decision?.approver, APPROVER);
        assert.deepEqual(result.decision?.signature, { keyId: KEY_ID, signedAt: signature.signedAt });
        assert.equal(result.refusedSignals?.length, 7, '2 signals, unsigned, stale, 3 bad signatures');
        assert.equal(fake.count('requestConfirmation'), 1);
      });
    });

    it('unsigned policy: signals still decide, and a signature that does not verify is refused there too', async () => {
      const fake = await bureau();
      await withWorker(fake, async (start) => {
        const handle = await start();
        const shown = (await awaitingApproval(handle)).statistic!.digest;
        const wrongTable = await signed({ statisticDigest: '0badf00d', decision: 'reject', approver: APPROVER });
        const refused = await refusalOf(
          rejectBy(handle, { approver: APPROVER, reason: '不对', statisticDigest: shown, signature: wrongTable }),
        );
        assert.equal(refused.code, 'bad-signature');
        await handle.signal(approveSignal, { approver: APPROVER, statisticDigest: shown });
        const result = await handle.result();
        assert.equal(result.outcome, 'COMPLETED');
        assert.equal(result.decision?.via, undefined, 'decided by the signal');
        assert.equal(result.refusedSignals?.[0]?.via, 'update');
      });
    });
    it("the scheduled launcher passes the taxpayer's decisionPolicy on to the month", async () => {
      const fake = await bureau();
      await withWorker(fake, async () => {
        const launched = await env.client.workflow.execute(LAUNCHER_WORKFLOW_TYPE, {
          taskQueue: `branches-${runs}`,
          workflowId: `branches-launcher-${runs}-${Date.now()}`,
          args: [{ taxNo: TAX_NO, approvers: [APPROVER], decisionPolicy: 'signed' }],
        });
        const month = env.client.workflow.getHandle((launched as LauncherResult).workflowId);
        const started = (await month.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
        const input = JSON.parse(Buffer.from(started!.input!.payloads![0]!.data!).toString('utf8'));
        assert.equal(input.decisionPolicy, 'signed');
        await month.terminate('test done');
      });
    });
  });

  describe('a bug in our own workflow code', () => {
    it('fails the workflow task, not the month: a fixed worker carries the month on to COMPLETED', async () => {
      const fake = await bureau();
      const taskQueue = `branches-bug-${Date.now()}`;
      const broken = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: await bundleWorkflowCode({
          workflowsPath: WORKFLOWS_PATH,
          workflowInterceptorModules: [fileURLToPath(new URL('./support/bugInWorkflowCode.ts', import.meta.url))],
          logger: new DefaultLogger('WARN'),
        }),
        activities: fake.activities(),
      });
      const handle = await env.client.workflow.start<typeof MonthlyDeductionWorkflow>(WORKFLOW_TYPE, {
        taskQueue,
        workflowId: `branches-bug-${Date.now()}`,
        args: [
          {
            taxNo: TAX_NO,
            taxPeriod: PERIOD,
            approvers: TEST_APPROVERS,
            polling: { initialIntervalMs: 100, maximumIntervalMs: 100 },
          },
        ],
      });
      await broken.runUntil(async () => {
        const waiting = await awaitingApproval(handle);
        await handle.signal(approveSignal, { approver: APPROVER, statisticDigest: waiting.statistic!.digest });
        // The confirmation step hits the bug: its workflow task fails and is retried, the month runs on.
        const deadline = Date.now() + 20_000;
        let taskFailures = 0;
        while (taskFailures === 0 && Date.now() < deadline) {
          const history = await handle.fetchHistory();
          taskFailures = (history.events ?? []).filter((e) => e.workflowTaskFailedEventAttributes).length;
          if (taskFailures === 0) await sleep(100);
        }
        assert.ok(taskFailures > 0, 'the bug failed a workflow task');
        assert.equal((await handle.describe()).status.name, 'RUNNING');
      });
      assert.equal(fake.count('requestConfirmation'), 0, 'nothing confirmed by the broken worker');

      const fixed = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities: fake.activities(),
      });
      const result = await fixed.runUntil(handle.result());
      assert.equal(result.outcome, 'COMPLETED');
      assert.equal(result.decision?.approver, APPROVER, 'the approval given before the fix stands');
      assert.equal(fake.count('requestConfirmation'), 1);
    });
  });

  describe('confirmation', () => {
    it('retries a confirmation the bureau refuses as too early, then completes', async () => {
      const fake = await bureau();
      let attempts = 0;
      fake.override('requestConfirmation', async (input) => {
        if (++attempts <= 3) {
          // As the real activity reports gateway code 3002 (未到统计确认时间): retryable.
          throw toActivityFailure(
            new InvoiceCloudError('retryable', 'statisticConfirm', GatewayCode.ConfirmationNotOpen, '未到统计确认时间'),
            `statistic confirmation for ${input.taxNo}`,
          );
        }
        return fake.base.requestConfirmation(input);
      });
      await withWorker(fake, async (start) => {
        const handle = await start();
        await awaitingApproval(handle);
        await handle.signal(approveSignal, { approver: APPROVER });
        await until(() => attempts >= 1, 'the first confirmation attempt');
        // The test server counts an activity waiting for its retry as work in flight and does not
        // skip its backoff on its own, even while the result is awaited: move its clock past the
        // backoffs (5 s, 10 s, 20 s) instead of waiting for them.
        await env.sleep('40 seconds');
        await until(() => attempts === 4, 'the fourth confirmation attempt');
        const result = await handle.result();
        assert.equal(result.outcome, 'COMPLETED');
        assert.equal(result.stage, 'COMPLETED');
        assert.equal(result.confirmedAt, '2026-12-05 10:30:00');
        assert.equal(fake.count('requestConfirmation'), 4);
        assert.equal(fake.count('awaitConfirmation'), 1);
      });
    });

    it('fails the month on a confirmation failure of a final type (BureauRefused), without retrying', async () => {
      const fake = await bureau();
      // Marked retryable on purpose: the retry policy's nonRetryableErrorTypes must stop it.
      fake.override('requestConfirmation', async () => {
        throw ApplicationFailure.retryable('statisticConfirm: [3001] 确认密码错误', FailureType.Business);
      });
      await withWorker(fake, async (start) => {
        const handle = await start();
        await awaitingApproval(handle);
        await handle.signal(approveSignal, { approver: APPROVER });
        const failure = await failureOf(handle, 'DeductionFailed');
        assert.equal(
          failure.message,
          `Deduction for ${TAX_NO} ${PERIOD} failed: statisticConfirm: [3001] 确认密码错误`,
        );
        assert.equal(fake.count('requestConfirmation'), 1);
        assert.equal(fake.count('awaitConfirmation'), 0);
        const progress = await handle.query(progressQuery);
        assert.equal(progress.stage, 'FAILED');
        assert.equal(progress.decision?.approver, APPROVER);
      });
    });

    it('fails the month when the bureau answers the confirmation task with success: false', async () => {
      const fake = await bureau();
      fake.override('awaitConfirmation', async ({ taskNo }) => ({
        taskNo,
        success: false,
        statisticStatus: StatisticStatus.Generated,
        resultMsg: '统计表已变化，请重新生成',
        confirmTime: '',
      }));
      await withWorker(fake, async (start) => {
        const handle = await start();
        await awaitingApproval(handle);
        await handle.signal(approveSignal, { approver: APPROVER });
        const failure = await failureOf(handle, 'DeductionFailed');
        assert.equal(
          failure.message,
          `Deduction for ${TAX_NO} ${PERIOD} failed: The bureau did not confirm the statistic for ${TAX_NO} ${PERIOD}: 统计表已变化，请重新生成`,
        );
        assert.equal(fake.count('requestConfirmation'), 1);
        assert.equal(fake.count('awaitConfirmation'), 1);
        assert.deepEqual(fake.names().slice(-2), ['requestConfirmation', 'awaitConfirmation']);
      });
    });
  });
});
