import { AsyncResource } from 'node:async_hooks';

/**
 * Group commit for the hub's one SQLite write connection (issue 17: "the hub signs off thousands of intents a
 * second, with durability unchanged").
 *
 * With `synchronous=FULL` every COMMIT waits for an fsync of the WAL, and a signed request used to commit twice (its
 * nonce, then its intent with its audit row): measured on the 2-core machine, those fsyncs were half of the hub's
 * time per intent. Now writes share commits:
 * - The first write opens a group (BEGIN IMMEDIATE). Every unit of work that comes while the group is open joins it:
 *   a transaction inside a SAVEPOINT (its failure undoes only its own writes), a single statement as it is.
 * - The group commits once at the end of the event-loop turn in which it went idle (setImmediate), so the requests
 *   whose input arrived in the same turn share one fsync; sooner once it holds `maxMembers` units or is `maxAgeMs`
 *   old.
 * - Nobody sees a result before the COMMIT that covers it: every member's answer (a value or an error) is held until
 *   then. An acknowledged write is as durable as before, and a read made inside a group never reports what a failed
 *   COMMIT undid. If the COMMIT fails, every member of the group fails. The one exception is `runEarly`: its value
 *   comes at once and a separate promise settles with the COMMIT, for a caller that holds its own answer until
 *   then (a signed request's nonce).
 *
 * Reads outside a transaction do not come here when the store has a separate read connection (WAL: they see the
 * last committed state without waiting); where it has none (an in-memory database) they run at once when no group
 * is open, and join the group otherwise. Work that cannot run inside a transaction (a WAL checkpoint, closing the
 * connection) is `exclusive`: the open group commits first. The queue is first come, first served.
 */

/** What the batcher needs from the connection; every call is synchronous (better-sqlite3). */
export interface BatchConnection {
  /** BEGIN IMMEDIATE. */
  begin(): void;
  commit(): void;
  rollback(): void;
  savepoint(): void;
  release(): void;
  rollbackToSavepoint(): void;
  /** Whether SQLite still has the transaction open (some errors roll it back on their own). */
  inTransaction(): boolean;
  /** The error every held member gets when their group is lost (a failed COMMIT, an automatic rollback). */
  lostGroupError(cause: unknown): Error;
}

export interface BatchLimits {
  /** Units of work in one group at most. */
  maxMembers: number;
  /** A group stops taking new members this long after it began. */
  maxAgeMs: number;
}

/**
 * 64 units is about 16 requests' worth, the most the hub starts in one turn (hub/loop-turns.ts); 20 ms bounds what
 * the first member waits for the others when turns run long.
 */
export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxMembers: 64, maxAgeMs: 20 };

/** How a unit of work uses the connection. */
export type WorkKind =
  /** A transaction: a SAVEPOINT inside the open group, or the first member of a new one. */
  | 'transaction'
  /** One statement that writes: inside the open group, or the first member of a new one. */
  | 'write'
  /** One statement that only reads: at once (autocommit) when no group is open, else inside the group. */
  | 'read'
  /** Must run outside any transaction: the open group commits first. */
  | 'exclusive';

interface Waiter {
  kind: WorkKind;
  start: () => void;
}

interface Group {
  startedAt: number;
  members: number;
  /** The end-of-turn commit is scheduled. */
  scheduled: boolean;
  /** The scheduled commit came while a member ran: that member's end commits. */
  due: boolean;
  /** Answers held until the group's COMMIT (or its loss). */
  held: { settle: () => void; fail: (err: Error) => void }[];
}

export class CommitBatcher {
  #busy = false;
  readonly #waiting: Waiter[] = [];
  #group: Group | null = null;

  constructor(
    private readonly conn: BatchConnection,
    private readonly limits: BatchLimits = DEFAULT_BATCH_LIMITS,
    private readonly clock: () => number = () => performance.now(),
  ) {
    if (!(limits.maxMembers >= 1 && limits.maxAgeMs >= 0))
      throw new RangeError('batch limits: maxMembers ≥ 1, maxAgeMs ≥ 0');
  }

  /** Groups committed, and units of work they held (for tests and the bench). */
  readonly stats = { groups: 0, members: 0 };

