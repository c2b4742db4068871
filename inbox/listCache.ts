/**
 * A value loaded from Temporal and shared by every request for a few seconds: with thousands of
 * waiting months one visibility scan costs about a second on a small server, so the inbox's list
 * pages are served from the last scan while a newer one loads (at most `maxStaleMs` old), and
 * every approver's page costs the same few calls per `maxAgeMs`, not per request.
 */
export class SharedRefresh<T> {
  private value?: { at: number; data: T };
  private loading?: Promise<T>;

  constructor(
    private readonly load: () => Promise<T>,
    /** Served as it is while younger than this. */
    private readonly maxAgeMs: number,
    /** Older than maxAgeMs but younger than this: served while a fresh one loads in the background. */
    private readonly maxStaleMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<T> {
    const value = this.value;
    const age = value ? this.now() - value.at : Infinity;
    if (value && age < this.maxAgeMs) return value.data;
    if (value && age < this.maxStaleMs) {
      this.refresh().catch(() => undefined); // a failed refresh is seen by the next waiting caller
      return value.data;
    }
    return this.refresh();
  }

  /** Loads now (one load at a time: callers meanwhile share it). */
  refresh(): Promise<T> {
    this.loading ??= (async () => {
      const startedAt = this.now();
      try {
        const data = await this.load();
        this.value = { at: startedAt, data };
        return data;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /** Forgets the value: the next get() waits for a fresh one (after a decision changed it). */
  invalidate(): void {
    this.value = undefined;
  }
}
