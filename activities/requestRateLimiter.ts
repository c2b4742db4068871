/**
 * Keeps one tenant's gateway calls inside its quota (requests per any sliding second), so the
 * cloud never has to answer 4290. Callers await `acquire()` right before each request; waiting
 * callers are served in order. A small margin absorbs the difference between our clock and the
 * moment the cloud counts the request.
 */
export class RequestRateLimiter {
  private readonly sent: number[] = [];
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly requestsPerSecond: number,
    private readonly now: () => number = Date.now,
    private readonly marginMs = 25,
  ) {
    if (!Number.isInteger(requestsPerSecond) || requestsPerSecond < 1) {
      throw new RangeError(`requestsPerSecond must be a positive integer, got ${requestsPerSecond}`);
    }
  }

  acquire(): Promise<void> {
    const turn = this.queue.then(() => this.waitForSlot());
    this.queue = turn;
    return turn;
  }

  private async waitForSlot(): Promise<void> {
    for (;;) {
      const now = this.now();
      while (this.sent.length > 0 && now - this.sent[0]! >= 1000 + this.marginMs) this.sent.shift();
      if (this.sent.length < this.requestsPerSecond) {
        this.sent.push(now);
        return;
      }
      const waitMs = this.sent[0]! + 1000 + this.marginMs - now;
      await new Promise((resolve) => setTimeout(resolve, Math.max(1, waitMs)));
    }
  }
}
