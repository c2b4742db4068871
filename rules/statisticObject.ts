import { sumMoney } from '../protocol/money.js';
import type { StatisticItem, StatisticObject, StatisticQueryReply, StatisticRow } from '../protocol/interfaces.js';
import { defaultFilingDeadline } from '../protocol/period.js';

/** The bureau's total row in tjInfo / tjInfoArr. */
export const TOTAL_CATEGORY = '99';

/** Statistic categories of the bureau (docs/protocol.md): what a row's invoiceType means. */
export const STATISTIC_CATEGORY_NAMES: Record<string, string> = {
  '01': '增值税专用发票 special VAT invoices',
  '03': '机动车销售统一发票 motor vehicle invoices',
  '14': '通行费发票 toll invoices',
  '17': '海关缴款书 customs payment receipts',
  '24': '出口转内销发票 export-to-domestic invoices',
  [TOTAL_CATEGORY]: '合计 total',
};

export function categoryName(category: string): string {
  return STATISTIC_CATEGORY_NAMES[category] ?? `类别 category ${category}`;
}

/** The statistic table's columns as people read them (CLI, inbox, workbook): Chinese first, English beside. */
export const STATISTIC_COLUMNS = [
  '统计类别 Category',
  '可抵扣份数 Deductible count',
  '可抵扣金额 Deductible amount',
  '可抵扣税额 Deductible tax',
  '不抵扣份数 Not deductible count',
  '不抵扣金额 Not deductible amount',
  '不抵扣税额 Not deductible tax',
] as const;

export class StatisticReadError extends Error {
  override name = 'StatisticReadError';
}

/** A two-digit category code: the bureau writes "01", a tolerant reader may see 1. */
function category(raw: string): string {
  return /^\d$/.test(raw) ? `0${raw}` : raw;
}

function fromRow(row: StatisticRow): StatisticItem {
  return {
    category: category(row.invoiceType),
    deductibleCount: row.deductibleNum,
    deductibleAmount: row.deductibleAmount,
    deductibleTax: row.deductibleTax,
    notDeductibleCount: row.unDeductibleNum,
    notDeductibleAmount: row.unDeductibleAmount,
    notDeductibleTax: row.unDeductibleTax,
  };
}

const COUNT = /^\d+$/;
const MONEY = /^-?\d+(\.\d{1,2})?$/;

/** tjInfo: "type=dkNum=dkAmount=dkTax=bdkNum=bdkAmount=bdkTax;..." (empty parts allowed at the end). */
export function parseTjInfo(tjInfo: string): StatisticItem[] {
  return tjInfo
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map((part) => {
      const fields = part.split('=');
      const [type, dkNum, dkAmount, dkTax, bdkNum = '0', bdkAmount = '0.00', bdkTax = '0.00'] = fields;
      const valid =
        fields.length >= 4 &&
        fields.length <= 7 &&
        /^\d{1,2}$/.test(type ?? '') &&
        COUNT.test(dkNum ?? '') &&
        MONEY.test(dkAmount ?? '') &&
        MONEY.test(dkTax ?? '') &&
        COUNT.test(bdkNum) &&
        MONEY.test(bdkAmount) &&
        MONEY.test(bdkTax);
      if (!valid) throw new StatisticReadError(`tjInfo: cannot read the row "${part}"`);
      return {
        category: category(type!),
        deductibleCount: Number(dkNum),
        deductibleAmount: sumMoney([dkAmount!]),
        deductibleTax: sumMoney([dkTax!]),
        notDeductibleCount: Number(bdkNum),
        notDeductibleAmount: sumMoney([bdkAmount]),
        notDeductibleTax: sumMoney([bdkTax]),
      };
    });
}

/** "YYYYMMDD" -> "YYYY-MM-DD". */
const isoDay = (d: string) => `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`;

/** The period and deadline that `skssq` ("YYYYMM;YYYYMMDD;YYYYMM") carries. */
export function readSkssq(skssq: string | undefined): { period?: string; deadline?: string } {
  if (!skssq) return {};
  const [period, deadline] = skssq.split(';');
  return {
    ...(period && /^\d{6}$/.test(period) ? { period } : {}),
    ...(deadline && /^\d{8}$/.test(deadline) ? { deadline: isoDay(deadline) } : {}),
  };
}

/**
 * The statistic object as the product works with it. Rows come from tjInfoArr, or from tjInfo
 * when the array is absent; the total row is kept apart. The period comes from taxPeriod or
 * skssq (else `fallbackPeriod`), the deadline from skssq (else the period's default deadline).
 */
export function readStatistic(object: StatisticObject, fallbackPeriod?: string): StatisticQueryReply {
  const rows = object.tjInfoArr
    ? object.tjInfoArr.map(fromRow)
    : object.tjInfo !== undefined
      ? parseTjInfo(object.tjInfo)
      : [];
  const skssq = readSkssq(object.skssq);
  const period = object.taxPeriod ?? skssq.period ?? fallbackPeriod;
  if (period === undefined) throw new StatisticReadError('the statistic names no period (taxPeriod or skssq)');
  const total = rows.find((r) => r.category === TOTAL_CATEGORY);
  return {
    statisticPeriod: period,
    taxPeriod: period,
    deductionDeadline: skssq.deadline ?? defaultFilingDeadline(period),
    updateTime: object.updateTime ?? '',
    statisticStatus: object.createTjbbStatus.padStart(2, '0'),
    ...(object.isAllowQrtj !== undefined ? { confirmable: object.isAllowQrtj } : {}),
    ...(object.isAllowQxTj !== undefined ? { revocable: object.isAllowQxTj } : {}),
    items: rows.filter((r) => r.category !== TOTAL_CATEGORY),
    ...(total ? { total } : {}),
  };
}
