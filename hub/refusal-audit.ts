import type { AuditAction } from '../lib/protocol/audit-actions';
import { appendAudit } from './audit';
import type { HubDeps } from './deps';

/** At most one refusal entry per who and why in this window: a looping agent must not grow the chain without bound. */
export const REFUSAL_AUDIT_WINDOW_MS = 60_000;
/** How many (who, why) pairs are remembered before the oldest are forgotten (memory stays bounded). */
const MAX_REMEMBERED = 10_000;

/** One refused request: who was turned away (agent or device), about which of the account's records, and why. */
export interface Refusal {
  action: AuditAction & `${string}.refused.${string}`;
  /** `agent:<id>` or `device:<key id>`. */
  actor: string;
  agent?: string | null;
  /** A record of the account the Activity tab lists (`installation:<id>`, `account:<id>`). */
  resource: string;
  requestId?: string | null;
}

const lastWritten = new WeakMap<HubDeps['store'], Map<string, number>>();

/**
 * Appends an audit entry for a refused request (issue 15: Activity lists refused attempts), throttled per actor and
 * action to one per REFUSAL_AUDIT_WINDOW_MS. The entry carries ids and the reason only, never what was asked for.
 * Call it outside any transaction that the refusal rolls back. A failure to record never changes the answer the
 * caller gets (the refusal itself): it is logged and dropped.
 */
export async function recordRefusal(deps: HubDeps, refusal: Refusal): Promise<void> {
  let seen = lastWritten.get(deps.store);
  if (!seen) lastWritten.set(deps.store, (seen = new Map<string, number>()));
  const key = `${refusal.actor}|${refusal.action}`;
  const now = deps.now();
  const last = seen.get(key);
  if (last !== undefined && now - last < REFUSAL_AUDIT_WINDOW_MS) return;
  seen.delete(key);
  seen.set(key, now);
  if (seen.size > MAX_REMEMBERED) seen.delete(seen.keys().next().value!);
  try {
    await appendAudit(deps.store, {
      time: now,
      actor: refusal.actor,
      agent: refusal.agent ?? null,
      resource: refusal.resource,
      action: refusal.action,
      requestId: refusal.requestId ?? null,
    });
  } catch {
    // The logger takes no error text (hub/logger.ts): the action says which record was lost.
    deps.logger.error('audit_refusal_failed', { action: refusal.action });
  }
}
