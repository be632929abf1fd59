import { HubError } from './errors';

/**
 * Admission for new work (issue 16: "throughput must not fall as agents are added, approve→agent p95 ≤ 1 s"). At
 * most `concurrency` intent creations of this process run at once; the next ones wait in arrival order (FIFO), so
 * a thousand agents asking at once are served in turn instead of all sharing the CPU and, on PostgreSQL, the one
 * transaction lock. What is already in progress (a decision, an execute, a long poll waking) is never queued here,
 * so the human's click reaches the agent ahead of the backlog of new requests. A creation that would wait beyond
 * `maxQueued` others or longer than `maxWaitMs` is refused `hub_busy` (503) with Retry-After, before anything of it
 * was stored: the agent may send it again as it is.
 */
export interface AdmissionLimits {
  /** Creations running at once in this process. */
  concurrency: number;
  /** Creations waiting at most; one more is refused at once. */
  maxQueued: number;
  /** Longest wait for a turn; then it is refused. */
  maxWaitMs: number;
}

/**
 * Measured with bench/hub-load.mjs on the 2-core machine: 4 at once keep the store busy (a creation is a few
 * milliseconds of transaction) while the transaction lock's queue stays short enough for decisions to pass within
 * well under a second. Up to 30 s of waiting: a refused creation costs a second signature check, nonce and budget
 * when it comes back (1,000 agents on 3 instances waited ~10 s each, and a 10 s limit refused 1,011 of them), and
 * 30 s stays under the 60 s idle timeout common reverse proxies apply (nginx proxy_read_timeout).
 */
export const DEFAULT_ADMISSION: AdmissionLimits = { concurrency: 4, maxQueued: 4096, maxWaitMs: 30_000 };

/**
 * SQLite (one process, group commit: hub/store/commit-batch.ts): creations admitted together share one fsync, so
 * up to 16 run at once, the most requests one turn of the event loop starts (hub/app.ts REQUESTS_PER_TURN). The
 * store's queue is first come, first served: a decision waits at most for the group in progress. Measured with
 * bench/hub-throughput.mjs (docs/performance.md).
 */
export const SQLITE_ADMISSION: AdmissionLimits = { ...DEFAULT_ADMISSION, concurrency: 16 };

/** The admission limits for a store engine. */
export function admissionFor(engine: 'sqlite' | 'postgres'): AdmissionLimits {
  return engine === 'sqlite' ? SQLITE_ADMISSION : DEFAULT_ADMISSION;
}

/** Seconds an agent refused `hub_busy` is asked to wait before sending its creation again. */
export const BUSY_RETRY_AFTER_SECONDS = 1;

interface Waiter {
  admit: () => void;
  timer: ReturnType<typeof setTimeout>;
}

export class IntentAdmission {
  readonly #limits: AdmissionLimits;
  #running = 0;
  readonly #queue: Waiter[] = [];

  constructor(limits: AdmissionLimits = DEFAULT_ADMISSION) {
    if (!(limits.concurrency >= 1 && limits.maxQueued >= 0 && limits.maxWaitMs >= 0))
      throw new RangeError('admission limits: concurrency ≥ 1, maxQueued ≥ 0, maxWaitMs ≥ 0');
    this.#limits = limits;
  }

  /** Creations running now, and waiting (for tests and the health of a run). */
  get load(): { running: number; queued: number } {
    return { running: this.#running, queued: this.#queue.length };
  }

  /**
   * Runs `work` in its turn and frees the turn when it settles (also on a throw).
   * @throws HubError `hub_busy` when the queue is full or the wait ran out; whatever `work` throws.
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.#enter();
    try {
      return await work();
    } finally {
      this.#leave();
    }
  }

  #enter(): Promise<void> {
    if (this.#running < this.#limits.concurrency && this.#queue.length === 0) {
      this.#running++;
      return Promise.resolve();
    }
    if (this.#queue.length >= this.#limits.maxQueued) return Promise.reject(busy());
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        admit: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: setTimeout(() => {
          const at = this.#queue.indexOf(waiter);
          if (at >= 0) this.#queue.splice(at, 1);
          reject(busy());
        }, this.#limits.maxWaitMs),
      };
      this.#queue.push(waiter);
    });
  }

  #leave(): void {
    const next = this.#queue.shift();
    // The turn passes straight to the next waiter (running stays the same), so nobody can overtake the queue.
    if (next) next.admit();
    else this.#running--;
  }
}

function busy(): HubError {
  return new HubError('hub_busy', 'The hub is busy with other requests. Send this one again after Retry-After.', {
    headers: { 'Retry-After': String(BUSY_RETRY_AFTER_SECONDS) },
  });
}
