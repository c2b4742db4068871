import type { Store, TaskKind } from './store.js';

/** Sandbox knobs persisted in SQLite: the clock offset, task delays and token lifetimes. */

export type TaskDelays = Record<TaskKind, number>;

const DELAY_KEYS: Record<TaskKind, string> = {
  select: 'delay.selectMs',
  statistic: 'delay.statisticMs',
  confirm: 'delay.confirmMs',
};
const CLOCK_OFFSET_KEY = 'clock.offsetMs';
const ACCESS_TTL_KEY = 'auth.accessTokenTtlMs';
const APP_TTL_KEY = 'auth.appTokenTtlMs';

export const DEFAULT_ACCESS_TOKEN_TTL_MS = 2 * 3600_000;
export const DEFAULT_APP_TOKEN_TTL_MS = 2 * 3600_000;

export class Settings {
  constructor(private readonly store: Store) {}

  /** The sandbox clock: real time plus a persisted offset. */
  now(): number {
    return Date.now() + this.clockOffsetMs();
  }
  clockOffsetMs(): number {
    return Number(this.store.getSetting(CLOCK_OFFSET_KEY) ?? 0);
  }
  setClock(now: number): number {
    const offset = now - Date.now();
    this.store.setSetting(CLOCK_OFFSET_KEY, String(offset));
    return offset;
  }

  taskDelays(): TaskDelays {
    const read = (k: TaskKind) => Number(this.store.getSetting(DELAY_KEYS[k]) ?? 0);
    return { select: read('select'), statistic: read('statistic'), confirm: read('confirm') };
  }
  setTaskDelays(delays: Partial<TaskDelays>): TaskDelays {
    for (const [kind, ms] of Object.entries(delays) as [TaskKind, number | undefined][]) {
      if (ms !== undefined) this.store.setSetting(DELAY_KEYS[kind], String(ms));
    }
    return this.taskDelays();
  }

  accessTokenTtlMs(): number {
    return Number(this.store.getSetting(ACCESS_TTL_KEY) ?? DEFAULT_ACCESS_TOKEN_TTL_MS);
  }
  appTokenTtlMs(): number {
    return Number(this.store.getSetting(APP_TTL_KEY) ?? DEFAULT_APP_TOKEN_TTL_MS);
  }
  setTokenTtls(ttl: { accessTokenTtlMs?: number; appTokenTtlMs?: number }): void {
    if (ttl.accessTokenTtlMs !== undefined) this.store.setSetting(ACCESS_TTL_KEY, String(ttl.accessTokenTtlMs));
    if (ttl.appTokenTtlMs !== undefined) this.store.setSetting(APP_TTL_KEY, String(ttl.appTokenTtlMs));
  }
}
