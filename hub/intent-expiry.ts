import { appendAudit } from './audit';
import { changesByAccount, intentEvents } from './events';
import type { HubStore } from './store/port';

/**
 * Moves every pending intent whose `expires_at` has passed to `expired`, with one audit row each, then tells the
 * owners' event streams. Called lazily before intent reads and writes, and periodically by the server's sweep, so
 * the stored state and the audit log catch up even when nobody asks. Intents of a revoked installation were
 * audited as expired when it was revoked and get no second row. Call it outside any transaction: it publishes
 * after its own commit.
 */
export async function expireDueIntents(
  store: HubStore,
  now: number,
  requestId: string | null = null,
): Promise<string[]> {
  // Nearly always nothing is due: one indexed read instead of a transaction (on PostgreSQL the global advisory lock,
  // which every instance's writes queue behind, was taken by every intent read for this; bench/hub-load.mjs).
  if (!(await store.intents.anyDue(now))) return [];
  const changed: [string, string][] = [];
  const ids = await store.transaction(async () => {
    const expired = await store.intents.expireDue(now);
    for (const intentId of expired) {
      const intent = (await store.intents.get(intentId))!;
      const installation = (await store.installations.get(intent.installationId))!;
      changed.push([installation.accountId, intentId]);
      if (installation.status === 'revoked') continue;
      await appendAudit(store, {
        time: now,
        actor: 'hub',
        agent: installation.agentId,
        resource: `intent:${intentId}`,
        action: 'intent.expire',
        requestId,
        idempotencyKey: intent.idempotencyKey,
      });
    }
    return expired;
  });
  if (changed.length > 0) intentEvents(store).publish(...changesByAccount(changed));
  return ids;
}
