import { z } from 'zod';
import { AccountStatus, BoundBillType, DataSource } from '../protocol/codes.js';
import type { PoolInvoice } from '../protocol/interfaces.js';

/**
 * Selection by the pool's business dimensions: which invoices the monthly deduction may
 * select, by data source, bound document type and accounting status. Values are the names of
 * protocol/codes.ts (e.g. "Collected", "ExpenseClaim", "Booked"). No filter (the default) keeps
 * every invoice, whatever its dimensions.
 */

const names = <T extends Record<string, string>>(table: T) =>
  Object.keys(table) as [keyof T & string, ...(keyof T & string)[]];

export const DataSourceName = z.enum(names(DataSource));
export const BoundBillTypeName = z.enum(names(BoundBillType));
export const AccountStatusName = z.enum(names(AccountStatus));

const list = <T extends z.ZodType>(item: T) => z.array(item).min(1, 'list at least one value, or leave it out');

export const DimensionSet = z
  .object({
    dataSource: list(DataSourceName).optional(),
    boundBillType: list(BoundBillTypeName).optional(),
    accountStatus: list(AccountStatusName).optional(),
  })
  .strict();
export type DimensionSet = z.infer<typeof DimensionSet>;

/** `include`: an invoice must match every listed dimension; `exclude`: it must match none of them. */
export const PoolFilter = z
  .object({
    include: DimensionSet.optional(),
    exclude: DimensionSet.optional(),
  })
  .strict();
export type PoolFilter = z.infer<typeof PoolFilter>;

type Dimensions = Pick<PoolInvoice, 'dataSource' | 'boundBillType' | 'accountStatus'>;

/** The dimension names of an invoice (codes to names). */
function dimensionNames(invoice: Dimensions) {
  const nameOf = (table: Record<string, string>, code: string) =>
    Object.keys(table).find((k) => table[k] === code) ?? code;
  return {
    dataSource: nameOf(DataSource, invoice.dataSource),
    boundBillType: nameOf(BoundBillType, invoice.boundBillType),
    accountStatus: nameOf(AccountStatus, invoice.accountStatus),
  };
}

/** For each dimension `set` lists: whether the invoice's value is among the listed ones. */
function listed(set: DimensionSet, invoice: Dimensions): boolean[] {
  const n = dimensionNames(invoice);
  const out: boolean[] = [];
  if (set.dataSource) out.push((set.dataSource as string[]).includes(n.dataSource));
  if (set.boundBillType) out.push((set.boundBillType as string[]).includes(n.boundBillType));
  if (set.accountStatus) out.push((set.accountStatus as string[]).includes(n.accountStatus));
  return out;
}

/**
 * Whether the filter lets the invoice through. An excluded invoice is one whose value is listed
 * for ANY dimension of `exclude` (e.g. exclude boundBillType [None] drops unbound invoices).
 */
export function passesPoolFilter(invoice: Dimensions, filter: PoolFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.include && !listed(filter.include, invoice).every(Boolean)) return false;
  if (filter.exclude && listed(filter.exclude, invoice).some(Boolean)) return false;
  return true;
}
