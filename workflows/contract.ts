/**
 * The public contract of MonthlyDeductionWorkflow: names, messages, input,
 * progress and result. Imported by the workflow, the worker and every client, so nothing drifts.
 */
import type { FailedInvoice } from '../activities/selectionCandidates.js';
import { FailureType } from '../protocol/failureTypes.js';
import { ChannelName } from '../protocol/notice.js';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import type { StatisticItem } from '../protocol/interfaces.js';
import type { SkipReason } from '../rules/selectionPolicy.js';
import { TaxPeriod } from '../protocol/period.js';
import { TaxNo } from '../protocol/taxNo.js';
import { PoolFilter } from '../rules/poolFilter.js';
import { MAX_INVOICE_FILE_ROWS } from '../protocol/invoicesFile.js';

export const WORKFLOW_TYPE = 'MonthlyDeductionWorkflow';
export const TASK_QUEUE = 'invoice-deduction';

/**
 * A tenant of the tenants file (config/tenantsSchema.ts, docs/tenants.md): a short slug. A month
 * without one belongs to the tenant of the workers' INVOICE_CLOUD_* environment.
 */
export const TenantId = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,31}$/,
    'tenant must be 1-32 lower-case letters, digits or "-", starting with a letter or digit',
  );

/**
 * The task queue a tenant's bureau activities run on: `<main>.tenant.<id>`, polled only by the
 * workers' activity worker for that tenant, so one tenant's backlog never holds another's pollers.
 * Without a tenant: the main queue (undefined = the workflow's own queue, as before tenants).
 */
export function tenantTaskQueue(tenant: string | undefined, mainQueue: string = TASK_QUEUE): string | undefined {
  return tenant === undefined ? undefined : `${mainQueue}.tenant.${tenant}`;
}

export function deductionWorkflowId(taxNo: string, taxPeriod: string): string {
  return `deduction-${taxNo}-${taxPeriod}`;
}

export const Stage = {
  LoggingIn: 'LOGGING_IN',
  QueryingPeriod: 'QUERYING_PERIOD',
  Selecting: 'SELECTING',
  GeneratingStatistic: 'GENERATING_STATISTIC',
  AwaitingApproval: 'AWAITING_APPROVAL',
  Confirming: 'CONFIRMING',
  ChangingPeriod: 'CHANGING_PERIOD',
  Completed: 'COMPLETED',
  Rejected: 'REJECTED',
  Expired: 'EXPIRED',
  Failed: 'FAILED',
  Canceled: 'CANCELED',
} as const;
export type Stage = (typeof Stage)[keyof typeof Stage];
export const STAGES = Object.values(Stage) as [Stage, ...Stage[]];

export {
  ApprovalDeadlineSearchAttribute,
  DeductionStageSearchAttribute,
  SEARCH_ATTRIBUTE_NAMES,
  SEARCH_ATTRIBUTE_TYPES,
  TaxNoSearchAttribute,
  TaxPeriodSearchAttribute,
  type SearchAttributeName,
} from '../protocol/searchAttributes.js';

/**
 * The memo a month upserts when it enters AWAITING_APPROVAL (again when a voided approval brings a
 * new table), under APPROVAL_MEMO_KEY: what the inbox's list shows without querying the workflow.
 */
export const APPROVAL_MEMO_KEY = 'approval';
export interface ApprovalMemo {
  deductibleCount: number;
  deductibleAmount: string;
  deductibleTax: string;
  statisticDigest: string;
  /** Planned vs the bureau's table; absent when the month did not check it. */
  plannedAgreesWithBureau?: boolean;
  /** Invoices the bureau did not select. */
  failedInvoices: number;
}

const Person = z.string().trim().min(1, 'must name a person').max(64, 'at most 64 characters');
const StatisticDigest = z.string().regex(/^[0-9a-f]{8}$/, 'statisticDigest must be 8 hex characters');

export const ApproveSignalInput = z.object({
  approver: Person,
  comment: z.string().max(500, 'comment: at most 500 characters').optional(),
  /** Fingerprint of the statistic table the approver saw (progress.statistic.digest). */
  statisticDigest: StatisticDigest.optional(),
});
export type ApproveSignalInput = z.infer<typeof ApproveSignalInput>;
export const RejectSignalInput = z.object({
  approver: Person,
  reason: z.string().trim().min(1, 'reason is required').max(500, 'reason: at most 500 characters'),
});
export type RejectSignalInput = z.infer<typeof RejectSignalInput>;

/** Signals: accepted only where the taxpayer's decisionPolicy is 'unsigned' (the demo default). */
export const approveSignal = defineSignal<[ApproveSignalInput]>('approve');
export const rejectSignal = defineSignal<[RejectSignalInput]>('reject');

