import { endOfShanghaiDay } from '../protocol/period.js';

const DAY_MS = 86_400_000;

/**
 * When an approval stops being useful. Given explicitly, that instant; by default one day before
 * selection closes (the filing deadline day ends at midnight Shanghai time), leaving the bureau a
 * day to run the confirmation.
 */
export function approvalDeadline(deductionDeadline: string, explicit?: string): Date {
  if (explicit) return new Date(explicit);
  return new Date(endOfShanghaiDay(deductionDeadline).getTime() - DAY_MS);
}
