/**
 * Every `action` the hub writes into its audit chain (docs/protocol.md §11), declared once. The device turns each into
 * a sentence (lib/hub-client/activity.ts, a `Record` over this list, so a new action without a sentence fails tsc),
 * and test/unit/ext/activity-sentences.test.ts checks that every action literal in hub/ is listed here.
 *
 * Refusals (`*.refused.*`) record a request the hub turned away: which agent or device, and why, never what it asked
 * for (an agent-chosen payload is not stored for a refused request).
 */
export const AUDIT_ACTIONS = [
  'account.enroll',
  'enrollment_code.issued',
  'enrollment_code.reissued',
  'agent.register',
  'installation.claim',
  'installation.revoke',
  'installation.enable',
  'installation.lock',
  'config.deliver',
  'config.unassign',
  'intent.create',
  'intent.approve',
  'intent.deny',
  'intent.auto_approve',
  'intent.expire',
  'intent.execute',
  'pairing.create',
  'pairing.deny',
  'device.add',
  'device.remove',
  'watch.register',
  'vault.push',
  'request.refused.scope',
  'request.refused.rate_limit',
  'request.refused.locked',
  'request.refused.revoked',
  'device.refused.revoked',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const isAuditAction = (v: unknown): v is AuditAction =>
  typeof v === 'string' && (AUDIT_ACTIONS as readonly string[]).includes(v);

/** The refusal an agent's rejected request is recorded as, by the hub's error code (others are not recorded). */
export const AGENT_REFUSALS = {
  scope_not_granted: 'request.refused.scope',
  rate_limited: 'request.refused.rate_limit',
  agent_revoked: 'request.refused.revoked',
} as const satisfies Record<string, AuditAction>;

/** A `vault.push` entry's resource: the account's change counter after the push and how many items it changed. */
export const vaultPushResource = (seq: number, changes: number): string => `vault:${seq};changes=${changes}`;

/** The number of changes in a `vault.push` resource, or null for an entry written before it was recorded. */
export function vaultPushChanges(resource: string | null): number | null {
  const m = /^vault:\d+;changes=(\d+)$/.exec(resource ?? '');
  return m ? Number(m[1]) : null;
}
