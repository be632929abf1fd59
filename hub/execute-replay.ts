import type { HubStore } from './store/port';

/**
 * Idempotent execute (issue 16; docs/protocol.md §8 "Execute"). An agent whose execute answer was lost (a dropped
 * connection, a crash between the hub's commit and the agent reading the body) asks again; for this long after the
 * execution the hub answers the SAME agent, through the same live installation, with the same result, sealed
 * secret included. The intent is still marked executed once (one `intent.execute` audit row); the repeat hands out
 * only ciphertext sealed to that agent's box key, which only it can open.
 */
export const EXECUTE_REPLAY_MS = 10 * 60 * 1000;
/** Most delivered blobs one sweep deletes, so a pass is bounded work whatever the backlog. */
export const EXECUTE_REPLAY_PURGE_BATCH = 500;

/**
 * Deletes the sealed secrets whose replay window has ended (run by the server's periodic sweep). Returns how many;
 * after deleting any, the store compacts so the ciphertext leaves no older copy in SQLite's WAL.
 */
export async function purgeDeliveredSecrets(
  store: HubStore,
  now: number,
  limit = EXECUTE_REPLAY_PURGE_BATCH,
): Promise<number> {
  const n = await store.transaction(
    async () => await store.sealedSecrets.purgeDelivered(now - EXECUTE_REPLAY_MS, limit),
  );
  if (n > 0) await store.compact();
  return n;
}
