import type { HubStore } from './store/port';

/** How long a decided or expired intent keeps its payload by default: 30 days after it expired. */
export const DEFAULT_INTENT_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/** Most intents one pass purges, so a pass is bounded work whatever the backlog. */
export const RETENTION_BATCH = 200;

/**
 * Issue 13 item 13 (hub half): the hub does not keep what agents asked for forever. An intent that is no longer
 * pending and expired more than `retentionMs` ago loses its payload and any sealed secret; its row stays (id,
 * payload hash, status, times, the signed decision), so the audit log, which hashes none of the payload, still
 * verifies, and GET /v1/intents/:id answers `intent_purged`. An intent's decision always comes before its expiry,
 * so counting from expires_at is at least `retentionMs` after the decision. Pending intents are never touched.
 * Runs in one transaction; `await store.compact()` afterwards pushes the freed pages out of the WAL.
 */
export async function purgeExpiredPayloads(
  store: HubStore,
  now: number,
  retentionMs = DEFAULT_INTENT_RETENTION_MS,
  limit = RETENTION_BATCH,
): Promise<string[]> {
  const purged = await store.transaction(async () => await store.intents.purgePayloads(now - retentionMs, limit));
  if (purged.length > 0) await store.compact();
  return purged;
}
