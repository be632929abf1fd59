import { Hono, type Context } from 'hono';
import { fromHex } from '../../lib/bytes';
import {
  isWatchToken,
  WATCH_AUTH_SCHEME,
  WATCH_MAX_IDS,
  watchTokenHash,
  WatchRegisterRequestSchema,
  type WatchRegisterResponse,
  type WatchSnapshot,
} from '../../lib/protocol/watch-wire';
import { parseWire } from '../../lib/protocol/wire';
import type { HubDeps } from '../deps';
import { appendAudit } from '../audit';
import { authenticateHuman, jsonBody } from '../auth';
import { HubError } from '../errors';
import { intentEvents } from '../events';
import type { HubEnv } from '../middleware';
import { enforceLimit } from './client-address';
import { streamAccountChanges } from './account-stream';
import { intentDiff } from './intent-changes';
import { expireDueIntents } from '../intent-expiry';
import { EVENT_WATCH, EVENT_WATCH_CHANGES, type WatchChangesEvent } from '../../lib/protocol/intent-events-wire';

/** The device a watch token belongs to, after every check. */
interface Watcher {
  accountId: string;
  deviceKeyId: string;
}

/**
 * The watch token in `Authorization: Bearer …`, checked on every request and at every event: known, of a device that
 * still belongs to the account (the enrolling device, or an added one not removed). This is the ONLY place the hub
 * reads that header; the signed routes (hub/auth.ts) never do, so the token opens GET /v1/watch(/events) and
 * nothing else.
 */
async function watcherOf(deps: HubDeps, header: string | undefined): Promise<Watcher> {
  const [scheme, token, ...rest] = (header ?? '').split(' ');
  if (scheme !== WATCH_AUTH_SCHEME || !token || rest.length > 0 || !isWatchToken(token))
    throw new HubError('auth_missing', 'GET /v1/watch needs Authorization: Bearer <watch token>.');
  const row = await deps.store.watchTokens.findByHash(fromHex(watchTokenHash(token)));
  if (!row) throw new HubError('auth_unknown_key', 'Unknown watch token.');
  const active =
    row.deviceKeyId === row.accountId
      ? (await deps.store.accounts.get(row.accountId)) !== null
      : (await deps.store.devices.get(row.deviceKeyId))?.revokedAt === null;
  if (!active)
    throw new HubError('device_revoked', 'This device was removed from its account. Pair it again to use it.');
  return { accountId: row.accountId, deviceKeyId: row.deviceKeyId };
}

/** The ids of the account's pending intents (revoked installations' excluded, as in GET /v1/intents?status=pending). */
export async function watchSnapshot(deps: HubDeps, accountId: string): Promise<WatchSnapshot> {
  const now = deps.now();
  const live = new Set(
    (await deps.store.installations.listByAccount(accountId))
      .filter((i) => i.status !== 'revoked')
      .map((i) => i.installationId),
  );
  const ids = (await deps.store.intents.listPendingForAccount(accountId, now))
    .filter((i) => live.has(i.installationId))
    .map((i) => i.intentId);
  return { pending: ids.length, intent_ids: ids.slice(0, WATCH_MAX_IDS) };
}

/**
 * The locked watcher (issue 15; docs/protocol.md §Watching while locked).
 *
 * - `PUT /v1/watch` (human, signed by the device key): registers the device's watch token by its SHA-256, replacing
 *   the one it had. Only the device key can do this, so the token is bound to that device and dies with it.
 * - `GET /v1/watch` (watch token): `{pending, intent_ids}`, nothing more.
 * - `GET /v1/watch/events` (watch token): the same as `event: watch` on connect (or, resuming with
 *   `Last-Event-ID`, only what changed since), then `event: watch-changes` with the ids added to and removed from
 *   the pending list on every change (issue 16: never the whole list again); `: ping` after 15 s of silence; it
 *   ends when the device is removed, its token replaced, or after the stream lifetime.
 *
 * What the token cannot do is the point: every route that decides, reads a payload or hands out a secret or the vault
 * authenticates with hub/auth.ts, which verifies a device-key signature and never looks at this header.
 */
export function watchRoutes(deps: HubDeps): Hono<HubEnv> {
  const events = intentEvents(deps.store);
  const watcher = async (c: Context<HubEnv>): Promise<Watcher> => {
    const w = await watcherOf(deps, c.req.header('authorization'));
    // Per device, like signed requests (hub/auth.ts): a stolen token cannot make the hub do unbounded work.
    await enforceLimit(deps.signedLimiter, `watch:${w.deviceKeyId}`);
    return w;
  };
  const stillWatching = async (w: Watcher, header: string | undefined): Promise<boolean> => {
    try {
      return (await watcherOf(deps, header)).deviceKeyId === w.deviceKeyId;
    } catch {
      return false;
    }
  };

  return new Hono<HubEnv>()
    .put('/watch', async (c) => {
      const { account, device, body } = await authenticateHuman(c, deps);
      const req = parseWire(WatchRegisterRequestSchema, jsonBody(body));
      const now = deps.now();
      await deps.store.transaction(async () => {
        await deps.store.watchTokens.put({
          deviceKeyId: device.keyId,
          accountId: account.accountId,
          tokenSha256: fromHex(req.token_sha256),
          createdAt: now,
        });
        await appendAudit(deps.store, {
          time: now,
          actor: `account:${account.accountId}`,
          resource: `device:${device.keyId}`,
          action: 'watch.register',
          requestId: c.get('requestId'),
        });
      });
      // The previous token's streams end now.
      events.closeHolder(`watch:${device.keyId}`);
      const response: WatchRegisterResponse = { device_key_id: device.keyId, registered_at: now };
      return c.json(response);
    })
    .get('/watch', async (c) => {
      const w = await watcher(c);
      return c.json(await watchSnapshot(deps, w.accountId));
    })
    .get('/watch/events', async (c) => {
      const header = c.req.header('authorization');
      const w = await watcher(c);
      return streamAccountChanges(c, deps, events, {
        accountId: w.accountId,
        holder: { kind: 'stream', key: `watch:${w.deviceKeyId}` },
        lastEventId: c.req.header('last-event-id'),
        beforeSnapshot: async () => void (await expireDueIntents(deps.store, deps.now(), c.get('requestId'))),
        snapshot: async function* () {
          yield { event: EVENT_WATCH, data: await watchSnapshot(deps, w.accountId) };
        },
        changes: async (after, through) => {
          const diff = await intentDiff(deps, w.accountId, after, through);
          if (diff === null || diff === 'resync') return diff;
          // Ids only, as the snapshot. An intent is never pending again once it left, so "updated" adds nothing.
          const data: WatchChangesEvent = { added: diff.added, removed: diff.removed };
          if (data.added.length > WATCH_MAX_IDS || data.removed.length > WATCH_MAX_IDS) return 'resync';
          if (data.added.length + data.removed.length === 0) return null;
          return { event: EVENT_WATCH_CHANGES, data };
        },
        // Removed device or replaced token: nothing more, not even a count.
        stillAllowed: () => stillWatching(w, header),
      });
    });
}
