/**
 * A first-come, first-served lock for async code in one process: `run(fn)` waits until every earlier holder has
 * finished, then runs `fn` alone. Used to keep one SQLite connection's transactions from interleaving
 * (hub/store/sqlite.ts).
 */
export class AsyncMutex {
  private held = false;
  private readonly waiting: (() => void)[] = [];

  /** Takes the lock if nobody holds it or waits for it; the caller must `release()` it. */
  tryAcquire(): boolean {
    if (this.held || this.waiting.length > 0) return false;
    this.held = true;
    return true;
  }

  /** Passes the lock to the next waiter, or frees it. */
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held = false;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.tryAcquire()) await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}
