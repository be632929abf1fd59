import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { HubDeps } from '../deps';
import type { Holder, IntentEvents } from '../events';
import type { HubEnv } from '../middleware';

/** A comment line this often keeps proxies and idle timers from closing a quiet stream. */
export const EVENTS_PING_MS = 15_000;

/** What one account-wide event stream sends, and while whom it may keep sending. */
export interface AccountStream {
  accountId: string;
  /** Who holds the stream: removing that device (or replacing its token) closes it at once (hub/events.ts). */
  holder: Holder;
  /** The SSE event name (`intents` for devices, `watch` for a locked device's watcher). */
  event: string;
  /** The current state, sent on connect and after every change (coalesced: never a diff). */
  snapshot: () => Promise<unknown>;
  /** Checked before every event: false ends the stream without sending anything more. */
  stillAllowed: () => Promise<boolean>;
}

/**
 * The loop shared by `GET /v1/events` and `GET /v1/watch/events`: send the snapshot, then again whenever the
 * account's intents change, `: ping` after EVENTS_PING_MS of quiet, and end on the stream's bounded lifetime (the
 * client reconnects and authenticates again), on a `closing` event, or once `stillAllowed()` is false.
 */
export function streamAccountChanges(
  c: Context<HubEnv>,
  deps: HubDeps,
  events: IntentEvents,
  s: AccountStream,
): Response {
  return streamSSE(c, async (stream) => {
    let dirty = true;
    let closing = false;
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
    stream.onAbort(() => wake?.());
    try {
      while (!stream.aborted && !stream.closed && !closing) {
        if (!(await s.stillAllowed())) break;
        if (dirty) {
          dirty = false;
          await stream.writeSSE({ event: s.event, data: JSON.stringify(await s.snapshot()) });
          continue;
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        const woken = await new Promise<boolean>((resolve) => {
          wake = () => resolve(true);
          timer = setTimeout(() => resolve(false), EVENTS_PING_MS);
        });
        clearTimeout(timer);
        wake = null;
        if (!woken && !stream.aborted && !closing) await stream.write(': ping\n\n');
      }
    } finally {
      clearTimeout(lifetime);
      unsubscribe();
    }
  });
}
