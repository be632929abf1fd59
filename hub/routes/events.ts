import { Hono } from 'hono';
import type { HubDeps } from '../deps';
import { authenticateHuman } from '../auth';
import { intentEvents } from '../events';
import { expireDueIntents } from '../intent-expiry';
import type { HubEnv } from '../middleware';
import { pendingList } from './intent-view';
import { streamAccountChanges } from './account-stream';

export { EVENTS_PING_MS } from './account-stream';

/** A stream ends after this long; the client reconnects and signs again (lib/ext reconnects with backoff). */
export const EVENTS_MAX_LIFETIME_MS = 15 * 60_000;

/** A device removed since the stream opened gets nothing more (defence in depth behind closeHolder). */
const isRevoked = async (deps: HubDeps, keyId: string): Promise<boolean> =>
  (await deps.store.devices.get(keyId))?.revokedAt != null;

/**
 * `GET /v1/events` (human): a text/event-stream of the caller's pending intents. On connect it sends
 * `event: intents` with the same JSON as GET /v1/intents?status=pending, and again whenever an intent of the
 * account is created, decided, executed, expired or its installation is revoked; `: ping` every 15 s. The request
 * is signed like any other (and so replay-protected once, when it opens). Changes are coalesced: the stream always
 * sends the current list, never a diff, so a burst of changes yields at least one up-to-date event.
 */
export function eventRoutes(deps: HubDeps): Hono<HubEnv> {
  const events = intentEvents(deps.store);
  return new Hono<HubEnv>().get('/events', async (c) => {
    const { account, device } = await authenticateHuman(c, deps);
    await expireDueIntents(deps.store, deps.now(), c.get('requestId'));
    return streamAccountChanges(c, deps, events, {
      accountId: account.accountId,
      // Removing the device closes this stream at once (routes/devices.ts); more than MAX_STREAMS_PER_KEY of its
      // streams close the oldest.
      holder: { kind: 'stream', key: `device:${device.keyId}` },
      event: 'intents',
      snapshot: () => pendingList(deps, account.accountId),
      stillAllowed: async () => !(await isRevoked(deps, device.keyId)),
    });
  });
}
