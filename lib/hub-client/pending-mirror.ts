import * as v from 'valibot';
import {
  ChangesEventSchema,
  EVENT_CHANGES,
  EVENT_SNAPSHOT,
  EVENT_SNAPSHOT_MORE,
  EVENT_WATCH,
  EVENT_WATCH_CHANGES,
  resumableEventId,
  SnapshotEventSchema,
  WatchChangesEventSchema,
} from '../protocol/intent-events-wire';
import { parseStrictJson } from '../protocol/strict-json';
import type { Intent } from '../protocol/wire';
import { WatchSnapshotSchema, type WatchSnapshot } from '../protocol/watch-wire';
import { HubClientError } from './errors';
import type { SseEvent } from './sse';

/**
 * The client's copy of the hub's pending list, kept from GET /v1/events (docs/protocol.md §9): a snapshot arriving in
 * pages (`intents`, then `intents-more` while `more`), then diffs (`changes`). `resumeId` is the id of the last event
 * after which this copy was complete: sent as `Last-Event-ID` on the next connection, the hub answers with the
 * changes since instead of the whole list (issue 16). A diff always carries the hub's current state of what it
 * names, so it applies to any copy at least as new as its position, also one a poll refreshed meanwhile.
 */
export class PendingMirror {
  private current = new Map<string, Intent>();
  /** A snapshot being received; replaces `current` once its last page arrived. */
  private staged: Map<string, Intent> | null = null;
  /** The id to resume from, or null (the next connection gets a snapshot). */
  resumeId: string | null = null;

  /** The pending intents, oldest first (insertion order of the snapshot, then diffs). */
  get intents(): Intent[] {
    return [...this.current.values()];
  }

  /**
   * Applies one event of GET /v1/events. Returns the whole list when it changed (a completed snapshot or a diff),
   * null otherwise (a snapshot page with more to come, an event of another name).
   * @throws HubClientError `hub_bad_response` for a malformed event, or a page or diff out of order.
   */
  apply(event: SseEvent): Intent[] | null {
    switch (event.event) {
      case EVENT_SNAPSHOT:
      case EVENT_SNAPSHOT_MORE: {
        const page = parseEvent(SnapshotEventSchema, event.data, 'intents event');
        if (event.event === EVENT_SNAPSHOT) this.staged = new Map();
        else if (!this.staged) throw outOfOrder();
        for (const intent of page.intents) this.staged.set(intent.intent_id, intent);
        if (page.more) return null;
        this.current = this.staged;
        this.staged = null;
        this.resumeId = resumableEventId(event.id) === null ? null : event.id;
        return this.intents;
      }
      case EVENT_CHANGES: {
        const diff = parseEvent(ChangesEventSchema, event.data, 'changes event');
        if (this.staged) throw outOfOrder();
        for (const id of diff.removed) this.current.delete(id);
        for (const intent of diff.intents) this.current.set(intent.intent_id, intent);
        this.resumeId = resumableEventId(event.id) === null ? null : event.id;
        return this.intents;
      }
      default:
        return null;
    }
  }

  /** A poll's answer (the whole list, at least as new as the last event): replaces the copy, keeps resumeId. */
  replace(intents: readonly Intent[]): void {
    this.current = new Map(intents.map((i) => [i.intent_id, i]));
    this.staged = null;
  }

  /** A connection ended: a snapshot cut off mid-way is dropped (the next connection starts a new one). */
  disconnected(): void {
    this.staged = null;
  }

  /** Forgets everything (lock, another hub). */
  reset(): void {
    this.current.clear();
    this.staged = null;
    this.resumeId = null;
  }
}

/**
 * The locked watcher's copy (GET /v1/watch/events): the ids from `watch` snapshots and `watch-changes` diffs, and
 * the count. A diff's `removed` names only ids that were pending at its position, so the count stays exact; after a
 * poll (GET /v1/watch) the position is unknown and the next connection asks for a snapshot.
 */
export class WatchMirror {
  private ids = new Set<string>();
  private count = 0;
  resumeId: string | null = null;

  get snapshot(): WatchSnapshot {
    return { pending: this.count, intent_ids: [...this.ids] };
  }

  /**
   * Applies one event; returns the new state when it changed, else null.
   * @throws HubClientError `hub_bad_response` for a malformed event.
   */
  apply(event: SseEvent): WatchSnapshot | null {
    if (event.event === EVENT_WATCH) {
      this.replace(parseWatch(parseEvent(WatchSnapshotSchema, event.data, 'watch event')));
    } else if (event.event === EVENT_WATCH_CHANGES) {
      const diff = parseEvent(WatchChangesEventSchema, event.data, 'watch event');
      for (const id of diff.removed) this.ids.delete(id);
      for (const id of diff.added) this.ids.add(id);
      // The hub's snapshot may have cut the ids at WATCH_MAX_IDS: the count is kept apart, never below what is known.
      this.count = Math.max(this.ids.size, this.count + diff.added.length - diff.removed.length);
    } else {
      return null;
    }
    this.resumeId = resumableEventId(event.id) === null ? null : event.id;
    return this.snapshot;
  }

  /** A poll's answer: replaces the state; the position is unknown, so the next connection gets a snapshot. */
  replace(snapshot: WatchSnapshot): void {
    this.ids = new Set(snapshot.intent_ids);
    this.count = snapshot.pending;
    this.resumeId = null;
  }
}

const outOfOrder = () => new HubClientError('hub_bad_response', 'The hub sent pending-list events out of order.');

function parseEvent<S extends v.GenericSchema>(schema: S, data: string, what: string): v.InferOutput<S> {
  let value: unknown;
  try {
    value = parseStrictJson(data);
  } catch (err) {
    throw new HubClientError('hub_bad_response', `The hub sent a malformed ${what}.`, { cause: err });
  }
  const result = v.safeParse(schema, value);
  if (!result.success) throw new HubClientError('hub_bad_response', `The hub sent a malformed ${what}.`);
  return result.output;
}

/** A watch snapshot whose count is below its number of ids is refused (watch-client.ts parseWatchSnapshot). */
function parseWatch(snapshot: WatchSnapshot): WatchSnapshot {
  if (snapshot.pending < snapshot.intent_ids.length)
    throw new HubClientError('hub_bad_response', 'The hub sent a malformed watch answer.');
  return snapshot;
}
