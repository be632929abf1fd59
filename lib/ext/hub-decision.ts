import { decodePublicKey, fingerprint } from '../protocol/keys';
import type { Decision } from '../protocol/approval';
import { payloadHash } from '../protocol/intent-hash';
import { requiredScope, type Scope } from '../protocol/scopes';
import type { Intent } from '../protocol/wire';
import type { PendingIntentView } from '../hub-client/api';
import { HubClientError } from '../hub-client/errors';
import { displayRisk, summarizeIntent } from '../hub-client/summary';
import type { VaultService } from '../vault/vault-service';
import { buildDecision } from './hub-approval';
import type { HubCore } from './hub-core';
import { refreshInstallations } from './hub-installations';
import { setPending } from './hub-pending';
import { pollOnce } from './hub-subscription';

/** What the person sees of each pending request (and why it may not be approved), and their signed decision. */

/** How many vault secrets carry each name. */
export async function secretNames(service: VaultService): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const s of await service.list()) if (s.kind === 'secret') counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
  return counts;
}

function payloadHashOf(intent: Intent): string {
  return payloadHash(intent.kind, intent.payload);
}

export function pendingView(core: HubCore, intent: Intent, secrets: Map<string, number>): PendingIntentView {
  const summary = summarizeIntent(intent.kind, intent.payload);
  const local = core.installationFor(intent.installation_id);
  let required: Scope | null = null;
  try {
    required = requiredScope(intent.kind, intent.payload);
  } catch {
    required = null;
  }
  let hashOk = false;
  try {
    hashOk = payloadHashOf(intent) === intent.payload_hash;
  } catch {
    hashOk = false;
  }
  let blocked: string | null = null;
  if (!hashOk) blocked = "The hub's payload hash does not match this request. Do not trust this hub.";
  else if (!local || local.agent_id !== intent.agent_id) blocked = 'This device did not claim the agent behind this request.';
  else if (!summary.valid) blocked = 'The request is malformed.';
  else if (!required || !local.granted_scopes.includes(required)) blocked = `The agent was not granted ${required ?? 'this'}.`;
  else if (intent.kind === 'secret.request') {
    const item = (intent.payload as { item: string }).item;
    const n = secrets.get(item) ?? 0;
    if (n === 0) blocked = `Your vault has no secret named "${item}".`;
    else if (n > 1) blocked = `Your vault has ${n} secrets named "${item}"; rename all but one.`;
  }
  return {
    intent,
    summary,
    risk: displayRisk(summary.risk, intent.risk),
    agentName: core.agentName(intent.installation_id),
    agentFingerprint: local ? fingerprint(decodePublicKey(local.signing_key, 'ed25519')) : null,
    grantedScopes: local?.granted_scopes ?? [],
    requiredScope: required,
    blocked,
  };
}

/** The value of the one secret named `item`, or null if there is none or more than one. */
async function readSecret(service: VaultService, item: string): Promise<string | null> {
  const matches = (await service.list()).filter((s) => s.kind === 'secret' && s.name === item);
  if (matches.length !== 1) return null;
  const found = await service.get({ id: matches[0]!.id });
  return found.kind === 'secret' && found.fields.name === item ? found.fields.value : null;
}

/** Signs the person's decision on a pending intent (sealing the secret for an approved secret.request) and sends it. */
export async function decide(core: HubCore, intentId: string, shownHash: string, decision: Decision): Promise<void> {
  await core.ready;
  if (decision !== 'approve' && decision !== 'deny') throw new HubClientError('protocol_invalid', 'Unknown decision.');
  const intent = core.pending.find((i) => i.intent_id === intentId);
  if (!intent) throw new HubClientError('intent_not_pending', 'This request is no longer pending.');
  // What the person saw is what gets signed: the page sends back the hash it displayed.
  if (intent.payload_hash !== shownHash) throw new HubClientError('payload_hash_mismatch', 'The request changed while you were looking at it. Look again.');
  const client = await core.requireEnrolledClient(true);
  const body = await core.vault.withUnlocked(async (service) => {
    const signer = await service.deviceSigner();
    return buildDecision({
      hub: core.hub,
      intent,
      decision,
      installation: core.installationFor(intent.installation_id),
      sign: (m) => signer.sign(m),
      now: core.ports.now(),
      readSecret: (item) => readSecret(service, item),
    });
  }, { activity: true });
  try {
    await client.decide(intentId, body);
  } finally {
    await pollOnce(core);
  }
  // A denial may have locked the installation (5 in a row): show it in the Agents tab.
  if (decision === 'deny') await refreshInstallations(core).catch(() => {});
  // The stream may lag behind; the decided intent is not pending any more in any case.
  if (core.pending.some((i) => i.intent_id === intentId)) await setPending(core, core.pending.filter((i) => i.intent_id !== intentId));
}