/**
 * An Ed25519 signature of the decision by a key the worker knows (security/decisionSigning.ts,
 * docs/decision-signing.md). It covers taxNo, period, statisticDigest, the decision, the approver
 * and signedAt; not the comment or reason.
 */
export const DecisionSignature = z
  .object({
    keyId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'keyId must be 1-64 letters, digits, ".", "_" or "-"'),
    signedAt: z.iso.datetime({ offset: true }),
    /** base64 of the 64-byte signature. */
    value: z.string().min(1).max(200),
  })
  .strict();
export type DecisionSignature = z.infer<typeof DecisionSignature>;

/** The `approve` Update: it must name the table the approver was shown. */
export const ApproveDecisionInput = ApproveSignalInput.extend({
  statisticDigest: StatisticDigest,
  signature: DecisionSignature.optional(),
});
export type ApproveDecisionInput = z.infer<typeof ApproveDecisionInput>;
/** The `reject` Update: a signed rejection names the table too (it is part of what is signed). */
export const RejectDecisionInput = RejectSignalInput.extend({
  statisticDigest: StatisticDigest.optional(),
  signature: DecisionSignature.optional(),
});
export type RejectDecisionInput = z.infer<typeof RejectDecisionInput>;

/** What an accepted decision came to, answered after the bureau's table was read again. */
export type DecisionOutcome =
  /** The table is the one approved: the month goes on to confirm it. */
  | { outcome: 'accepted'; statisticDigest: string }
  /** The table changed after the approval: nothing is confirmed, the new table awaits approval. */
  | { outcome: 'voided'; reason: string; statisticDigest?: string }
  /** The month revokes the table and ends REJECTED. */
  | { outcome: 'rejected' };

/**
 * Decisions as Workflow Updates. A refused one fails at once with an ApplicationFailure of type
 * DECISION_REFUSED (its details[0] is a DecisionRefusalCode); one refused by the validator leaves
 * no history.
 */
export const approveUpdate = defineUpdate<DecisionOutcome, [ApproveDecisionInput]>('approve');
export const rejectUpdate = defineUpdate<DecisionOutcome, [RejectDecisionInput]>('reject');
export const DECISION_REFUSED = FailureType.DecisionRefused;
export const DECISION_REFUSAL_CODES = [
  'invalid-input',
  'wrong-stage',
  'not-an-approver',
  'already-decided',
  'stale-table',
  'unsigned',
  'stale-signature',
  'bad-signature',
] as const;
export type DecisionRefusalCode = (typeof DECISION_REFUSAL_CODES)[number];

/** 'signed': only Updates with a signature the worker verifies decide; signals are refused. */
export const DECISION_POLICIES = ['unsigned', 'signed'] as const;
export const DecisionPolicy = z.enum(DECISION_POLICIES);
export type DecisionPolicy = z.infer<typeof DecisionPolicy>;

const Milliseconds = z.number().int().positive();

/**
 * Where the month's candidate invoices come from (docs/protocol.md, candidate invoices):
 * - `invoices-file`: rows from the company's own system, checked by the CLI and stored on a folder
 *   the workers read (`<INVOICE_FILES_DIR>/<sha256>.json`); only the sha256 and row count travel
 *   here, never the rows. The month selects exactly those invoices (the selection policy still applies).
 * - `bureau-download`: 进项表头归集 (invoiceDown, invoiceDownQuery), the route Kingdee documents.
 * - `sandbox-pool`: the sandbox's own pool query (invoicePoolQuery), a sandbox feature that exists in
 *   no Kingdee source: the default, for the sandbox and the demo only.
 */
export const CandidateSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sandbox-pool') }).strict(),
  z.object({ kind: z.literal('bureau-download') }).strict(),
  z
    .object({
      kind: z.literal('invoices-file'),
      /** sha256 of the stored, checked rows (hex). */
      sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 hex characters'),
      /** Rows the file holds (checked again by the activity). */
      rows: z.number().int().positive().max(MAX_INVOICE_FILE_ROWS),
      /** The file the operator gave, for people to read. */
      fileName: z.string().max(200).optional(),
    })
    .strict(),
]);
export type CandidateSource = z.infer<typeof CandidateSource>;
export const CANDIDATE_SOURCE_KINDS = ['sandbox-pool', 'bureau-download', 'invoices-file'] as const;

