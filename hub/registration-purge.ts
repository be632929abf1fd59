import type { HubStore } from './store/port';

/** Most unclaimed registrations one pass deletes: a pass is bounded work whatever the backlog (issue 13 item 12). */
export const PURGE_BATCH = 100;

/**
 * Deletes registrations whose claim code expired unclaimed (hub/routes/agents.ts CLAIM_TTL_MS), at most `limit` per
 * call. Such a row can never be claimed (the code is past its TTL), so keeping it only lets an unauthenticated
 * caller fill the database by registering over and over. The registration's audit row stays (the log never loses
 * entries); the agent, should it come back, is an unknown key and registers again. Called before every new
 * registration and by the server's periodic sweep.
 */
export async function purgeUnclaimedAgents(store: HubStore, now: number, limit = PURGE_BATCH): Promise<string[]> {
  return await store.transaction(async () => await store.agents.purgeUnclaimed(now, limit));
}
