import { SelectResultCode } from '../protocol/codes.js';

/** What a per-invoice select result code (4.06) means for the workflow. */
export type SelectOutcome = 'selected' | 'already-selected' | 'retry' | 'failed';

export function classifySelectResult(code: number): SelectOutcome {
  switch (code) {
    case SelectResultCode.Ok:
      return 'selected';
    // Re-selecting an already-selected invoice answers 19: the invoice is selected, so done.
    case SelectResultCode.AlreadySelected:
      return 'already-selected';
    // Still being selected, or the bureau login lapsed: log in again and resubmit.
    case SelectResultCode.Selecting:
    case SelectResultCode.BureauLoginFailed:
      return 'retry';
    default:
      return 'failed';
  }
}
