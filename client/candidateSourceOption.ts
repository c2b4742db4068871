/**
 * `start --source … / --invoices-file F`: the month's candidate source from the CLI's options. An
 * invoices file is read and checked here, before anything connects; its checked rows are stored
 * content-addressed where the workers read them (activities/invoiceFileStore.ts) and only the
 * sha256 and the row count go into the workflow input.
 */
import { invoiceFilesDir, storeInvoiceRows, type StoredInvoiceRows } from '../activities/invoiceFileStore.js';
import { CANDIDATE_SOURCE_KINDS, type CandidateSource } from '../workflows/contract.js';
import { DeductionInputError } from './deductions.js';
import { InvoicesFileError, readInvoicesFile } from './invoicesFileReader.js';

export interface ChosenSource {
  candidateSource?: CandidateSource;
  /** The stored rows of an invoices file. */
  stored?: StoredInvoiceRows & { fileName: string; format: string };
}

/** The candidate source the options name; absent options leave the workflow's default (the sandbox pool). */
export async function candidateSourceFromOptions(
  opts: { source?: string; invoicesFile?: string },
  env: NodeJS.ProcessEnv,
): Promise<ChosenSource> {
  const kind = opts.source ?? (opts.invoicesFile !== undefined ? 'invoices-file' : undefined);
  if (kind === undefined) return {};
  if (!(CANDIDATE_SOURCE_KINDS as readonly string[]).includes(kind)) {
    throw new DeductionInputError(`--source ${kind}: expected one of ${CANDIDATE_SOURCE_KINDS.join(', ')}`);
  }
  if (kind !== 'invoices-file') {
    if (opts.invoicesFile !== undefined) {
      throw new DeductionInputError(`--invoices-file goes with --source invoices-file, not --source ${kind}`);
    }
    return { candidateSource: { kind } as CandidateSource };
  }
  if (opts.invoicesFile === undefined) {
    throw new DeductionInputError('--source invoices-file needs --invoices-file <file.csv|file.xlsx>');
  }
  let read;
  try {
    read = await readInvoicesFile(opts.invoicesFile);
  } catch (error) {
    if (error instanceof InvoicesFileError) throw new DeductionInputError(`--invoices-file ${error.message}`);
    throw error;
  }
  const stored = storeInvoiceRows(invoiceFilesDir(env), read.rows);
  return {
    candidateSource: {
      kind: 'invoices-file',
      sha256: stored.sha256,
      rows: stored.rows,
      fileName: read.fileName.slice(0, 200),
    },
    stored: { ...stored, fileName: read.fileName, format: read.format },
  };
}
