import { Hono } from 'hono';
import {
  EVENT_CHANGES,
  EVENT_SNAPSHOT,
  EVENT_SNAPSHOT_MORE,
  SNAPSHOT_PAGE,
  type ChangesEvent,
  type SnapshotEvent,
} from '../../lib/protocol/intent-events-wire';
import type { HubDeps } from '../deps';
import { authenticateHuman } from '../auth';
import { intentEvents } from '../events';
import { expireDueIntents } from '../intent-expiry';
import type { HubEnv } from '../middleware';
import { streamAccountChanges, type StreamEvent } from './account-stream';
import { intentDiff, snapshotPages } from './intent-changes';

export { EVENTS_PING_MS } from './account-stream';

/** A stream ends after this long; the client reconnects and signs again (lib/ext reconnects with backoff). */
export const EVENTS_MAX_LIFETIME_MS = 15 * 60_000;

/** A device removed since the stream opened gets nothing more (defence in depth behind closeHolder). */
const isRevoked = async (deps: HubDeps, keyId: string): Promise<boolean> =>
  (await deps.store.devices.get(keyId))?.revokedAt != null;

/**
 * `GET /v1/events` (human): a text/event-stream of the caller's pending intents (docs/protocol.md §9). First a
 * snapshot: `event: intents` with the first SNAPSHOT_PAGE pending intents and `more`, then `event: intents-more`
 * pages while `more` is true. Then, whenever an intent of the account is created, decided, executed, expired or
 * its installation revoked, `event: changes` with the ids added, updated and removed and the current form of the
 * added and updated ones. A reconnect sending `Last-Event-ID` gets the changes since that event instead of a
 * snapshot, when the hub can still tell them. `: ping` after 15 s of silence. The request is signed like any other
 * (and so replay-protected once, when it opens).
 */
export function eventRoutes(deps: HubDeps): Hono<HubEnv> {
  const events = intentEvents(deps.store);
  return new Hono<HubEnv>().get('/events', async (c) => {
    const { account, device } = await authenticateHuman(c, deps);
    const accountId = account.accountId;
    return streamAccountChanges(c, deps, events, {
      accountId,
      // Removing the device closes this stream at once (routes/devices.ts); more than MAX_STREAMS_PER_KEY of its
      // streams close the oldest.
      holder: { kind: 'stream', key: `device:${device.keyId}` },
      lastEventId: c.req.header('last-event-id'),
      // Due expiries first, so the snapshot and the diffs after it agree on what is pending.
      beforeSnapshot: async () => void (await expireDueIntents(deps.store, deps.now(), c.get('requestId'))),
      snapshot: async function* (): AsyncGenerator<StreamEvent> {
        let first = true;
        for await (const page of snapshotPages(deps, accountId, SNAPSHOT_PAGE)) {
          const data: SnapshotEvent = page;
          yield { event: first ? EVENT_SNAPSHOT : EVENT_SNAPSHOT_MORE, data };
          first = false;
        }
      },
      changes: async (after, through) => {
        const diff = await intentDiff(deps, accountId, after, through);
        if (diff === null || diff === 'resync') return diff;
        // Everything not pending now is removed, also what was not pending at `after`: this client's list may be
        // newer than its last event (it polled GET /v1/intents meanwhile), and removing an unknown id is a no-op.
        const data: ChangesEvent = {
          added: diff.added,
          updated: diff.updated,
          removed: [...diff.removed, ...diff.gone],
          intents: diff.intents,
        };
        return { event: EVENT_CHANGES, data };
      },
      stillAllowed: async () => !(await isRevoked(deps, device.keyId)),
    });
  });
}
