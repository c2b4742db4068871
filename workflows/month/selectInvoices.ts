import { log, patched } from '@temporalio/workflow';
import type { BureauPeriod, SelectionTaskResult } from '../../activities/deductionActivities.js';
import { sumMoney } from '../../protocol/money.js';
import { statisticLocksSelection } from '../../rules/statisticPlan.js';
import { type CandidateSource, type SelectionTally, Stage } from '../contract.js';
import type { Month } from './month.js';

const MAX_SELECTION_ROUNDS = 3;
const MAX_FAILURES_KEPT = 50;

/**
 * Steps 1-4 (4.05, 4.06): choose and select the candidates, then collect per-invoice results;
 * rounds again (after a new login) while the bureau asks to retry some invoices.
 */
export async function selectInvoices(month: Month, period: BureauPeriod): Promise<SelectionTally> {
  const { input, progress, taxNo, taxPeriod } = month;
  // Absent: the sandbox's pool query, as before sources existed (the activity input stays as it was).
  const source = input.candidateSource?.kind === 'sandbox-pool' ? undefined : input.candidateSource;
  let downloadTaskNo: string | undefined;
  let sourceText = describeSource(input.candidateSource ?? { kind: 'sandbox-pool' });
  /** A table left locked (nothing new to select): round 1 keeps what is selected as it is. */
  let keepSelectedAsIs = false;
  const selectionInput = (round: number, previousTaskNos: string[] = []) => ({
    taxNo,
    taxPeriod,
    deductionDeadline: progress.deductionDeadline ?? '',
    batchSize: input.batchSize,
    invoiceTypes: input.invoiceTypes,
    poolFilter: input.poolFilter,
    round,
    // Only months with a source of their own carry it (the sandbox pool's input is as it was).
    ...(source?.kind === 'invoices-file'
      ? { source: { kind: 'invoices-file' as const, sha256: source.sha256, rows: source.rows } }
      : {}),
    ...(source?.kind === 'bureau-download' && downloadTaskNo
      ? { source: { kind: 'bureau-download' as const, taskNo: downloadTaskNo } }
      : {}),
    ...(keepSelectedAsIs ? { keepSelectedAsIs } : {}),
    // Later rounds send again exactly what the previous round's tasks asked for, so a retried
    // round rebuilds the same batches (activities/selectionCandidates.ts).
    ...(round > 1 ? { retryOf: previousTaskNos } : {}),
  });

  month.enterStage(Stage.Selecting);
  // 进项表头归集: one download of the bureau's invoices for the month, read by every round.
  if (source?.kind === 'bureau-download') {
    const { taskNo } = await month.bureau.requestInvoiceDownload.executeWithOptions(
      { summary: `进项表头归集 download the bureau's invoices of ${taxPeriod}` },
      [{ taxNo, taxPeriod }],
    );
    const downloaded = await month.poll.awaitInvoiceDownload.executeWithOptions(
      { summary: `归集结果 await download task ${taskNo}` },
      [{ taxNo, taskNo }],
    );
    downloadTaskNo = taskNo;
    sourceText = `bureau download 进项表头归集 task ${taskNo} (${downloaded.total} invoices)`;
  }
  // A table left locked (nothing new to add) keeps what is selected: round 1 does not send it
  // again (the locked bureau would refuse it), the plan counts it as found selected.
  if (statisticLocksSelection(period.statisticStatus)) {
    const pending = await month.selection.submitSelection.executeWithOptions(
      { summary: 'count candidates (dry run)' },
      [{ ...selectionInput(0), dryRun: true }],
    );
    // A generated statistic locks selection (code 20): revoke it so new invoices can be added.
    if (pending.candidates > 0) await month.runStatisticOperation('revoke');
    else keepSelectedAsIs = true;
  }
  const tally: SelectionTally = {
    candidates: 0,
    submitted: 0,
    selected: 0,
    alreadySelected: 0,
    failed: 0,
    failures: [],
    taskNos: [],
    selectedTax: '0.00',
    // Months without a named source report as they always did.
    ...(input.candidateSource ? { source: sourceText } : {}),
  };
  progress.selection = tally;
  let previousTaskNos: string[] = [];
  for (let round = 1; round <= MAX_SELECTION_ROUNDS; round++) {
    if (round > 1)
      await month.bureau.logInToBureau.executeWithOptions({ summary: '重新登录 bureau login again' }, [{ taxNo }]);
    const roundInput = selectionInput(round, previousTaskNos);
    const submitted = await month.writing('selection', () =>
      input.selectionMode === 'preselect'
        ? month.selection.submitPreSelection.executeWithOptions(
            { summary: `预勾选 pre-select and confirm invoices (round ${round})` },
            [roundInput],
          )
        : month.selection.submitSelection.executeWithOptions({ summary: `发票勾选 select invoices (round ${round})` }, [
            roundInput,
          ]),
    );
    previousTaskNos = submitted.taskNos;
    if (round === 1) {
      tally.candidates = submitted.candidates;
      if (submitted.alreadySelectedInSource) tally.alreadySelectedInSource = submitted.alreadySelectedInSource;
      if (submitted.candidatesByCategory) tally.candidatesByCategory = submitted.candidatesByCategory;
      if (submitted.uncategorisedCandidates) tally.uncategorisedCandidates = submitted.uncategorisedCandidates;
      if (input.candidateSource) tally.skipped = submitted.skipped;
      if (submitted.skippedRows) tally.skippedRows = submitted.skippedRows;
    } else if (submitted.alreadySelectedInSource?.count && patched('found-selected-in-later-rounds')) {
      // A later round whose request of an earlier attempt landed: those invoices are found selected.
      const before = tally.alreadySelectedInSource ?? { count: 0, tax: '0.00' };
      const found = submitted.alreadySelectedInSource;
      tally.alreadySelectedInSource = {
        count: before.count + found.count,
        tax: before.tax !== undefined && found.tax !== undefined ? sumMoney([before.tax, found.tax]) : undefined,
      };
    }
    tally.submitted += submitted.submitted;
    tally.taskNos.push(...submitted.taskNos);
    month.publish();
    const results = await Promise.all(
      submitted.taskNos.map((taskNo): Promise<SelectionTaskResult> =>
        input.selectionMode === 'preselect'
          ? month.poll.awaitPreSelectionResult.executeWithOptions(
              { summary: `预勾选确认结果 await pre-selection task ${taskNo}` },
              [{ taxNo, taskNo }],
            )
          : month.poll.awaitSelectionResult.executeWithOptions({ summary: `勾选结果 await select task ${taskNo}` }, [
              { taxNo, taskNo },
            ]),
      ),
    );
    // Pre-selection answers some invoices at once (19 already selected, 2 not in the pool).
    const immediate = 'immediate' in submitted ? [submitted.immediate as SelectionTaskResult] : [];
    const toRetry = addResults(tally, [...immediate, ...results]);
    if (tally.candidatesByCategory) tally.outstandingRetries = toRetry;
    month.publish();
    if (toRetry === 0) break;
    log.info('Bureau asked to retry some invoices', { taxNo, taxPeriod, round, toRetry });
  }
  return tally;
}

/** The month's candidate source, for people to read. */
function describeSource(source: CandidateSource): string {
  switch (source.kind) {
    case 'invoices-file': {
      const name = source.fileName ? `${source.fileName} ` : '';
      return `invoices file ${name}(${source.rows} rows, sha256 ${source.sha256.slice(0, 12)}…)`;
    }
    case 'bureau-download':
      return 'bureau download 进项表头归集';
    case 'sandbox-pool':
      return 'sandbox pool query invoicePoolQuery (sandbox only)';
  }
}

function addResults(tally: SelectionTally, results: SelectionTaskResult[]): number {
  let toRetry = 0;
  for (const r of results) {
    tally.selectedTax =
      tally.selectedTax !== undefined && r.selectedTax !== undefined
        ? sumMoney([tally.selectedTax, r.selectedTax])
        : undefined;
    tally.selected += r.selected;
    tally.alreadySelected += r.alreadySelected;
    tally.failed += r.failed;
    toRetry += r.toRetry;
    tally.failures.push(...r.failures.slice(0, MAX_FAILURES_KEPT - tally.failures.length));
  }
  return toRetry;
}
