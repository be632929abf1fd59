import { AUDIT_ACTIONS, isAuditAction, vaultPushChanges, type AuditAction } from '../protocol/audit-actions';
import { INTENT_KINDS, isIntentKind } from '../protocol/intent-kinds';
import type { AuditEntry } from '../protocol/wire';
import { summarizeIntent } from './summary';

/** How names are resolved for a sentence. */
export interface ActivityNames {
  /** The caller's own account id (actor `account:<id>` is "You"). */
  accountId?: string | null;
  /** agent id → the name to show. */
  agentName(agentId: string): string | null;
}

/** What every sentence may use, computed once per entry. */
interface Parts {
  /** Who acted: "You", "Another device", "The hub", an agent's name. */
  actor: string;
  /** The agent the entry is about, by name ("an agent" when none). */
  agent: string;
  /** What the intent asked for, in words ("the secret “arxiv-key”"). */
  request: string;
  entry: AuditEntry;
}

const idOf = (ref: string | null, prefix: string): string | null =>
  ref && ref.startsWith(`${prefix}:`) ? ref.slice(prefix.length + 1) : null;

/** What an intent asks for, in words: "the secret “arxiv-key”", "“Deploy” (approve an action the agent describes)". */
function what(intent: AuditEntry['intent']): string {
  if (!intent) return 'something';
  const summary = summarizeIntent(intent.kind, intent.payload);
  const item = (intent.payload as { item?: unknown }).item;
  if (intent.kind === 'secret.request' && summary.valid && typeof item === 'string') return `the secret “${item}”`;
  if (intent.kind === 'http.request' && summary.valid) {
    const { method, url } = intent.payload as { method: string; url: string };
    return `a call ${method} ${url.split('?', 1)[0]}`;
  }
  const label = isIntentKind(intent.kind)
    ? INTENT_KINDS[intent.kind].description.toLowerCase()
    : `a ${intent.kind} request`;
  return summary.valid ? `“${summary.headline}” (${label})` : label;
}

const device = (p: Parts, prefix: string) => idOf(p.entry.resource, prefix) ?? 'unknown';

/**
 * One sentence per audit action (issue 15: internal operations read as people would say them, refusals included).
 * A `Record` over AUDIT_ACTIONS: an action added to the registry without a sentence here does not compile.
 */
export const ACTIVITY_SENTENCES: Record<AuditAction, (p: Parts) => string> = {
  'account.enroll': (p) => `${p.actor} enrolled this device with the hub`,
  'enrollment_code.issued': () => 'The hub issued a new enrollment code',
  'enrollment_code.reissued': () => 'The hub operator issued a new enrollment code; the unused one stopped working',
  'agent.register': (p) => `${p.agent} registered with the hub`,
  'installation.claim': (p) => `${p.actor} claimed ${p.agent}`,
  'installation.revoke': (p) => `${p.actor} revoked ${p.agent}`,
  'installation.enable': (p) => `${p.actor} re-enabled ${p.agent}`,
  'installation.lock': (p) => `The hub locked ${p.agent} after repeated denials`,
  'config.deliver': (p) => `${p.actor} delivered an agent config to ${p.agent}`,
  'config.unassign': (p) => `${p.actor} unassigned the agent config from ${p.agent}`,
  'intent.create': (p) => `${p.agent} asked for ${p.request}`,
  'intent.approve': (p) => `${p.actor} approved ${p.agent}'s request for ${p.request}`,
  'intent.deny': (p) => `${p.actor} denied ${p.agent}'s request for ${p.request}`,
  'intent.auto_approve': (p) => `The hub approved ${p.agent}'s request for ${p.request} without asking (your policy)`,
  'intent.expire': (p) => `${p.agent}'s request for ${p.request} expired`,
  'intent.execute': (p) => `${p.agent} received the approval for ${p.request}`,
  'pairing.create': () => 'A new device asked to join this account',
  'pairing.deny': (p) => `${p.actor} turned away a device that asked to join`,
  'device.add': (p) => `${p.actor} added a device (${device(p, 'device')}) to the account`,
  'device.remove': (p) => `${p.actor} removed a device (${device(p, 'device')}) from the account`,
  'watch.register': (p) => `${p.actor} let a device (${device(p, 'device')}) count waiting requests while it is locked`,
  'vault.push': (p) => {
    const n = vaultPushChanges(p.entry.resource);
    const who = p.actor === 'You' ? 'Synced' : `${p.actor} synced`;
    return n === null ? `${who} the vault` : `${who} ${n} ${n === 1 ? 'change' : 'changes'}`;
  },
  'request.refused.scope': (p) => `Refused ${p.agent}: it asked for something it was not granted`,
  'request.refused.rate_limit': (p) => `Refused ${p.agent}: it asked too often (rate limit)`,
  'request.refused.locked': (p) => `Refused ${p.agent}: it is locked after repeated denials`,
  'request.refused.revoked': (p) => `Refused ${p.agent}: it was revoked and asked again`,
  'device.refused.revoked': (p) =>
    `Refused a removed device (${idOf(p.entry.actor, 'device') ?? 'unknown'}) that tried to reach the hub`,
};

/** Every action that has a sentence (the registry, in order): for tests and documentation. */
export const DESCRIBED_ACTIONS: readonly AuditAction[] = AUDIT_ACTIONS;

/**
 * Turns one audit entry into a sentence. Names come from the device's own records when it has them; an unknown
 * agent is shown by its id. An action this version does not know is said so, in words, never dropped.
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
          : idOf(entry.actor, 'device') !== null
            ? 'A device'
            : entry.actor;
  if (!isAuditAction(entry.action))
    return `${actor} did something this version of Clawkeep cannot describe (${entry.action})`;
  return ACTIVITY_SENTENCES[entry.action]({ actor, agent, request: what(entry.intent), entry });
}
