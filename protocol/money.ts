import { Decimal } from 'decimal.js';
import { z } from 'zod';

/** An amount of yuan as a decimal string with at most two decimals. Never a binary float. */
export const Money = z
  .string()
  .regex(/^-?\d{1,15}(\.\d{1,2})?$/, 'amount must be a decimal string with at most 2 decimals, e.g. "238.00"');

export function sumMoney(values: readonly string[]): string {
  return values.reduce((acc, v) => acc.plus(v), new Decimal(0)).toFixed(2);
}

export function compareMoney(a: string, b: string): number {
  return new Decimal(a).comparedTo(b);
}

export function formatMoney(value: string): string {
  return new Decimal(value).toFixed(2);
}
