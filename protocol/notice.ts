/**
 * What approvers are sent, as it travels: the notification activity's input (built by the
 * workflow) and the generic webhook's JSON body. The sandbox's webhook receiver validates received
 * bodies with the same schema.
 */
import { z } from 'zod';
import { Money } from './money.js';
import { TaxPeriod } from './period.js';

/** A notification channel the worker resolves to a webhook URL (URLs carry tokens: never in history). */
export const ChannelName = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,40}$/, 'channel must be 1-40 letters, digits, "_" or "-" (a name, not a URL)');

export const NoticeKind = z.enum(['approval-needed', 'reminder', 'deadline-missed', 'confirmed', 'failed']);
export type NoticeKind = z.infer<typeof NoticeKind>;
/** The kinds whose text names the approval deadline. */
export const DEADLINE_KINDS: readonly NoticeKind[] = ['approval-needed', 'reminder', 'deadline-missed'];

export const NoticeStatistic = z
  .object({
    digest: z.string(),
    deductibleCount: z.number().int(),
    deductibleAmount: Money,
    deductibleTax: Money,
  })
  .strict();

/** The notification activity's input, built by the workflow. */
export const NoticeRequest = z
  .object({
    channel: ChannelName,
    kind: NoticeKind,
    taxNo: z.string(),
    taxPeriod: TaxPeriod,
    approvers: z.array(z.string()).optional(),
    /**
     * Required by the notices that ask for a decision (DEADLINE_KINDS); a month that fails before
     * approval has none, and the workflow then sends '' (taken as none).
     */
    approvalDeadline: z.union([z.iso.datetime({ offset: true }), z.literal('')]).optional(),
    deductionDeadline: z.string().optional(),
    /** For reminders: the configured offset this one comes from. */
    hoursBeforeDeadline: z.number().positive().optional(),
    statistic: NoticeStatistic.optional(),
    /** For `confirmed`: who approved the table. */
    decidedBy: z.string().max(200).optional(),
    /** For `failed`: what went wrong and what to do, as the workflow reports it. */
    reason: z.string().max(1000).optional(),
  })
  .strict();
export type NoticeRequest = z.infer<typeof NoticeRequest>;

/** The webhook body. */
export const ApprovalNotice = NoticeRequest.omit({ channel: true })
  .extend({
    workflowId: z.string(),
    /** Chinese first, English beside. */
    text: z.string().min(1),
    inboxUrl: z.url().optional(),
    /** The inbox page of this month (`/months/:taxNo/:period` under INBOX_URL). */
    monthUrl: z.url().optional(),
    /** For `confirmed`: the month's audit report in the inbox (docs/audit-report.md). */
    reportUrls: z.object({ xlsx: z.url(), pdf: z.url() }).strict().optional(),
    sentAt: z.iso.datetime({ offset: true }),
  })
  .strict();
export type ApprovalNotice = z.infer<typeof ApprovalNotice>;
