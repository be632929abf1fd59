import type { ChangeFeed, HubStore } from './store/port';

/**
 * Pub/sub for live updates (GET /v1/events, GET /v1/watch/events, held long polls). Routes publish, after
 * their transaction committed, which intents of which account changed; subscribers re-read what they need from the
 * store (streams: the audit log since their cursor, hub/routes/account-stream.ts; a long poll: its one intent), so a
 * lost or coalesced notice never shows stale state, it only delays. Notices are plain JSON (`IntentChange`) so a
 * relay carries them between hub processes sharing one database: the store's ChangeFeed (PostgreSQL
 * LISTEN/NOTIFY) relays publish and closeHolder to the others, so a device streaming from one process hears an intent
 * created through another; after the feed reconnects every subscriber re-reads (resync).
 */
export type IntentEvent = 'changed' | 'closing';

/** One account's changed intents, as published after a commit. JSON only: it may cross process boundaries. */
export interface IntentChange {
  accountId: string;
  /** The intents whose state changed (created, decided, executed, expired). Empty: "something in the account". */
  intentIds: string[];
}

/** Most open event streams (GET /v1/events) one signing key may hold; a new one closes its oldest (see subscribe). */
export const MAX_STREAMS_PER_KEY = 4;
/** Most held long polls (GET /v1/intents/:id?wait=N) one signing key may hold at once. */
export const MAX_POLLS_PER_KEY = 8;

/** Who holds a subscription: the signing key (`device:<key id>` or `agent:<agent id>`) and what it is for. */
export interface Holder {
  key: string;
  kind: 'stream' | 'poll';
}

type Listener = (event: IntentEvent) => void;

export class IntentEvents {
  constructor(private readonly feed?: ChangeFeed) {
    feed?.subscribe((notice) => {
      if (notice === 'resync') this.resync();
      else if (notice.kind === 'changed') this.deliver(notice.changes);
      else this.closeLocal(notice.key);
    });
  }

  /** Resolves once changes made by other processes on the same database reach this bus (immediately without one). */
  ready(): Promise<void> {
    return this.feed?.ready() ?? Promise.resolve();
  }

  private relay(notice: Parameters<ChangeFeed['publish']>[0]): void {
    // Best effort, after the commit: a lost notice delays another process's stream until its next change or
    // resync; it never changes stored state. Long polls and streams also re-read on their own timers.
    this.feed?.publish(notice).catch(() => {});
  }

  /** Per account, each listener with the one intent it waits for (a held poll) or null (a stream: every change). */
  private readonly listeners = new Map<string, Map<Listener, string | null>>();
  /** Per holder key and kind, its listeners oldest first: removal closes them, the cap evicts the oldest. */
  private readonly held = new Map<string, Set<Listener>>();

  /**
   * Calls `listener('changed')` on every change for `accountId` (with `intentId`: only on a change of that intent,
   * so a held poll is not woken by its account's other traffic: issue 16), and `listener('closing')` once when the
   * hub shuts down, when the holder's key is removed or revoked (closeHolder), or when the holder opens more than
   * its cap (MAX_STREAMS_PER_KEY / MAX_POLLS_PER_KEY): then its OLDEST subscription is closed, not the new one. A
   * client whose connection died without the hub noticing reconnects and gets its stream back instead of a refusal;
   * a key holder flooding the hub only ever holds the cap, and the closed ones simply end (a stream ends, a poll
   * answers the current state). Returns the unsubscribe function.
   */
  subscribe(accountId: string, listener: Listener, holder?: Holder, intentId?: string): () => void {
    let mine = this.listeners.get(accountId);
    if (!mine) this.listeners.set(accountId, (mine = new Map<Listener, string | null>()));
    mine.set(listener, intentId ?? null);
    const heldKey = holder && `${holder.kind}:${holder.key}`;
    if (holder && heldKey) {
      let held = this.held.get(heldKey);
      if (!held) this.held.set(heldKey, (held = new Set()));
      held.add(listener);
      const cap = holder.kind === 'stream' ? MAX_STREAMS_PER_KEY : MAX_POLLS_PER_KEY;
      while (held.size > cap) {
        const oldest = held.values().next().value!;
        held.delete(oldest);
        this.call(oldest, 'closing');
      }
    }
    return () => {
      mine.delete(listener);
      if (mine.size === 0 && this.listeners.get(accountId) === mine) this.listeners.delete(accountId);
      if (heldKey) {
        const held = this.held.get(heldKey);
        held?.delete(listener);
        if (held && held.size === 0) this.held.delete(heldKey);
      }
    };
  }

