/**
 * At most `slots` holders at once in one process; waiters are served first-come, first-served, except that those
 * finishing work in progress go before those starting new work. Used by the PostgreSQL store (hub/store/postgres.ts)
 * so a process keeps at most two transactions queued for the database's one transaction lock, and a decision or an
 * execute is not queued behind a backlog of intent creations (issue 16: approve→agent p95 ≤ 1 s at 1,000 agents).
 */
export class PriorityGate {
  private held = 0;
  private readonly finishing: (() => void)[] = [];
  private readonly starting: (() => void)[] = [];

  constructor(private readonly slots: number) {
    if (!Number.isInteger(slots) || slots < 1) throw new RangeError('PriorityGate: slots must be an integer ≥ 1');
  }

  /** Runs `fn` once a slot is free and no waiter of its class or a higher one came first. */
  async run<T>(newWork: boolean, fn: () => Promise<T>): Promise<T> {
    if (this.held < this.slots && this.finishing.length === 0 && this.starting.length === 0) this.held++;
    else await new Promise<void>((resolve) => (newWork ? this.starting : this.finishing).push(resolve));
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next waiter (held stays the same), so nobody overtakes the queues.
      const next = this.finishing.shift() ?? this.starting.shift();
      if (next) next();
      else this.held--;
    }
  }

  /** Holders and waiters now (tests). */
  get load(): { held: number; finishing: number; starting: number } {
    return { held: this.held, finishing: this.finishing.length, starting: this.starting.length };
  }
}