/** The input's fields (MonthlyDeductionInput adds the checks across fields). */
export const MonthlyDeductionFields = z.object({
  taxNo: TaxNo,
  /** The tenant whose invoice cloud serves this taxpayer; absent: the workers' INVOICE_CLOUD_* one. */
  tenant: TenantId.optional(),
  /** The period the caller expects; the bureau's current period must match it. */
  taxPeriod: TaxPeriod,
  /**
   * Who may approve or reject (account ids or OpenID subjects / e-mails). Required: a month without
   * one fails InvalidInput; only months started before that have none (anyone could decide them).
   */
  approvers: z.array(Person).max(50).optional(),
  /**
   * 'unsigned' (the default, and the demo's): approve / reject signals and Updates decide.
   * 'signed': only Updates carrying a signature the worker verifies (DECISION_VERIFY_KEYS) decide.
   */
  decisionPolicy: DecisionPolicy.default('unsigned'),
  /** ISO instant; default: 00:00 Shanghai time one day before the filing deadline. */
  approvalDeadline: z.iso.datetime({ offset: true }).optional(),
  /** Invoice types to consider; default: every deductible type. */
  invoiceTypes: z.array(z.number().int()).optional(),
  /**
   * Candidates by the pool's business dimensions, e.g. only booked invoices bound to a document:
   * { include: { accountStatus: ['Booked'] }, exclude: { boundBillType: ['None'] } }.
   * Default: no restriction (every dimension), as before pool filters existed.
   */
  poolFilter: PoolFilter.optional(),
  /** Where candidates come from; default: the sandbox's pool query (sandbox and demo only). */
  candidateSource: CandidateSource.optional(),
  /**
   * How invoices reach the bureau: 'select' (4.05 invoiceSelect, the default) or 'preselect'
   * (预勾选 preSelect + 预勾选确认 preSelectConfirm, the seed's alternative path, 补充说明 1).
   */
  selectionMode: z.enum(['select', 'preselect']).default('select'),
  /** Invoices per select call (the bureau takes at most 2000). */
  batchSize: z.number().int().min(1).max(2000).default(500),
  /**
   * Notify approvers when approval is needed, remind them the given hours before the approval
   * deadline, and report a missed deadline, through the worker's webhook `channel` (resolved by
   * the worker: NOTIFY_WEBHOOK_URL for `default`, NOTIFY_WEBHOOKS for named ones). Absent: none.
   */
  notifications: z
    .object({
      channel: ChannelName.default('default'),
      remindHoursBeforeDeadline: z
        .array(
          z
            .number()
            .positive('must be a positive number of hours')
            .max(24 * 30, 'at most 720 hours'),
        )
        .max(10, 'at most 10 reminders')
        .default([]),
    })
    .strict()
    .optional(),
  /**
   * Give up on a bureau that does not answer after this many hours of one step, so that the month
   * fails and someone looks (resume it with \`retry\`). Default: retry until the deduction deadline.
   */
  outageLimitHours: z
    .number()
    .positive()
    .max(24 * 62)
    .optional(),
  /** After confirmation, move the bureau's period on to this one (4.12), then query it again. */
  changePeriodTo: TaxPeriod.optional(),
  /**
   * How often to ask for a bureau task's result (a Temporal retry schedule). The defaults notice a
   * 5 s task within ~1 s and a 10 min task within 50 s (BENCHMARKS.md); when the latency is known,
   * pollingForExpectedTaskMs gives a tighter schedule.
   */
  polling: z
    .object({
      initialIntervalMs: Milliseconds.default(1000),
      maximumIntervalMs: Milliseconds.default(50_000),
      backoffCoefficient: z.number().min(1).max(10).default(1.25),
      /** Give up on a bureau task after this long; default: at the deduction deadline. */
      giveUpAfterMs: Milliseconds.optional(),
    })
    .prefault({}),
});

export const MonthlyDeductionInput = MonthlyDeductionFields.refine(
  (input) => !input.poolFilter || (input.candidateSource?.kind ?? 'sandbox-pool') === 'sandbox-pool',
  {
    message: "poolFilter filters the sandbox pool's dimensions: it needs candidateSource sandbox-pool",
    path: ['poolFilter'],
  },
);

/**
 * A polling schedule for bureau tasks expected to take about `expectedMs`: one query every
 * expectedMs/12 (at least 1.25 s), so a task is noticed within 1/12 of its latency after about
 * 13 queries, whether it ends early or late (BENCHMARKS.md, time to notice).
 */
export function pollingForExpectedTaskMs(expectedMs: number): {
  initialIntervalMs: number;
  maximumIntervalMs: number;
  backoffCoefficient: number;
} {
  const intervalMs = Math.max(1250, Math.round(expectedMs / 12));
  return { initialIntervalMs: intervalMs, maximumIntervalMs: intervalMs, backoffCoefficient: 1 };
}
export type MonthlyDeductionInput = z.input<typeof MonthlyDeductionInput>;
export type ParsedMonthlyDeductionInput = z.output<typeof MonthlyDeductionInput>;