  /**
   * Ends at once every stream and held poll of one signing key (`device:<id>` when a device is removed,
   * `agent:<id>` when its installation is revoked): they must not outlive the key's authority.
   */
  closeHolder(key: string): void {
    this.closeLocal(key);
    this.relay({ kind: 'close_holder', key });
  }

  private closeLocal(key: string): void {
    for (const kind of ['stream', 'poll'] as const) {
      const held = this.held.get(`${kind}:${key}`);
      if (!held) continue;
      this.held.delete(`${kind}:${key}`);
      for (const listener of [...held]) this.call(listener, 'closing');
    }
  }

  /** Open streams or polls of one holder key (tests and diagnostics). */
  heldCount(key: string, kind: Holder['kind']): number {
    return this.held.get(`${kind}:${key}`)?.size ?? 0;
  }

  /**
   * Tells the subscribers of each account that these intents changed: every stream of the account, and the held
   * polls waiting for one of them. A change with no intent ids wakes every subscriber of the account. A throwing
   * listener cannot stop the rest.
   */
  publish(...changes: IntentChange[]): void {
    this.deliver(changes);
    if (changes.length > 0) this.relay({ kind: 'changed', changes });
  }

  /** Wakes this process's subscribers for `changes` (published here, or relayed from another process). */
  private deliver(changes: IntentChange[]): void {
    const byAccount = new Map<string, Set<string> | 'all'>();
    for (const { accountId, intentIds } of changes) {
      const known = byAccount.get(accountId);
      if (known === 'all') continue;
      if (intentIds.length === 0) byAccount.set(accountId, 'all');
      else byAccount.set(accountId, new Set([...(known ?? []), ...intentIds]));
    }
    for (const [accountId, ids] of byAccount) {
      for (const [listener, only] of [...(this.listeners.get(accountId) ?? [])]) {
        if (only === null || ids === 'all' || ids.has(only)) this.call(listener, 'changed');
      }
    }
  }

  /**
   * Notices may have been lost (a relay between hub processes reconnected): every subscriber of every account hears
   * `changed` and re-reads (streams from their audit position, polls their intent), so nothing stays stale.
   */
  resync(): void {
    for (const mine of [...this.listeners.values()])
      for (const listener of [...mine.keys()]) this.call(listener, 'changed');
  }

  /** Asks every open stream to end (server shutdown), so closing the server need not wait for them. */
  shutdown(): void {
    for (const mine of [...this.listeners.values()])
      for (const listener of [...mine.keys()]) this.call(listener, 'closing');
  }

  private call(listener: Listener, event: IntentEvent): void {
    try {
      listener(event);
    } catch {
      // A subscriber's failure is its own (its stream closes); publishers must not fail after a commit.
    }
  }

  /** Open subscriptions (tests and diagnostics). */
  subscriberCount(accountId?: string): number {
    if (accountId !== undefined) return this.listeners.get(accountId)?.size ?? 0;
    let n = 0;
    for (const mine of this.listeners.values()) n += mine.size;
    return n;
  }
}

/** Groups changed intents by account for publish(): `[accountId, intentId]` pairs in, one IntentChange per account out. */
export function changesByAccount(pairs: Iterable<readonly [string, string]>): IntentChange[] {
  const out = new Map<string, Set<string>>();
  for (const [accountId, intentId] of pairs) {
    let ids = out.get(accountId);
    if (!ids) out.set(accountId, (ids = new Set()));
    ids.add(intentId);
  }
  return [...out].map(([accountId, intentIds]) => ({ accountId, intentIds: [...intentIds] }));
}

const byStore = new WeakMap<HubStore, IntentEvents>();

/**
 * The event bus of the hub that owns `store`. Keyed by the store because one store is one hub: the routes and the
 * expiry sweep in server.ts reach the same bus without threading it through the app's dependencies.
 */
export function intentEvents(store: HubStore): IntentEvents {
  let bus = byStore.get(store);
  if (!bus) byStore.set(store, (bus = new IntentEvents(store.changeFeed)));
  return bus;
}
