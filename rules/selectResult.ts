/** What a per-invoice select result (4.05 / 4.06) means for the workflow. */
export type SelectOutcome = 'selected' | 'already-selected' | 'retry' | 'failed';

/**
 * What one documented per-invoice result (4.05 / 4.06 success[] and fail[] items) means: "1" is
 * success, also for an invoice that was already selected (its description says 已勾选); results
 * the profile's selectRetry recognises are sent again in a later round; anything else failed, and
 * its description is shown verbatim (docs/protocol.md).
 */
export function classifySelectItem(
  item: { selectResult: string; description: string },
  retry: { codes: readonly string[]; patterns: readonly string[] },
): SelectOutcome {
  if (item.selectResult === '1') return /已勾选|已经勾选/.test(item.description) ? 'already-selected' : 'selected';
  const retryable =
    retry.codes.includes(item.selectResult) || retry.patterns.some((p) => new RegExp(p).test(item.description));
  return retryable ? 'retry' : 'failed';
}
