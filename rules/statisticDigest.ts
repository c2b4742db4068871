import { StatisticStatus } from '../protocol/codes.js';
import type { StatisticItem } from '../protocol/interfaces.js';

/** Months recorded before statistic categories carried the 发票云 invoice type instead. */
interface LegacyItem {
  invoiceType: number;
}

/** 04 (not confirmable yet) and 02 (confirmable) are the same table: the month's end changes only that. */
function sameTableStatus(status: string): string {
  return status === StatisticStatus.GeneratedNotConfirmable ? StatisticStatus.Generated : status;
}

/** FNV-1a, 32 bits, as 8 hex digits: pure, so the workflow can compute it. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/** The table's rows in a canonical order, one text per row. */
function canonicalRows(items: readonly StatisticItem[]): string[] {
  const key = (i: StatisticItem) => String(i.category ?? (i as unknown as LegacyItem).invoiceType);
  return [...items]
    .sort((a, b) => Number(key(a)) - Number(key(b)) || key(a).localeCompare(key(b)))
    .map((i) =>
      [
        key(i),
        i.deductibleCount,
        i.deductibleAmount,
        i.deductibleTax,
        i.notDeductibleCount,
        i.notDeductibleAmount,
        i.notDeductibleTax,
      ].join(','),
    );
}

/**
 * The fingerprint of a table's figures alone (not its status or update time): a table confirmed
 * at the bureau must carry the figures of the one approved.
 */
export function statisticItemsDigest(items: readonly StatisticItem[]): string {
  return fnv1a(canonicalRows(items).join('|'));
}

/**
 * A short fingerprint of a statistic table as the bureau reported it. An approval names the
 * fingerprint of the table the approver saw; if the bureau's table has changed since, the
 * approval is refused. Pure (FNV-1a over a canonical text), so the workflow can compute it.
 */
export function statisticDigest(statistic: {
  statisticStatus: string;
  updateTime: string;
  items: readonly StatisticItem[];
}): string {
  const text = [
    sameTableStatus(statistic.statisticStatus),
    statistic.updateTime,
    ...canonicalRows(statistic.items),
  ].join('|');
  return fnv1a(text);
}
