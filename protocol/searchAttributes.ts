/**
 * The search attributes a month carries in Temporal's visibility (the inbox, the CLI's list and
 * the launcher's lookup query them); the namespace must have them registered.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const TaxNoSearchAttribute = defineSearchAttributeKey('TaxNo', SearchAttributeType.KEYWORD);
export const TaxPeriodSearchAttribute = defineSearchAttributeKey('TaxPeriod', SearchAttributeType.KEYWORD);
export const DeductionStageSearchAttribute = defineSearchAttributeKey('DeductionStage', SearchAttributeType.KEYWORD);
/** When the month's approval closes; set when it enters AWAITING_APPROVAL (the inbox sorts by it). */
export const ApprovalDeadlineSearchAttribute = defineSearchAttributeKey(
  'ApprovalDeadline',
  SearchAttributeType.DATETIME,
);
/** Search attributes the Temporal namespace must have, with their types (SEARCH_ATTRIBUTE_TYPES). */
export const SEARCH_ATTRIBUTE_NAMES = ['TaxNo', 'TaxPeriod', 'DeductionStage', 'ApprovalDeadline'] as const;
export type SearchAttributeName = (typeof SEARCH_ATTRIBUTE_NAMES)[number];
export const SEARCH_ATTRIBUTE_TYPES: Record<SearchAttributeName, 'Keyword' | 'Datetime'> = {
  TaxNo: 'Keyword',
  TaxPeriod: 'Keyword',
  DeductionStage: 'Keyword',
  ApprovalDeadline: 'Datetime',
};
