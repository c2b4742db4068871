import { drawLatency } from './faults/latency.js';
import { hashSeed, prng } from './random.js';
import {
  FaultSettings,
  LatencyDistribution,
  TASK_KINDS,
  type FaultSettings as FaultSettingsType,
  type QuotaSettings,
} from './faults/schemas.js';
import type { Store, TaskKind } from './store.js';
import { parseProfile, type ProtocolProfile } from '../protocol/profile.js';

/**
 * Sandbox knobs persisted in SQLite: clock offset, task latencies, token lifetimes, faults, quota,
 * protocol profile, requestId de-duplication.
 */

export type TaskDelays = Record<TaskKind, number>;

const DELAY_KEYS: Record<TaskKind, string> = {
  select: 'delay.selectMs',
  statistic: 'delay.statisticMs',
  confirm: 'delay.confirmMs',
  download: 'delay.downloadMs',
};
/** Settings that apply to every tenant without its own (start options, env). */
export const ANY_TENANT = '*';
const NO_FAULTS: FaultSettingsType = FaultSettings.parse({});
const CLOCK_OFFSET_KEY = 'clock.offsetMs';
const ACCESS_TTL_KEY = 'auth.accessTokenTtlMs';
const APP_TTL_KEY = 'auth.appTokenTtlMs';
const DEDUP_KEY = 'dedup.requestIds';

/**
 * A protocol profile from plain settings over the defaults (protocol/profile.ts parseProfile),
 * with its nested objects present so that their own field defaults apply: zod's `.default({})`
 * on a nested object yields `{}` unparsed when the key is absent.
 */
export function resolveProfile(raw: unknown, source: string): ProtocolProfile {
  const settings = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : undefined;
  return parseProfile(settings ? { interfaceCodes: {}, selectFlag: {}, ...settings } : raw, source);
}
/** The profile of a tenant nobody configured: the defaults. */
export const SANDBOX_DEFAULT_PROFILE: ProtocolProfile = resolveProfile({}, 'the default profile');

export const DEFAULT_ACCESS_TOKEN_TTL_MS = 2 * 3600_000;
export const DEFAULT_APP_TOKEN_TTL_MS = 2 * 3600_000;

export class Settings {
  constructor(private readonly store: Store) {}

  /** The sandbox clock: real time plus a persisted offset. */
  now(): number {
    return Date.now() + this.clockOffsetMs();
  }
  clockOffsetMs(): number {
    return Number(this.store.settings.get(CLOCK_OFFSET_KEY) ?? 0);
  }
  setClock(now: number): number {
    const offset = now - Date.now();
    this.store.settings.set(CLOCK_OFFSET_KEY, String(offset));
    return offset;
  }

  /** The fixed delay of each task kind (the lower bound for uniform and long-tail latencies). */
  taskDelays(): TaskDelays {
    const floor = (k: TaskKind) => {
      const d = this.taskLatency(k);
      return d.type === 'fixed' ? d.ms : d.minMs;
    };
    return Object.fromEntries(TASK_KINDS.map((k) => [k, floor(k)])) as TaskDelays;
  }
  setTaskDelays(delays: Partial<TaskDelays>): TaskDelays {
    for (const [kind, ms] of Object.entries(delays) as [TaskKind, number | undefined][]) {
      if (ms !== undefined) this.setTaskLatency(kind, { type: 'fixed', ms });
    }
    return this.taskDelays();
  }

