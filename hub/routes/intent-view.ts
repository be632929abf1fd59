import type { Context } from 'hono';
import { toHex } from '../../lib/bytes';
import { HEADER_ROLE } from '../../lib/protocol/request-signing';
import type { Intent as WireIntent, IntentStatus as WireStatus } from '../../lib/protocol/wire';
import type { HubDeps } from '../deps';
import { authenticateAgent, authenticateHuman } from '../auth';
import { HubError } from '../errors';
import type { HubEnv } from '../middleware';
import type { Account, Agent, Installation, Intent } from '../store/port';

/** How long an intent waits for a decision and, once approved, for its execution. */
export const INTENT_TTL_MS = 10 * 60 * 1000;
/** Denials in a row after which an installation is locked until its human re-enables it. */
export const LOCK_AFTER_DENIALS = 5;

const NOT_FOUND = 'No such intent.';

/**
 * The status a client sees. The store keeps `executed` as executed_at and only moves pending intents to `expired`
 * (its sweep); an approved intent not executed by expires_at, and any open intent of a revoked installation, are
 * expired too (docs/protocol.md §10), so that is derived here at read time.
 */
export function wireStatus(intent: Intent, installation: Installation, now: number): WireStatus {
  if (intent.executedAt !== null) return 'executed';
  if (
    (intent.status === 'pending' || intent.status === 'approved') &&
    (intent.expiresAt <= now || installation.status === 'revoked')
  ) {
    return 'expired';
  }
  return intent.status;
}

/** The payload of an intent the retention sweep purged (hub/intent-retention.ts). */
export const INTENT_PURGED = '';

/**
 * The wire form of a stored intent (docs/protocol.md §8).
 * @throws HubError `intent_purged` when the retention sweep deleted its payload.
 */
export function toWireIntent(intent: Intent, installation: Installation, now: number): WireIntent {
  if (intent.payload === INTENT_PURGED) {
    throw new HubError('intent_purged', 'This intent is older than the hub keeps intents; its payload was deleted.');
  }
  const out: WireIntent = {
    intent_id: intent.intentId,
    agent_id: installation.agentId,
    installation_id: intent.installationId,
    kind: intent.kind,
    payload: JSON.parse(intent.payload) as WireIntent['payload'],
    payload_hash: toHex(intent.payloadHash),
    status: wireStatus(intent, installation, now),
    risk: intent.risk as WireIntent['risk'],
    created_at: intent.createdAt,
    expires_at: intent.expiresAt,
  };
  if (intent.agentNonce !== null) out.agent_nonce = intent.agentNonce;
  if (intent.decidedAt !== null) out.decided_at = intent.decidedAt;
  if (intent.executedAt !== null) out.executed_at = intent.executedAt;
  if (intent.decisionStatement !== null) out.approval = intent.decisionStatement as unknown as WireIntent['approval'];
  return out;
}

/**
 * The installation an agent acts through: its unrevoked one. Revocation takes effect on the very next request
 * because this reads the store every time.
 */
export async function agentInstallation(deps: HubDeps, agentId: string): Promise<Installation> {
  const all = await deps.store.installations.listByAgent(agentId);
  const live = all.find((i) => i.status !== 'revoked');
  if (live) return live;
  if (all.length > 0)
    throw new HubError('agent_revoked', 'This installation was revoked; only GET /v1/agents/me still answers.');
  throw new HubError('agent_not_claimed', 'No human has claimed this agent yet.');
}

/** An intent of one of the agent's installations, else not_found (another agent's intent is invisible). */
export async function agentIntent(
  deps: HubDeps,
  agent: Agent,
  intentId: string,
): Promise<{ intent: Intent; installation: Installation }> {
  const intent = await deps.store.intents.get(intentId);
  const installation = intent && (await deps.store.installations.get(intent.installationId));
  if (!intent || !installation || installation.agentId !== agent.agentId) throw new HubError('not_found', NOT_FOUND);
  return { intent, installation };
}

/** An intent of one of the account's installations, else not_found. */
export async function humanIntent(
  deps: HubDeps,
  account: Account,
  intentId: string,
): Promise<{ intent: Intent; installation: Installation }> {
  const intent = await deps.store.intents.get(intentId);
  const installation = intent && (await deps.store.installations.get(intent.installationId));
  if (!intent || !installation || installation.accountId !== account.accountId)
    throw new HubError('not_found', NOT_FOUND);
  return { intent, installation };
}

/**
 * For endpoints both roles may call: dispatches on `ck-role`, which the signature covers, so a caller cannot claim
 * one role and be verified as the other.
 */
export async function authenticateEither(
  c: Context<HubEnv>,
  deps: HubDeps,
): Promise<{ agent: Agent } | { account: Account; deviceKeyId: string }> {
  if (c.req.header(HEADER_ROLE) === 'agent') return { agent: (await authenticateAgent(c, deps)).agent };
  const { account, device } = await authenticateHuman(c, deps);
  return { account, deviceKeyId: device.keyId };
}

/**
 * For responses that outlive the request's authentication (event streams, held polls): throws `device_revoked`
 * once the device was removed, so nothing more is sent to it. The enrolling device (key id = account id) cannot
 * be removed.
 */
export async function assertDeviceActive(deps: HubDeps, deviceKeyId: string): Promise<void> {
  if ((await deps.store.devices.get(deviceKeyId))?.revokedAt != null) {
    throw new HubError('device_revoked', 'This device was removed from its account. Pair it again to use it.');
  }
}
