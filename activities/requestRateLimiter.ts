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
  private queue: Promise<void> = Promise.resolve();
  private wakeUp?: () => void;

  constructor(
    private readonly requestsPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(requestsPerSecond) || requestsPerSecond < 1) {
      throw new RangeError(`requestsPerSecond must be a positive integer, got ${requestsPerSecond}`);
    }
  }

  /** Waits for a slot (callers are served in order); call the returned `release` when the reply arrived. */
  acquire(): Promise<() => void> {
    const turn = this.queue.then(() => this.waitForSlot());
    this.queue = turn.then(() => undefined);
    return turn;
  }

  private async waitForSlot(): Promise<() => void> {
    for (;;) {
      const now = this.now();
      while (this.freesAt.length > 0 && this.freesAt[0]! <= now) this.freesAt.shift();
      if (this.inFlight + this.freesAt.length < this.requestsPerSecond) {
        this.inFlight++;
        let released = false;
        return () => {
          if (released) return;
          released = true;
          this.inFlight--;
          this.freesAt.push(this.now() + 1000);
          this.wakeUp?.();
        };
      }
      // Wait until the oldest finished slot frees, or a request in flight finishes.
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        const waitMs = this.freesAt.length > 0 ? this.freesAt[0]! - now : 1000;
        setTimeout(resolve, Math.max(1, waitMs));
      });
      this.wakeUp = undefined;
    }
  }
}
