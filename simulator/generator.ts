import { Decimal } from 'decimal.js';
import type { PoolInvoice } from '../protocol/interfaces.js';
import { addMonths, lastDayOfPeriod } from '../protocol/period.js';
import { taxNoProblem } from '../protocol/taxNo.js';
import { generatedDimensions } from './accounting/dimensions.js';
import { hashSeed, prng } from './random.js';

/**
 * Deterministic pool-invoice generator: the same (taxNo, period, seed, count) always yields the
 * same invoices. A realistic mix: deductible and non-deductible types, agricultural ordinary
 * invoices, void / out-of-control / red-flushed statuses, a few red-letter invoices, a few dated
 * after the period end, tax at 1/3/6/9/13 %.
 */

export interface GenerateOptions {
  taxNo: string;
  period: string;
  seed: number;
  count: number;
}

function weighted<T>(rand: () => number, table: readonly (readonly [T, number])[]): T {
  const total = table.reduce((s, [, w]) => s + w, 0);
  let r = rand() * total;
  for (const [value, w] of table) {
    r -= w;
    if (r < 0) return value;
  }
  return table[table.length - 1]![0];
}

const TYPES = [
  [27, 25],
  [4, 10],
  [2, 10],
  [28, 5],
  [29, 5],
  [15, 5],
  [12, 3],
  [21, 3],
  [83, 3],
  [26, 12],
  [1, 8],
  [3, 5],
] as const;
const STATUSES = [
  [0, 80],
  [7, 5],
  [1, 4],
  [2, 5],
  [3, 3],
  [4, 3],
] as const;
const RATES = [1, 3, 6, 9, 13] as const;
const ALL_ELECTRONIC = [26, 27, 28, 29, 83];
const SELLERS = ['华南电子', '粤海农产品', '鹏城物流', '南山软件', '前海商贸', '福田办公用品', '宝安五金', '龙岗建材'];
const TAX_NO_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';

function digits(rand: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(rand() * 10);
  return s;
}

export function validTaxNo(rand: () => number): string {
  let body = '91440300';
  for (let i = 0; i < 9; i++) body += TAX_NO_ALPHABET[Math.floor(rand() * TAX_NO_ALPHABET.length)];
  for (const c of TAX_NO_ALPHABET) if (!taxNoProblem(body + c)) return body + c;
  throw new Error('unreachable: some check character is always valid');
}

export function generateInvoices(opts: GenerateOptions): PoolInvoice[] {
  const rand = prng(hashSeed(`${opts.taxNo}|${opts.period}|${opts.seed}`));
  const last = Number(lastDayOfPeriod(opts.period).slice(8));
  const next = addMonths(opts.period, 1);
  const invoices: PoolInvoice[] = [];
  for (let i = 0; i < opts.count; i++) {
    const invoiceType = weighted(rand, TYPES);
    const agricultural = [1, 3, 26].includes(invoiceType) && rand() < 0.4;
    const afterPeriod = rand() < 0.08;
    const month = afterPeriod ? next : opts.period;
    const day = 1 + Math.floor(rand() * (afterPeriod ? 10 : last));
    const invoiceDate = `${month.slice(0, 4)}-${month.slice(4)}-${String(day).padStart(2, '0')}`;
    const redLetter = rand() < 0.04;
    const cents = 1000 + Math.floor(rand() * 5_000_000);
    const amount = new Decimal(cents).div(100).times(redLetter ? -1 : 1);
    const rate = agricultural ? 9 : RATES[Math.floor(rand() * RATES.length)]!;
    const tax = amount.times(rate).div(100).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
    const allElectronic = ALL_ELECTRONIC.includes(invoiceType);
    const serial = String(i + 1).padStart(6, '0');
    const seller = SELLERS[Math.floor(rand() * SELLERS.length)]!;
    invoices.push({
      invoiceType,
      invoiceCode: allElectronic ? '' : `0440${digits(rand, 8)}`,
      invoiceNo: allElectronic ? `${opts.period.slice(2, 4)}44${digits(rand, 10)}${serial}` : digits(rand, 2) + serial,
      etaxInvoiceNo: '',
      invoiceDate,
      salerName: `深圳市${seller}有限公司`,
      salerTaxNo: validTaxNo(rand),
      invoiceAmount: amount.toFixed(2),
      taxAmount: tax.toFixed(2),
      totalAmount: amount.plus(tax).toFixed(2),
      invoiceStatus: weighted(rand, STATUSES),
      agricultural,
      selectStatus: '0',
      selectPeriod: '',
      ...generatedDimensions(i, opts.period),
    });
  }
  return invoices;
}