  /** A read that can run now, outside any group: its value at once (no promise hop). */
  tryReadNow<T>(fn: () => T): { ran: true; value: T } | { ran: false } {
    if (this.#busy || this.#waiting.length > 0 || this.#group) return { ran: false };
    return { ran: true, value: fn() };
  }

  /** Runs `fn` in its turn; inside the open group if there is one (see the module comment). */
  run<T>(kind: WorkKind, fn: () => Promise<T> | T): Promise<T> {
    return new Promise<T>((resolve, reject) => this.#enqueue(kind, fn, resolve, reject, null));
  }

  /**
   * One write statement whose value is answered as soon as it ran, not at its COMMIT: later work on this connection
   * sees it at once, and `committed` settles with the COMMIT that covers it (rejects when that group is lost). The
   * caller must not let anyone outside see a result before `committed` resolved: the hub uses it for a signed
   * request's nonce, and holds the request's answer until then (hub/app.ts), so the request's own transaction
   * joins the same group instead of waiting for a commit of its own. `committed` never rejects unhandled.
   */
  runEarly<T>(fn: () => T): Promise<{ value: T; committed: Promise<void> }> {
    let commit!: { settle: () => void; fail: (err: Error) => void };
    const committed = new Promise<void>((settle, fail) => (commit = { settle, fail }));
    committed.catch(() => {}); // observed by the caller when it awaits; never an unhandled rejection
    return new Promise<{ value: T; committed: Promise<void> }>((resolve, reject) =>
      this.#enqueue('write', fn, (value) => resolve({ value, committed }), reject, commit),
    );
  }

  #enqueue<T>(
    kind: WorkKind,
    fn: () => Promise<T> | T,
    resolve: (value: T) => void,
    reject: (err: unknown) => void,
    early: Group['held'][number] | null,
  ): void {
    // In the caller's async context: a waiter is started from another member's continuation, and its work should
    // see its own request's AsyncLocalStorage values, not that member's (the store's transaction frame does not
    // depend on it: a transaction runs in a frame of its own). runInAsyncScope rather than AsyncResource.bind, which
    // also defines deprecated accessors on every bound function (1.4 % of the hub's CPU in bench/hub-throughput.mjs).
    const scope = new AsyncResource('CommitBatcher');
    const start = () => scope.runInAsyncScope(() => void this.#execute(kind, fn, resolve, reject, early));
    if (!this.#busy && this.#waiting.length === 0) {
      this.#busy = true;
      start();
    } else {
      this.#waiting.push({ kind, start });
    }
  }

  async #execute<T>(
    kind: WorkKind,
    fn: () => Promise<T> | T,
    resolve: (value: T) => void,
    reject: (err: unknown) => void,
    early: Group['held'][number] | null,
  ): Promise<void> {
    if (kind === 'exclusive' || (kind === 'read' && !this.#group)) {
      if (kind === 'exclusive' && this.#group) this.#commit(this.#group);
      try {
        resolve(await fn());
      } catch (err) {
        reject(err);
      }
      this.#next();
      return;
    }
    let group = this.#group;
    if (!group) {
      try {
        this.conn.begin();
      } catch (err) {
        reject(err);
        this.#next();
        return;
      }
      group = { startedAt: this.clock(), members: 0, scheduled: false, due: false, held: [] };
      this.#group = group;
    }
    group.members++;
    let outcome: { ok: true; value: T } | { ok: false; err: unknown };
    const isolated = kind === 'transaction';
    try {
      if (isolated) this.conn.savepoint();
      const value = await fn();
      if (isolated) this.conn.release();
      outcome = { ok: true, value };
    } catch (err) {
      outcome = { ok: false, err };
      if (isolated && this.conn.inTransaction()) {
        try {
          this.conn.rollbackToSavepoint();
          this.conn.release();
        } catch (undoErr) {
          // The savepoint could not be undone: the group cannot be trusted, so it is rolled back whole below.
          this.#loseGroup(group, undoErr);
        }
      }
    }
    if (this.#group === group && !this.conn.inTransaction()) {
      // SQLite rolled the whole transaction back on its own (e.g. SQLITE_FULL): earlier members' writes are gone.
      this.#loseGroup(group, outcome.ok ? new Error('the transaction was rolled back') : outcome.err);
    }
    if (this.#group === group && early && outcome.ok) {
      resolve(outcome.value);
      group.held.push(early);
    } else if (this.#group === group) {
      group.held.push(
        outcome.ok
          ? { settle: () => resolve(outcome.value), fail: (e) => reject(e) }
          : { settle: () => reject(outcome.err), fail: () => reject(outcome.err) },
      );
    } else if (outcome.ok) {
      reject(this.conn.lostGroupError(new Error('the group this write belonged to was rolled back')));
    } else {
      reject(outcome.err);
    }
    if (this.#group === group) {
      const next = this.#waiting[0];
      const full =
        group.due || group.members >= this.limits.maxMembers || this.clock() - group.startedAt >= this.limits.maxAgeMs;
      if (full || next?.kind === 'exclusive') this.#commit(group);
      else if (next === undefined) this.#scheduleCommit(group);
    }
    this.#next();
  }

  /** Commits at the end of this turn of the event loop, after the I/O that arrived in it joined. */
  #scheduleCommit(group: Group): void {
    if (group.scheduled) return;
    group.scheduled = true;
    setImmediate(() => {
      if (this.#group !== group) return; // already committed (full) or lost
      if (this.#busy) {
        group.due = true; // a member runs (awaiting something): its end commits
        return;
      }
      this.#busy = true;
      this.#commit(group);
      this.#next();
    });
  }

  /** COMMIT, then every held answer; a failed COMMIT fails them all. */
  #commit(group: Group): void {
    this.#group = null;
    try {
      this.conn.commit();
    } catch (err) {
      this.#loseGroup(group, err);
      return;
    }
    this.stats.groups++;
    this.stats.members += group.members;
    for (const h of group.held) h.settle();
  }

  /** The group is gone (rolled back): fail what it held; later members start a new one. */
  #loseGroup(group: Group, cause: unknown): void {
    this.#group = null;
    if (this.conn.inTransaction()) {
      try {
        this.conn.rollback();
      } catch {
        // nothing more to undo with
      }
    }
    const lost = this.conn.lostGroupError(cause);
    for (const h of group.held) h.fail(lost);
    group.held = [];
  }

  #next(): void {
    const next = this.#waiting.shift();
    if (next) next.start();
    else this.#busy = false;
  }
}
