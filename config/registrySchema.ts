/**
 * The taxpayer registry: who is deducted every month, who approves, and when the
 * monthly run starts (Asia/Shanghai wall-clock time). `schedules apply` makes Temporal match it.
 */
import { z } from 'zod';
import { ChannelName } from '../protocol/notice.js';
import { TaxNo } from '../protocol/taxNo.js';
import { PoolFilter } from '../rules/poolFilter.js';
import { CANDIDATE_SOURCE_KINDS, DecisionPolicy, MonthlyDeductionFields, TenantId } from '../workflows/contract.js';

const Person = z.string().trim().min(1, 'must name a person').max(64, 'at most 64 characters');

export const RegistrySchedule = z
  .object({
    /** Day of the month the run starts; the previous month's period is open until the 15th. */
    dayOfMonth: z
      .number()
      .int('must be a whole number')
      .min(1, 'must be 1-15')
      .max(15, 'must be 1-15: after the 15th the previous period is usually closed for selection'),
    hour: z.number().int('must be a whole number').min(0, 'must be 0-23').max(23, 'must be 0-23'),
    minute: z.number().int('must be a whole number').min(0, 'must be 0-59').max(59, 'must be 0-59').default(0),
    /** Random delay up to this many minutes, so many taxpayers don't hit the bureau at once. */
    jitterMinutes: z.number().int('must be a whole number').min(0).max(180, 'at most 180 minutes').default(0),
  })
  .strict();

export const RegistryOptions = z
  .object({
    invoiceTypes: z.array(z.number().int()).min(1, 'list at least one invoice type, or leave it out').optional(),
    /** Candidates by data source, bound document type and accounting status (rules/poolFilter.ts). */
    poolFilter: PoolFilter.optional(),
    batchSize: z.number().int().min(1).max(2000, 'the bureau takes at most 2000 invoices per call').optional(),
    /** Fail the month when the bureau does not answer for this many hours in one step; default: until the deadline. */
    outageLimitHours: MonthlyDeductionFields.shape.outageLimitHours,
    /** Hours before the approval deadline at which approvers are reminded (e.g. [48, 24, 2]). */
    reminderHoursBeforeDeadline: z
      .array(
        z
          .number()
          .positive('must be a positive number of hours')
          .max(24 * 30),
      )
      .max(10, 'at most 10 reminders')
      .optional(),
    /** Notification channel (a name the worker resolves to a webhook: NOTIFY_WEBHOOKS); default 'default'. */
    notificationChannel: ChannelName.optional(),
    /**
     * Where candidates come from: 'bureau-download' (进项表头归集, for a real tenant), 'invoices-file'
     * (each month started by hand with `start --invoices-file`: the schedule is kept paused), or
     * 'sandbox-pool' (the sandbox's own pool query; also the default, for the sandbox and demo only).
     */
    candidateSource: z.enum(CANDIDATE_SOURCE_KINDS).optional(),
    /**
     * 'signed': the month takes only decisions signed by a key the workers know (the inbox's, or an
     * operator's CLI key; docs/decision-signing.md); signals are refused. Default 'unsigned'.
     */
    decisionPolicy: DecisionPolicy.optional(),
  })
  .strict()
  .refine((o) => !o.poolFilter || (o.candidateSource ?? 'sandbox-pool') === 'sandbox-pool', {
    message: "filters the sandbox pool's dimensions: it needs candidateSource sandbox-pool",
    path: ['poolFilter'],
  });

export const RegistryEntry = z
  .object({
    taxNo: TaxNo,
    name: z.string().trim().min(1, 'the taxpayer name is required').max(200),
    approvers: z.array(Person).min(1, 'name at least one approver'),
    /**
     * The tenant of the tenants file whose invoice cloud serves this taxpayer (docs/tenants.md);
     * absent: the workers' INVOICE_CLOUD_* tenant. An id only: no setting or secret of it here.
     */
    tenant: TenantId.optional(),
    schedule: RegistrySchedule,
    /** Paused schedules exist in Temporal but do not start runs. */
    paused: z.boolean().default(false),
    options: RegistryOptions.default({}),
  })
  .strict();
export type RegistryEntry = z.output<typeof RegistryEntry>;

export const TaxpayerRegistry = z
  .object({
    taxpayers: z.array(RegistryEntry),
  })
  .strict()
  .superRefine((registry, ctx) => {
    const seen = new Map<string, number>();
    registry.taxpayers.forEach((entry, index) => {
      const first = seen.get(entry.taxNo);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['taxpayers', index, 'taxNo'],
          message: `duplicate taxNo ${entry.taxNo} (also taxpayers[${first}])`,
        });
      } else {
        seen.set(entry.taxNo, index);
      }
    });
  });
export type TaxpayerRegistry = z.output<typeof TaxpayerRegistry>;
