import { hashSeed, prng } from '../random.js';
import type { FaultSettings } from './schemas.js';

/** What happens to one gateway request. */
export type FaultAction = 'none' | 'http5xx' | 'hang' | 'reset' | 'corrupt';
export interface FaultDraw {
  action: FaultAction;
  /** Delay before anything else happens (slow response), in ms. */
  delayMs: number;
}

/** What the injector counts of the faults it served, per tenant. */
export const SERVED_FAULTS = [
  'http5xx',
  'hang',
  'reset',
  'corrupt',
  'slow',
  'lostAfterProcessing',
  'writesLostAfterProcessing',
] as const;
export type ServedFault = (typeof SERVED_FAULTS)[number];
export type ServedCounts = Record<ServedFault, number>;

/** Where the counts persist (the sandbox's SQLite settings), so they survive a sandbox restart. */
export interface CounterStore {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

function memoryCounters(): CounterStore {
  const values = new Map<string, string>();
  return { get: (k) => values.get(k), set: (k, v) => void values.set(k, v) };
}

/**
 * Draws faults per tenant from a PRNG seeded by the tenant's settings. The sequence restarts
 * whenever the settings change, so a test that sets faults sees the same draws every run.
 * Counts every fault it served (persisted when given a store).
 */
export class FaultInjector {
  private readonly streams = new Map<string, { key: string; next: () => number }>();

  constructor(private readonly counters: CounterStore = memoryCounters()) {}

  /**
   * Records faults served to the tenant (one request may count as several: hang + lost after
   * processing); a write whose reply was lost after it was applied is also counted by interface.
   */
  served(tenantId: string, faults: readonly ServedFault[], interfaceCode?: string): void {
    if (faults.length === 0) return;
    const counts = this.servedCounts(tenantId);
    for (const fault of faults) counts[fault] += 1;
    this.counters.set(`faults.served.${tenantId}`, JSON.stringify(counts));
    if (interfaceCode && faults.includes('writesLostAfterProcessing')) {
      const byInterface = this.writesLostByInterface(tenantId);
      byInterface[interfaceCode] = (byInterface[interfaceCode] ?? 0) + 1;
      this.counters.set(`faults.lostWrites.${tenantId}`, JSON.stringify(byInterface));
    }
  }

  /** Writes applied whose reply was lost, by interfaceCode. */
  writesLostByInterface(tenantId: string): Record<string, number> {
    const raw = this.counters.get(`faults.lostWrites.${tenantId}`);
    return raw ? (JSON.parse(raw) as Record<string, number>) : {};
  }

  servedCounts(tenantId: string): ServedCounts {
    const raw = this.counters.get(`faults.served.${tenantId}`);
    const stored = raw ? (JSON.parse(raw) as Partial<ServedCounts>) : {};
    return Object.fromEntries(SERVED_FAULTS.map((f) => [f, stored[f] ?? 0])) as ServedCounts;
  }

  draw(tenantId: string, settings: FaultSettings, interfaceCode: string | undefined): FaultDraw {
    const none: FaultDraw = { action: 'none', delayMs: 0 };
    if (settings.interfaces.length > 0 && (!interfaceCode || !settings.interfaces.includes(interfaceCode))) {
      return none;
    }
    const key = JSON.stringify(settings);
    const limit = settings.maxInjected;
    if (limit !== undefined && this.injectedSince(tenantId, key) >= limit) return none;
    const drawn = this.drawFrom(tenantId, settings, key);
    if (limit !== undefined && (drawn.action !== 'none' || drawn.delayMs > 0)) {
      this.counters.set(
        `faults.injected.${tenantId}`,
        JSON.stringify({ key, n: this.injectedSince(tenantId, key) + 1 }),
      );
    }
    return drawn;
  }

  /**
   * Requests that got a fault under these settings since they were set: a count kept with the
   * settings it belongs to, so other settings (or the same ones set again, see reset) start anew.
   */
  private injectedSince(tenantId: string, key: string): number {
    const raw = this.counters.get(`faults.injected.${tenantId}`);
    const stored = raw ? (JSON.parse(raw) as { key: string; n: number }) : undefined;
    return stored?.key === key ? stored.n : 0;
  }

  private drawFrom(tenantId: string, settings: FaultSettings, key: string): FaultDraw {
    let stream = this.streams.get(tenantId);
    if (!stream || stream.key !== key) {
      stream = { key, next: prng(hashSeed(`${tenantId}|${settings.seed}`)) };
      this.streams.set(tenantId, stream);
    }
    const delayMs = stream.next() < settings.slowRate ? settings.slowMs : 0;
    let u = stream.next();
    const table: [FaultAction, number][] = [
      ['http5xx', settings.http5xxRate],
      ['hang', settings.hangRate],
      ['reset', settings.resetRate],
      ['corrupt', settings.corruptRate],
    ];
    for (const [action, rate] of table) {
      if (u < rate) return { action, delayMs };
      u -= rate;
    }
    return { action: 'none', delayMs };
  }

  /** Forget the draws and the injected count so far (settings set again start both anew). */
  reset(tenantId: string): void {
    this.streams.delete(tenantId);
    this.counters.set(`faults.injected.${tenantId}`, JSON.stringify({ key: '', n: 0 }));
  }
}

/** Per-tenant request quota: at most `rps` accepted requests in any sliding second. */
export class QuotaMeter {
  private readonly recent = new Map<string, number[]>();

  /** True when the request fits and is counted; false when the quota is exhausted. */
  admit(tenantId: string, rps: number | null, now = Date.now()): boolean {
    if (rps === null) return true;
    const times = (this.recent.get(tenantId) ?? []).filter((t) => now - t < 1000);
    if (times.length >= rps) {
      this.recent.set(tenantId, times);
      return false;
    }
    times.push(now);
    this.recent.set(tenantId, times);
    return true;
  }
}
