import { z } from 'zod';

/**
 * Fault injection settings, per tenant (docs/sandbox.md). Rates are probabilities in [0, 1] drawn from
 * a seedable PRNG, so a test that sets `seed` sees the same faults in the same order every run.
 *
 * injectAt says where a drawn 5xx / reset / hang happens:
 * - 'before': the request is dropped before the sandbox processes it (nothing changes);
 * - 'after':  the request is processed and committed, then the reply is lost — the bureau
 *             accepted the write but the client never heard (the case a client must read the
 *             bureau's state for before it resends).
 */
const Rate = z.number().min(0).max(1);

export const FaultSettings = z
  .object({
    http5xxRate: Rate.default(0),
    /** Status of an injected server error. */
    http5xxStatus: z.number().int().min(500).max(599).default(503),
    hangRate: Rate.default(0),
    resetRate: Rate.default(0),
    /** Replies whose decoded `data` loses its first field (a malformed reply). Always after processing. */
    corruptRate: Rate.default(0),
    slowRate: Rate.default(0),
    slowMs: z.number().int().min(0).max(600_000).default(0),
    injectAt: z.enum(['before', 'after']).default('before'),
    /** Only these interfaceCodes are affected; empty or absent = all of them. */
    interfaces: z.array(z.string().min(1)).default([]),
    seed: z.number().int().default(1),
    /**
     * At most this many requests get a fault (any kind, slow included) after these settings were
     * set; then none. E.g. 1 with http5xxRate 1 loses exactly one reply.
     */
    maxInjected: z.number().int().positive().optional(),
  })
  .refine((f) => f.http5xxRate + f.hangRate + f.resetRate + f.corruptRate <= 1, {
    message: 'http5xxRate + hangRate + resetRate + corruptRate must not exceed 1',
    path: ['http5xxRate'],
  });
export type FaultSettings = z.output<typeof FaultSettings>;
export type FaultSettingsInput = z.input<typeof FaultSettings>;

export const FaultsBody = z.object({ tenantId: z.string().min(1).default('devbiz') }).and(FaultSettings);
export type FaultsBody = z.input<typeof FaultsBody>;

export const QuotaSettings = z.object({
  /** Gateway requests per second per tenant; null lifts the quota. */
  requestsPerSecond: z.number().int().positive().nullable(),
});
export type QuotaSettings = z.output<typeof QuotaSettings>;
export const QuotaBody = z.object({ tenantId: z.string().min(1).default('devbiz') }).extend(QuotaSettings.shape);
export type QuotaBody = z.input<typeof QuotaBody>;

export const TASK_KINDS = ['select', 'statistic', 'confirm', 'download'] as const;

export const LatencyDistribution = z.discriminatedUnion('type', [
  z.object({ type: z.literal('fixed'), ms: z.number().int().min(0) }),
  z
    .object({ type: z.literal('uniform'), minMs: z.number().int().min(0), maxMs: z.number().int().min(0) })
    .refine((d) => d.maxMs >= d.minMs, { message: 'maxMs must be >= minMs', path: ['maxMs'] }),
  /** Pareto: most tasks take about minMs, a few take far longer (capped at maxMs). */
  z
    .object({
      type: z.literal('longTail'),
      minMs: z.number().int().min(0),
      alpha: z.number().positive().default(1.5),
      maxMs: z.number().int().min(0),
    })
    .refine((d) => d.maxMs >= d.minMs, { message: 'maxMs must be >= minMs', path: ['maxMs'] }),
]);
export type LatencyDistribution = z.output<typeof LatencyDistribution>;

export const TaskLatencyBody = z.object({
  kind: z.enum(TASK_KINDS),
  distribution: LatencyDistribution,
  seed: z.number().int().default(1),
});
export type TaskLatencyBody = z.input<typeof TaskLatencyBody>;

export const ExpireTokensBody = z.object({ tenantId: z.string().min(1).default('devbiz') });
export const ExpireBureauLoginsBody = z.object({ taxNo: z.string().min(1).optional() });

/** Start-time faults (startSandbox options, `npm run sandbox` environment). Apply to every tenant. */
export const StartFaults = z.object({
  faults: FaultSettings.optional(),
  quota: QuotaSettings.optional(),
  taskLatency: z.partialRecord(z.enum(TASK_KINDS), LatencyDistribution).optional(),
  latencySeed: z.number().int().optional(),
});
export type StartFaults = z.input<typeof StartFaults>;
