import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { resumableEventId } from '../../lib/protocol/intent-events-wire';
import type { HubDeps } from '../deps';
import type { Holder, IntentEvents } from '../events';
import type { HubEnv } from '../middleware';
import { auditPosition, MAX_RESUME_GAP } from './intent-changes';

/**
 * A comment line after this long without anything written keeps proxies and idle timers from closing a quiet
 * stream: 15 s is below the idle timeouts of common reverse proxies (nginx proxy_read_timeout 60 s, AWS ALB 60 s).
 */
export const EVENTS_PING_MS = 15_000;

/** One event to write: its SSE name and its JSON data. */
export interface StreamEvent {
  event: string;
  data: unknown;
}

/** What one account-wide event stream sends, and while whom it may keep sending. */
export interface AccountStream {
  accountId: string;
  /** Who holds the stream: removing that device (or replacing its token) closes it at once (hub/events.ts). */
  holder: Holder;
  /** The client's `Last-Event-ID` header, if it sent one (a reconnect). */
  lastEventId: string | undefined;
  /**
   * Runs before a snapshot's position is read (due expiries): its own audit rows then fall before that position, so
   * the diffs after the snapshot do not report them again.
   */
  beforeSnapshot?: () => Promise<void>;
  /** The full current state as events, in order (a snapshot in pages); read after the position it is sent under. */
  snapshot: () => AsyncIterable<StreamEvent>;
  /** The event for what changed between two audit positions: null when nothing to send, 'resync' for a snapshot. */
  changes: (afterSeq: number, throughSeq: number) => Promise<StreamEvent | null | 'resync'>;
  /** Checked before every event: false ends the stream without sending anything more. */
  stillAllowed: () => Promise<boolean>;
}

/**
 * The loop shared by `GET /v1/events` and `GET /v1/watch/events` (docs/protocol.md §9). On connect: the changes
 * since the client's `Last-Event-ID` when the hub can still tell them (a position at most MAX_RESUME_GAP audit rows
 * old), else a snapshot. Then, whenever the account's intents change, only what changed. Every event has an `id:`,
 * the audit position it brings the client to (a snapshot's pages before the last carry `<position>-<page>`, which
 * is not resumable, so a connection lost mid-snapshot gets a whole one next time). `: ping` after EVENTS_PING_MS
 * without a write. Ends on the stream's bounded lifetime (the client reconnects and authenticates again), on a
 * `closing` event, or once `stillAllowed()` is false. Headers tell proxies not to buffer or cache it.
 */
export function streamAccountChanges(
  c: Context<HubEnv>,
  deps: HubDeps,
  events: IntentEvents,
  s: AccountStream,
): Response {
  // nginx buffers proxied responses unless told not to; an event held in a buffer is an approval that waits.
  // (Cache-Control: no-cache, no-store is set with the security headers, hub/middleware.ts.)
  c.header('X-Accel-Buffering', 'no');
  return streamSSE(c, async (stream) => {
    let dirty = true;
    let closing = false;
    let pingDue = false;
    let wake: (() => void) | null = null;
    const unsubscribe = events.subscribe(
      s.accountId,
      (event) => {
        if (event === 'closing') closing = true;
        else dirty = true;
        wake?.();
      },
      s.holder,
    );
    const lifetime = setTimeout(() => {
      closing = true;
      wake?.();
    }, deps.eventStreamLifetimeMs);
    let pingTimer: ReturnType<typeof setTimeout> | undefined;
    /** (Re)starts the quiet timer: called after every write, so a ping follows EVENTS_PING_MS of silence. */
    const armPing = () => {
      clearTimeout(pingTimer);
      pingTimer = setTimeout(() => {
        pingDue = true;
        wake?.();
      }, EVENTS_PING_MS);
    };
    stream.onAbort(() => wake?.());
    armPing();
    let position = resumableEventId(s.lastEventId);
    const live = () => !stream.aborted && !stream.closed && !closing;
    const write = async (e: StreamEvent, id: string) => {
      await stream.writeSSE({ event: e.event, data: JSON.stringify(e.data), id });
      armPing();
    };
    try {
      while (live()) {
        if (!(await s.stillAllowed())) break;
        if (dirty) {
          dirty = false;
          const head = await auditPosition(deps);
          if (position !== null && position <= head && head - position <= MAX_RESUME_GAP) {
            const change = position === head ? null : await s.changes(position, head);
            if (change !== 'resync') {
              if (change && live()) await write(change, String(head));
              position = head;
              continue;
            }
          }
          // A snapshot: pages read after its position, so they are at least as new; changes after it come as diffs.
          await s.beforeSnapshot?.();
          const at = await auditPosition(deps);
          let previous: StreamEvent | null = null;
          let page = 0;
          for await (const e of s.snapshot()) {
            if (!live()) break;
            if (previous) await write(previous, `${at}-${page++}`);
            previous = e;
          }
          if (previous && live()) await write(previous, String(at));
          position = at;
          continue;
        }
        if (pingDue) {
          pingDue = false;
          await stream.write(': ping\n\n');
          armPing();
          continue;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (dirty || pingDue || !live()) resolve();
        });
        wake = null;
      }
    } finally {
      clearTimeout(lifetime);
      clearTimeout(pingTimer);
      unsubscribe();
    }
  });
}