/** A row of the bureau's statistic table: a statistic category ("01" special invoices, ...). */
export type StatisticLine = StatisticItem;

/**
 * What the month meant to select (the invoices the bureau answered as selected) beside what the
 * bureau's statistic table counts, on the table's total: deductible count and tax.
 */
export interface PlannedVersusBureau {
  /** The tax is absent when the bureau's per-invoice results did not carry effectiveTaxAmount. */
  planned: { count: number; tax?: string };
  bureau: { count: number; tax: string };
  /**
   * Per statistic category, when the plan knows every selected invoice's category (every candidate
   * ended selected and none came from elsewhere).
   */
  categories?: { category: string; planned: { count: number; tax: string }; bureau: { count: number; tax: string } }[];
  agrees: boolean;
}

export interface StatisticSummary {
  /** Fingerprint an approval must name (rules/statisticDigest.ts). */
  digest: string;
  statisticStatus: string;
  updateTime: string;
  deductionDeadline: string;
  items: StatisticLine[];
  /** The bureau's own total row, when it sent one. */
  total?: StatisticLine;
  deductibleCount: number;
  deductibleAmount: string;
  deductibleTax: string;
}

export interface SelectionTally {
  candidates: number;
  submitted: number;
  selected: number;
  alreadySelected: number;
  failed: number;
  /** The first failures, kept for the approver (at most 50). */
  failures: FailedInvoice[];
  taskNos: string[];
  /** Effective tax of the invoices answered as selected; absent when a result did not carry it. */
  selectedTax?: string;
  /** Invoices the source showed selected for the period that the month did not send (round 1). */
  alreadySelectedInSource?: { count: number; tax?: string };
  /** Round 1's candidates by statistic category (count and effective tax). */
  candidatesByCategory?: Record<string, { count: number; tax: string }>;
  /** Round 1's candidates of types without a statistic category (they count in the total only). */
  uncategorisedCandidates?: number;
  /** Invoices the bureau still asked to send again after the last round. */
  outstandingRetries?: number;
  /** Where the candidates came from, e.g. `invoices file march.csv (2000 rows, sha256 1f2e…)`. */
  source?: string;
  /** Invoices of the source not selected, by the selection policy's reason (round 1). */
  skipped?: Partial<Record<SkipReason, number>>;
  /** For an invoices file: the file's rows skipped, by reason, e.g. `{"issued-after-period": "5-9, 12"}`. */
  skippedRows?: Partial<Record<SkipReason, string>>;
}

export interface Decision {
  decision: 'approved' | 'rejected';
  approver: string;
  comment?: string;
  /** ISO instant (workflow time) the decision arrived. */
  decidedAt: string;
  /** 'update' for a Workflow Update; absent for a signal. */
  via?: 'update';
  /** The verified signature's key and time, for a signed decision. */
  signature?: { keyId: string; signedAt: string };
}

/**
 * A decision the workflow did not act on, kept for the audit trail: a refused signal, an Update
 * accepted by its validator then refused (a signature that does not verify), or a voided approval.
 * Updates refused by their validator leave no history and are not listed.
 */
export interface RefusedSignal {
  signal: 'approve' | 'reject';
  approver?: string;
  reason: string;
  /** ISO instant (workflow time). */
  at: string;
  /** 'update' for a Workflow Update; absent for a signal. */
  via?: 'update';
}

export interface Progress {
  taxNo: string;
  taxPeriod: string;
  stage: Stage;
  deductionDeadline?: string;
  approvalDeadline?: string;
  selection?: SelectionTally;
  statistic?: StatisticSummary;
  /** Planned against the bureau's table, checked before approval. */
  plannedVersusBureau?: PlannedVersusBureau;
  decision?: Decision;
  /** The month's decisionPolicy (absent in months started before it existed: unsigned). */
  decisionPolicy?: DecisionPolicy;
  lastBureauError?: string;
  /**
   * A cancelled month: the bureau's table as the cancellation left it (a generated, unconfirmed
   * table stays at the bureau until someone revokes or confirms it; docs/operating.md).
   */
  leftAtBureau?: string;
  /** Signals refused (invalid, unauthorised, wrong stage, stale statistic), oldest first, at most 50. */
  refusedSignals?: RefusedSignal[];
  updatedAt: string;
}

export const progressQuery = defineQuery<Progress>('progress');

export interface MonthlyDeductionResult extends Progress {
  outcome: 'COMPLETED' | 'REJECTED' | 'EXPIRED';
  confirmedAt?: string;
  periodAfterChange?: string;
  note: string;
}
