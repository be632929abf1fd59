import type { HubStore } from './store/port';

/**
 * In-process pub/sub for live updates (GET /v1/events). Routes publish the account whose intent list changed, after
 * their transaction committed; subscribers (one per open event stream) re-read the list themselves, so an event
 * carries no data and a lost or coalesced event never shows stale state. The hub is one process, so nothing more
 * is needed; a multi-process hub would put a broker behind the same two methods.
 */
export type IntentEvent = 'changed' | 'closing';

export class IntentEvents {
  private readonly listeners = new Map<string, Set<(event: IntentEvent) => void>>();

  /**
   * Calls `listener('changed')` on every change for `accountId`, and `listener('closing')` once when the hub shuts
   * down (the stream should end then). Returns the unsubscribe function.
   */
  subscribe(accountId: string, listener: (event: IntentEvent) => void): () => void {
    let set = this.listeners.get(accountId);
    if (!set) this.listeners.set(accountId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(accountId) === set) this.listeners.delete(accountId);
    };
  }

  /** Tells every subscriber of these accounts that their intents changed. A throwing listener cannot stop the rest. */
  publish(...accountIds: string[]): void {
    for (const accountId of new Set(accountIds)) this.notify(accountId, 'changed');
  }

  /** Asks every open stream to end (server shutdown), so closing the server need not wait for them. */
  shutdown(): void {
    for (const accountId of [...this.listeners.keys()]) this.notify(accountId, 'closing');
  }

  private notify(accountId: string, event: IntentEvent): void {
    for (const listener of [...(this.listeners.get(accountId) ?? [])]) {
      try {
        listener(event);
      } catch {
        // A subscriber's failure is its own (its stream closes); publishers must not fail after a commit.
      }
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
  if (!bus) byStore.set(store, (bus = new IntentEvents()));
  return bus;
}
