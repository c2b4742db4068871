/** How the audit report writes times, money and labels (Chinese first, English beside). */
import { Decimal } from 'decimal.js';
import type { SelectOutcome } from '../rules/selectResult.js';
import type { REPORTABLE_OUTCOMES } from './facts.js';

type ReportableOutcome = (typeof REPORTABLE_OUTCOMES)[number];

const SHANGHAI_OFFSET_MS = 8 * 3600_000;

/** `2026-12-05 10:00:03` in Asia/Shanghai (UTC+8 all year), or the text as given when it is no instant. */
export function shanghaiTime(instant: string | Date | undefined): string {
  if (instant === undefined || instant === '') return '';
  const ms = typeof instant === 'string' ? Date.parse(instant) : instant.getTime();
  if (Number.isNaN(ms)) return String(instant);
  return new Date(ms + SHANGHAI_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

export const TIME_ZONE_NOTE = '北京时间 Asia/Shanghai (UTC+8)';

/** The sum of decimal strings, exact, with two decimals. */
export function sumDecimal(values: readonly string[]): string {
  return values.reduce((acc, v) => acc.plus(v), new Decimal(0)).toFixed(2);
}

/** a - b, exact, with two decimals. */
export function differenceDecimal(a: string, b: string): string {
  return new Decimal(a).minus(b).toFixed(2);
}

export const OUTCOME_LABELS: Record<ReportableOutcome, string> = {
  COMPLETED: '已完成 Completed',
  REJECTED: '已驳回 Rejected',
  EXPIRED: '已过期 Expired',
};

export const SELECT_OUTCOME_LABELS: Record<SelectOutcome, string> = {
  selected: '已勾选 selected',
  'already-selected': '此前已勾选 already selected',
  retry: '待重发 to send again',
  failed: '失败 failed',
};

export const DECISION_LABELS: Record<'approve' | 'reject' | 'approved' | 'rejected', string> = {
  approve: '同意 approve',
  reject: '驳回 reject',
  approved: '同意 approved',
  rejected: '驳回 rejected',
};
