import { setImmediate } from 'node:timers';

/**
 * At most `perTurn` requests start their work in one turn of the event loop; the rest start in the next turns, in
 * arrival order. Why: since libuv 1.45 (libuv/libuv#3696, Node 20) a listening socket accepts ONE connection per
 * turn. On SQLite every statement is synchronous, so a saturated hub ran each turn over all ~900 requests that had
 * arrived meanwhile: turns of 5–10 s, one connection accepted per turn, and a device's request on a new connection
 * waited up to 63 s in the listen queue before a byte of it was read (answered auth_stale; bench/hub-load.mjs,
 * 1,000 agents). Bounded turns keep accepting and reading sockets while the backlog is worked off. The work done per
 * second is the same; only the order of its slices changes.
 */
export class LoopTurns {
  #startedThisTurn = 0;
  #turnEnds = false;
  /** Waiting requests that finish work in progress (decisions, executes, reads), served first; then new work. */
  readonly #finishing: (() => void)[] = [];
  readonly #starting: (() => void)[] = [];

  constructor(private readonly perTurn: number) {
    if (!Number.isInteger(perTurn) || perTurn < 1) throw new RangeError('LoopTurns: perTurn must be an integer ≥ 1');
  }

  /**
   * Resolves when this request may start: at once while the turn has room and nobody waits, else in a later turn.
   * `newWork` (an intent's creation) waits behind everything else that waits, so a backlog of new requests does not
   * delay a human's decision or an agent's execute.
   */
  take(newWork = false): Promise<void> {
    this.#scheduleTurnEnd();
    if (this.#startedThisTurn < this.perTurn && this.waiting === 0) {
      this.#startedThisTurn++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => (newWork ? this.#starting : this.#finishing).push(resolve));
  }

  /** Requests waiting for a later turn (tests). */
  get waiting(): number {
    return this.#finishing.length + this.#starting.length;
  }

  #scheduleTurnEnd(): void {
    if (this.#turnEnds) return;
    this.#turnEnds = true;
    // setImmediate runs after this turn's I/O callbacks: the next turn starts with a fresh allowance, given first to
    // those waiting, oldest first. Node's own (from node:timers), so a test's fake timers cannot stop the turns.
    setImmediate(() => {
      this.#turnEnds = false;
      this.#startedThisTurn = 0;
      while (this.#startedThisTurn < this.perTurn && this.waiting > 0) {
        this.#startedThisTurn++;
        (this.#finishing.shift() ?? this.#starting.shift())!();
      }
      if (this.waiting > 0) this.#scheduleTurnEnd();
    });
  }
}
