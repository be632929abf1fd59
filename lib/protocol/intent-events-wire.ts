import * as v from 'valibot';
import { IdSchema, IntentSchema } from './wire';
import { WATCH_MAX_IDS } from './watch-wire';

/**
 * What changed, not everything (issue 16; docs/protocol.md §8 "Pending list pages" and §9 "Event streams"). The
 * pending list is read in pages; an event stream sends one snapshot (in pages) and then only diffs, each event with
 * an SSE `id:` that a reconnecting client sends back as `Last-Event-ID` to get the changes since instead of the
 * whole list again.
 */

/** GET /v1/intents?status=pending without `limit`: this many intents per page. */
export const PENDING_PAGE_DEFAULT = 100;
/** The largest `limit` GET /v1/intents?status=pending accepts. */
export const PENDING_PAGE_MAX = 500;
/** Intents per snapshot event of GET /v1/events. */
export const SNAPSHOT_PAGE = 100;

/** Event names on GET /v1/events. */
export const EVENT_SNAPSHOT = 'intents';
export const EVENT_SNAPSHOT_MORE = 'intents-more';
export const EVENT_CHANGES = 'changes';
/** Event names on GET /v1/watch/events. */
export const EVENT_WATCH = 'watch';
export const EVENT_WATCH_CHANGES = 'watch-changes';

/**
 * A page cursor: `<created_at>.<intent_id>` of the last intent of the previous page. Opaque to clients (they send
 * back `next_cursor` unchanged); parsed strictly by the hub.
 */
const CURSOR = /^(0|[1-9][0-9]{0,15})\.([A-Za-z0-9_-]{1,64})$/;

export function encodePageCursor(createdAt: number, intentId: string): string {
  return `${createdAt}.${intentId}`;
}

/** The position a cursor names, or null when it is not one. */
export function decodePageCursor(cursor: string): { createdAt: number; intentId: string } | null {
  const m = CURSOR.exec(cursor);
  if (!m || !Number.isSafeInteger(Number(m[1]))) return null;
  return { createdAt: Number(m[1]), intentId: m[2]! };
}

/**
 * An SSE event id the hub can resume from: a decimal audit sequence number. Ids of a snapshot's pages before its
 * last one (`<seq>-<page>`) are deliberately not: a client that lost the connection mid-snapshot gets a new one.
 */
export function resumableEventId(id: string | undefined | null): number | null {
  if (id === undefined || id === null || !/^(0|[1-9][0-9]{0,15})$/.test(id)) return null;
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : null;
}

/** A page of GET /v1/intents?status=pending: `next_cursor` when more follow. */
export const IntentPageSchema = v.object({
  intents: v.array(IntentSchema),
  next_cursor: v.optional(v.string()),
});
export type IntentPage = v.InferOutput<typeof IntentPageSchema>;

/** `event: intents` (the snapshot's first page) and `event: intents-more` (its next pages, while `more`). */
export const SnapshotEventSchema = v.object({
  intents: v.array(IntentSchema),
  more: v.boolean(),
});
export type SnapshotEvent = v.InferOutput<typeof SnapshotEventSchema>;

/**
 * `event: changes`: intents that became pending (`added`), changed while pending (`updated`) and left the pending
 * list (`removed`: decided, executed, expired, revoked), with the current form of every added or updated one.
 */
export const ChangesEventSchema = v.object({
  added: v.array(IdSchema),
  updated: v.array(IdSchema),
  removed: v.array(IdSchema),
  intents: v.array(IntentSchema),
});
export type ChangesEvent = v.InferOutput<typeof ChangesEventSchema>;

/** `event: watch-changes` (the locked watcher): ids only, as its snapshot. */
export const WatchChangesEventSchema = v.strictObject({
  added: v.pipe(v.array(IdSchema), v.maxLength(WATCH_MAX_IDS)),
  removed: v.pipe(v.array(IdSchema), v.maxLength(WATCH_MAX_IDS)),
});
export type WatchChangesEvent = v.InferOutput<typeof WatchChangesEventSchema>;
