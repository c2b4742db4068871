import { StatisticStatus } from '../protocol/codes.js';

/**
 * Whether a statistic write should be sent, given the table as the bureau shows it just before
 * (docs/protocol.md, "Writes read before they send"):
 * - 'send': the bureau does not have it yet;
 * - 'done': the bureau already has what the write asks for (an earlier request landed, or
 *   someone else did it): nothing is sent;
 * - 'wait': a write is still being processed there (generating, or revoking / confirming is not
 *   allowed at this moment): read again later, never send a second one meanwhile;
 * - 'unexpected': a state this write cannot start from; the month stops and says so.
 */
export type WriteReadiness = 'send' | 'done' | 'wait' | 'unexpected';

export interface TableState {
  status: string;
  /** isAllowQxTj: revoking is allowed now (absent: not said). */
  revocable?: boolean | undefined;
  /** isAllowQrtj: confirming is allowed now (absent: not said). */
  confirmable?: boolean | undefined;
}

const GENERATED: readonly string[] = [
  StatisticStatus.Generated,
  StatisticStatus.GeneratedNotConfirmable,
  StatisticStatus.GeneratedOutsideWindow,
];

/** 4.08 operateType 1: generate only from "not generated" (01) or "nothing selected" (22). */
export function generateReadiness(table: TableState): WriteReadiness {
  if (table.status === StatisticStatus.NotGenerated || table.status === StatisticStatus.NothingSelected) return 'send';
  if (table.status === StatisticStatus.Generating) return 'wait';
  // 03 counts as done here: the month's plan revokes it and asks for a new generation.
  if (GENERATED.includes(table.status) || table.status === StatisticStatus.Confirmed) return 'done';
  return 'unexpected';
}

/** 4.08 operateType 2: a table that is not generated needs no revoke; one being processed waits. */
export function revokeReadiness(table: TableState): WriteReadiness {
  if (table.status === StatisticStatus.NotGenerated || table.status === StatisticStatus.NothingSelected) return 'done';
  if (table.status === StatisticStatus.Generating) return 'wait';
  if (GENERATED.includes(table.status)) return table.revocable === false ? 'wait' : 'send';
  return 'unexpected';
}

/**
 * 4.10: a confirmed table (05) needs nothing more. A generated one is confirmed once the bureau
 * allows it: 04, or isAllowQrtj false (also while a confirmation is being processed), waits.
 */
export function confirmReadiness(table: TableState): WriteReadiness {
  if (table.status === StatisticStatus.Confirmed) return 'done';
  if (table.status === StatisticStatus.Generating || table.status === StatisticStatus.GeneratedNotConfirmable)
    return 'wait';
  if (table.status === StatisticStatus.Generated) return table.confirmable === false ? 'wait' : 'send';
  return 'unexpected';
}