  taskLatency(kind: TaskKind): LatencyDistribution {
    const raw = this.store.settings.get(`latency.${kind}`);
    if (raw) return LatencyDistribution.parse(JSON.parse(raw));
    return { type: 'fixed', ms: Number(this.store.settings.get(DELAY_KEYS[kind]) ?? 0) };
  }
  /** A new distribution restarts its random sequence from `seed`. */
  setTaskLatency(kind: TaskKind, distribution: LatencyDistribution, seed = 1): void {
    this.store.settings.set(`latency.${kind}`, JSON.stringify(distribution));
    this.store.settings.set(`latency.${kind}.seed`, String(seed));
    this.store.settings.set(`latency.${kind}.draws`, '0');
  }
  /** The n-th draw of a kind's latency depends only on (seed, n): deterministic across restarts. */
  drawTaskDelay(kind: TaskKind): number {
    const distribution = this.taskLatency(kind);
    if (distribution.type === 'fixed') return distribution.ms;
    const seed = this.store.settings.get(`latency.${kind}.seed`) ?? '1';
    const n = Number(this.store.settings.get(`latency.${kind}.draws`) ?? 0);
    this.store.settings.set(`latency.${kind}.draws`, String(n + 1));
    return drawLatency(distribution, prng(hashSeed(`${seed}|${n}`))());
  }

  faults(tenantId: string): FaultSettingsType {
    const raw = this.store.settings.get(`faults.${tenantId}`) ?? this.store.settings.get(`faults.${ANY_TENANT}`);
    return raw ? FaultSettings.parse(JSON.parse(raw)) : NO_FAULTS;
  }
  setFaults(tenantId: string, faults: FaultSettingsType): void {
    this.store.settings.set(`faults.${tenantId}`, JSON.stringify(faults));
  }

  quota(tenantId: string): QuotaSettings {
    const raw = this.store.settings.get(`quota.${tenantId}`) ?? this.store.settings.get(`quota.${ANY_TENANT}`);
    return raw ? (JSON.parse(raw) as QuotaSettings) : { requestsPerSecond: null };
  }
  setQuota(tenantId: string, quota: QuotaSettings): void {
    this.store.settings.set(`quota.${tenantId}`, JSON.stringify(quota));
  }

  /**
   * The protocol profile the sandbox speaks to a tenant (interface codes, the select flag, the
   * confirm-result interface, statistic categories): its own, else the one for every tenant, else
   * the defaults (protocol/profile.ts).
   */
  profile(tenantId: string): ProtocolProfile {
    const raw = this.store.settings.get(`profile.${tenantId}`) ?? this.store.settings.get(`profile.${ANY_TENANT}`);
    return raw ? resolveProfile(JSON.parse(raw), `sandbox profile of ${tenantId}`) : SANDBOX_DEFAULT_PROFILE;
  }
  setProfile(tenantId: string, profile: ProtocolProfile): void {
    this.store.settings.set(`profile.${tenantId}`, JSON.stringify(profile));
  }

  /**
   * Whether a write repeated with the same requestId is answered with its first reply instead of
   * reaching the bureau again: the tenant's own setting, else the one for every tenant, else off
   * (nothing documents that the real cloud de-duplicates).
   */
  deduplicatesRequestIds(tenantId: string): boolean {
    const raw =
      this.store.settings.get(`${DEDUP_KEY}.${tenantId}`) ?? this.store.settings.get(`${DEDUP_KEY}.${ANY_TENANT}`);
    return raw === '1';
  }
  setDeduplicatesRequestIds(tenantId: string, on: boolean): void {
    this.store.settings.set(`${DEDUP_KEY}.${tenantId}`, on ? '1' : '0');
  }

  accessTokenTtlMs(): number {
    return Number(this.store.settings.get(ACCESS_TTL_KEY) ?? DEFAULT_ACCESS_TOKEN_TTL_MS);
  }
  appTokenTtlMs(): number {
    return Number(this.store.settings.get(APP_TTL_KEY) ?? DEFAULT_APP_TOKEN_TTL_MS);
  }
  setTokenTtls(ttl: { accessTokenTtlMs?: number; appTokenTtlMs?: number }): void {
    if (ttl.accessTokenTtlMs !== undefined) this.store.settings.set(ACCESS_TTL_KEY, String(ttl.accessTokenTtlMs));
    if (ttl.appTokenTtlMs !== undefined) this.store.settings.set(APP_TTL_KEY, String(ttl.appTokenTtlMs));
  }
}
