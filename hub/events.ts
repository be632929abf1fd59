import type { ChangeFeed, HubStore } from './store/port';

/**
 * Pub/sub for live updates (GET /v1/events, held long polls). Routes publish the account whose intent list changed,
 * after their transaction committed; subscribers (one per open event stream) re-read the list themselves, so an
 * event carries no data and a lost or coalesced event never shows stale state. When several hub processes share a
 * database (PostgreSQL), the store's ChangeFeed relays publish and closeHolder to the others (LISTEN/NOTIFY), so a
 * device streaming from one process hears an intent created through another; after the feed reconnects every
 * subscriber is told 'changed' (a notice may have been missed).
 */
export type IntentEvent = 'changed' | 'closing';

/** Most open event streams (GET /v1/events) one signing key may hold; a new one closes its oldest (see subscribe). */
export const MAX_STREAMS_PER_KEY = 4;
/** Most held long polls (GET /v1/intents/:id?wait=N) one signing key may hold at once. */
export const MAX_POLLS_PER_KEY = 8;

/** Who holds a subscription: the signing key (`device:<key id>` or `agent:<agent id>`) and what it is for. */
export interface Holder {
  key: string;
  kind: 'stream' | 'poll';
}

export class IntentEvents {
  constructor(private readonly feed?: ChangeFeed) {
    feed?.subscribe((notice) => {
      if (notice === 'resync') for (const accountId of [...this.listeners.keys()]) this.notify(accountId, 'changed');
      else if (notice.kind === 'changed')
        for (const accountId of new Set(notice.accountIds)) this.notify(accountId, 'changed');
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

  private readonly listeners = new Map<string, Set<(event: IntentEvent) => void>>();
  /** Per holder key and kind, its listeners oldest first: removal closes them, the cap evicts the oldest. */
  private readonly held = new Map<string, Set<(event: IntentEvent) => void>>();

  /**
   * Calls `listener('changed')` on every change for `accountId`, and `listener('closing')` once when the hub shuts
   * down, when the holder's key is removed or revoked (closeHolder), or when the holder opens more than its cap
   * (MAX_STREAMS_PER_KEY / MAX_POLLS_PER_KEY): then its OLDEST subscription is closed, not the new one. A client
   * whose connection died without the hub noticing reconnects and gets its stream back instead of a refusal; a
   * key holder flooding the hub only ever holds the cap, and the closed ones simply end (a stream ends, a poll
   * answers the current state). Returns the unsubscribe function.
   */
  subscribe(accountId: string, listener: (event: IntentEvent) => void, holder?: Holder): () => void {
    let set = this.listeners.get(accountId);
    if (!set) this.listeners.set(accountId, (set = new Set()));
    set.add(listener);
    const heldKey = holder && `${holder.kind}:${holder.key}`;
    if (holder && heldKey) {
      let mine = this.held.get(heldKey);
      if (!mine) this.held.set(heldKey, (mine = new Set()));
      mine.add(listener);
      const cap = holder.kind === 'stream' ? MAX_STREAMS_PER_KEY : MAX_POLLS_PER_KEY;
      while (mine.size > cap) {
        const oldest = mine.values().next().value!;
        mine.delete(oldest);
        this.call(oldest, 'closing');
      }
    }
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(accountId) === set) this.listeners.delete(accountId);
      if (heldKey) {
        const mine = this.held.get(heldKey);
        mine?.delete(listener);
        if (mine && mine.size === 0) this.held.delete(heldKey);
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
      const mine = this.held.get(`${kind}:${key}`);
      if (!mine) continue;
      this.held.delete(`${kind}:${key}`);
      for (const listener of [...mine]) this.call(listener, 'closing');
    }
  }

  /** Open streams or polls of one holder key (tests and diagnostics). */
  heldCount(key: string, kind: Holder['kind']): number {
    return this.held.get(`${kind}:${key}`)?.size ?? 0;
  }

  /** Tells every subscriber of these accounts that their intents changed. A throwing listener cannot stop the rest. */
  publish(...accountIds: string[]): void {
    for (const accountId of new Set(accountIds)) this.notify(accountId, 'changed');
    if (accountIds.length > 0) this.relay({ kind: 'changed', accountIds });
  }

  /** Asks every open stream to end (server shutdown), so closing the server need not wait for them. */
  shutdown(): void {
    for (const accountId of [...this.listeners.keys()]) this.notify(accountId, 'closing');
  }

  private notify(accountId: string, event: IntentEvent): void {
    for (const listener of [...(this.listeners.get(accountId) ?? [])]) this.call(listener, event);
  }

  private call(listener: (event: IntentEvent) => void, event: IntentEvent): void {
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
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
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
