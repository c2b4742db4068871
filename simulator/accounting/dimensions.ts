import {
  ACCOUNT_STATUSES,
  AccountStatus,
  BOUND_BILL_TYPES,
  BoundBillType,
  DATA_SOURCES,
} from '../../protocol/codes.js';
import type { PoolInvoice } from '../../protocol/interfaces.js';

export type PoolDimensions = Pick<
  PoolInvoice,
  'dataSource' | 'boundBillType' | 'boundBillNo' | 'accountStatus' | 'accountPeriod'
>;

/** Every (data source, bound document type, accounting status) combination, in a fixed order. */
export const DIMENSION_COMBINATIONS = DATA_SOURCES.flatMap((dataSource) =>
  BOUND_BILL_TYPES.flatMap((boundBillType) =>
    ACCOUNT_STATUSES.map((accountStatus) => ({ dataSource, boundBillType, accountStatus })),
  ),
);

const BILL_PREFIX: Record<BoundBillType, string> = {
  '0': '',
  '1': 'BX', // 报销
  '2': 'CLK', // 差旅-客户付费
  '3': 'CLF', // 差旅-非客户付费
  '4': 'FK', // 付款
  '5': 'CG', // 采购
  '6': 'FB', // 分包
};

/**
 * The dimensions of the i-th generated invoice: the combinations are dealt in turn, so any
 * DIMENSION_COMBINATIONS.length consecutive invoices cover them all (28: 2 sources x 7 document
 * types x 2 statuses). Derived from the index only, so the rest of the generated data is unchanged.
 */
export function generatedDimensions(index: number, period: string): PoolDimensions {
  const combo = DIMENSION_COMBINATIONS[index % DIMENSION_COMBINATIONS.length]!;
  const serial = String(index + 1).padStart(6, '0');
  const booked = combo.accountStatus === AccountStatus.Booked;
  return {
    ...combo,
    boundBillNo:
      combo.boundBillType === BoundBillType.None ? '' : `${BILL_PREFIX[combo.boundBillType]}${period}${serial}`,
    accountPeriod: booked ? period : '',
  };
}
