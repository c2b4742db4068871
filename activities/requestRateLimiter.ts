/**
 * Keeps one tenant's gateway calls inside its quota of Q requests per second, so the cloud never
 * has to answer 4290, however late each request reaches it.
 *
 * A request holds its slot from the moment it is sent until one second after its reply arrived.
 * The cloud counts a request somewhere between those two moments, so any Q+1 requests it counts
 * lie more than a second apart: the quota holds whatever the delays on the way (the sliding
 * window on send times alone let requests that were delayed differently land in one second).
 */
export class RequestRateLimiter {
  /** When each finished request's slot frees again (its reply time + 1 s), oldest first. */
  private readonly freesAt: number[] = [];
  private inFlight = 0;
  private waiters = 0;
  private queue: Promise<void> = Promise.resolve();
  private wakeUp?: () => void;
  private readonly listeners = new Set<() => void>();

  /**
   * `notBefore`: no slot is granted before this time. A worker process passes one second after
   * its own start: a process that replaces one that just died cannot know what its predecessor
   * sent in its last second, and this way its share of the quota is never used twice
   * (docs/fleet-quota.md).
   */
  constructor(
    private readonly requestsPerSecond: number,
    private readonly now: () => number = Date.now,
    private readonly notBefore = 0,
  ) {
    if (!Number.isInteger(requestsPerSecond) || requestsPerSecond < 1) {
      throw new RangeError(`requestsPerSecond must be a positive integer, got ${requestsPerSecond}`);
    }
  }

  /**
   * Waits for a slot (callers are served in order); call the returned `release` when the reply
   * arrived. An aborted `signal` (an activity's cancellation) ends the wait at once with the
   * signal's reason; the caller takes no slot and leaves the line to the next one.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    this.waiters++;
    const turn = this.queue.then(() => this.waitForSlot(signal));
    const leaveLine = () => {
      this.waiters--;
      this.notify();
    };
    turn.then(leaveLine, leaveLine);
    this.queue = turn.then(
      () => undefined,
      () => undefined,
    );
    if (!signal) return turn.then((slot) => slot.release);
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      turn.then(
        (slot) => {
          signal.removeEventListener('abort', onAbort);
          // Aborted as the slot came free: hand it back unused.
          if (signal.aborted) slot.unused();
          else resolve(slot.release);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  /** Callers waiting for a slot: the requests this process has to send beyond its share now. */
  get backlog(): number {
    return this.waiters;
  }

  /** The share: requests this process may have counted within any one second. */
  get share(): number {
    return this.requestsPerSecond;
  }

  /**
   * Requests this process could send at once without waiting: the share less the requests in
   * flight, the slots still held for a second after their replies, and the callers already waiting.
   */
  get spare(): number {
    const now = this.now();
    if (now < this.notBefore) return 0;
    const held = this.freesAt.filter((t) => t > now).length;
    return Math.max(0, this.requestsPerSecond - this.inFlight - held - this.waiters);
  }

  /**
   * Resolves at the next change that can alter `spare`: a caller leaving the line, a request
   * finishing or handed back, or a held slot coming free; rejects with the signal's reason if it
   * is aborted first.
   */
  nextChange(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const now = this.now();
      const nextFree = [this.notBefore, ...this.freesAt].filter((t) => t > now);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stop = () => {
        clearTimeout(timer);
        this.listeners.delete(done);
        signal?.removeEventListener('abort', onAbort);
      };
      const done = () => {
        stop();
        resolve();
      };
      const onAbort = () => {
        stop();
        reject(signal!.reason);
      };
      if (signal?.aborted) return onAbort();
      if (nextFree.length > 0) timer = setTimeout(done, Math.max(1, Math.min(...nextFree) - now));
      this.listeners.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private async waitForSlot(signal?: AbortSignal): Promise<{ release: () => void; unused: () => void }> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.now();
      while (this.freesAt.length > 0 && this.freesAt[0]! <= now) this.freesAt.shift();
      if (now >= this.notBefore && this.inFlight + this.freesAt.length < this.requestsPerSecond) {
        this.inFlight++;
        let done = false;
        const finish = (sent: boolean) => {
          if (done) return;
          done = true;
          this.inFlight--;
          if (sent) this.freesAt.push(this.now() + 1000);
          this.wakeUp?.();
          this.notify();
        };
        return { release: () => finish(true), unused: () => finish(false) };
      }
      // Wait until the oldest finished slot frees, or a request in flight finishes, or the caller gives up.
      await new Promise<void>((resolve, reject) => {
        const waitMs =
          now < this.notBefore ? this.notBefore - now : this.freesAt.length > 0 ? this.freesAt[0]! - now : 1000;
        const timer = setTimeout(wake, Math.max(1, waitMs));
        const onAbort = () => {
          clearTimeout(timer);
          this.wakeUp = undefined;
          reject(signal!.reason);
        };
        function wake() {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }
        this.wakeUp = wake;
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      this.wakeUp = undefined;
    }
  }
}
