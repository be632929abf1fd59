import { INTENT_KINDS, isIntentKind } from '../protocol/intent-kinds';
import type { SignedAuditHead } from '../protocol/audit-head';
import type { AuditEntry } from '../protocol/wire';
import { summarizeIntent } from './summary';

/** One line of the Activity list: an audit entry in plain words, computed on the device. */
export interface ActivityEntryView {
  seq: number;
  time: number;
  /** e.g. "research-bot asked for the secret arxiv-key", "You approved research-bot's request for …". */
  text: string;
  /** The raw action (`intent.approve`, …), for styling and tests. */
  action: string;
  entry_hash: string;
}

export interface ActivityPage {
  entries: ActivityEntryView[];
  /** Pass as `before` to load the next (older) page; null when there is none. */
  nextBefore: number | null;
  /** The newest entry of the hub's whole chain. */
  head: { seq: number; entry_hash: string };
  /** Whether the hub's signed head extends the one this device kept (first page only; see AuditIntegrity). */
  integrity?: AuditIntegrity;
}

/**
 * What the device concluded about the hub's signed audit head (CKAH, docs/protocol.md §11):
 * - `verified`: signed by the pinned hub key and extends the head this device kept before (or the same head);
 * - `first`: the first signed head this device saw (kept from now on);
 * - `rewritten`: the hub showed a head that does not extend the kept one (rollback, rewritten history, fork, wrong
 *   key or no proof): `since` is the time of the last head that was good, `reason` says what failed, and `kept` is
 *   still that last good head (never replaced by the bad one).
 */
export interface AuditIntegrity {
  status: 'verified' | 'first' | 'rewritten';
  /** The signed head this device keeps, to export for `clawkeep audit verify --head` (null if none yet). */
  kept: SignedAuditHead | null;
  since?: number;
  reason?: string;
}

export interface ActivityNames {
  /** The caller's own account id (actor `account:<id>` is "You"). */
  accountId?: string | null;
  /** agent id → the name to show. */
  agentName(agentId: string): string | null;
}

/** What an intent asks for, in words: "the secret arxiv-key", "to approve an action: “Deploy”". */
function what(intent: AuditEntry['intent']): string {
  if (!intent) return 'something';
  const summary = summarizeIntent(intent.kind, intent.payload);
  if (intent.kind === 'secret.request' && summary.valid) return summary.headline;
  const label = isIntentKind(intent.kind)
    ? INTENT_KINDS[intent.kind].description.toLowerCase()
    : `a ${intent.kind} request`;
  return summary.valid ? `“${summary.headline}” (${label})` : label;
}

const idOf = (ref: string | null, prefix: string): string | null =>
  ref && ref.startsWith(`${prefix}:`) ? ref.slice(prefix.length + 1) : null;

/**
 * Turns one audit entry into a sentence. Names come from the device's own records when it has them; an unknown
 * agent is shown by its id. Unknown actions are shown as they are, never dropped.
 */
export function describeAuditEntry(entry: AuditEntry, names: ActivityNames): string {
  const agentId = entry.agent ?? idOf(entry.resource, 'agent') ?? idOf(entry.actor, 'agent');
  const agent = agentId ? (names.agentName(agentId) ?? agentId) : 'an agent';
  const actorAccount = idOf(entry.actor, 'account');
  const actor =
    entry.actor === 'hub'
      ? 'The hub'
      : actorAccount !== null
        ? names.accountId == null || actorAccount === names.accountId
          ? 'You'
          : 'Another device'
        : idOf(entry.actor, 'agent') !== null
          ? agent
          : entry.actor;
  const request = what(entry.intent);
  switch (entry.action) {
    case 'account.enroll':
      return `${actor} enrolled this device with the hub`;
    case 'agent.register':
      return `${agent} registered with the hub`;
    case 'installation.claim':
      return `${actor} claimed ${agent}`;
    case 'installation.revoke':
      return `${actor} revoked ${agent}`;
    case 'installation.enable':
      return `${actor} re-enabled ${agent}`;
    case 'installation.lock':
      return `The hub locked ${agent} after repeated denials`;
    case 'config.deliver':
      return `${actor} delivered an agent config to ${agent}`;
    case 'config.unassign':
      return `${actor} unassigned the agent config from ${agent}`;
    case 'intent.create':
      return `${agent} asked for ${request}`;
    case 'intent.approve':
      return `${actor} approved ${agent}'s request for ${request}`;
    case 'intent.deny':
      return `${actor} denied ${agent}'s request for ${request}`;
    case 'intent.auto_approve':
      return `The hub approved ${agent}'s request for ${request} without asking (your policy)`;
    case 'intent.expire':
      return `${agent}'s request for ${request} expired`;
    case 'intent.execute':
      return `${agent} received the approval for ${request}`;
    case 'device.add':
      return `${actor} added a device (${idOf(entry.resource, 'device') ?? 'unknown'}) to the account`;
    case 'device.remove':
      return `${actor} removed a device (${idOf(entry.resource, 'device') ?? 'unknown'}) from the account`;
    case 'watch.register':
      return `${actor} let a device (${idOf(entry.resource, 'device') ?? 'unknown'}) count waiting requests while locked`;
    default:
      return `${actor}: ${entry.action}${entry.resource ? ` (${entry.resource})` : ''}`;
  }
}
