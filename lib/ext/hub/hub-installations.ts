import { verifyClaim, type ClaimStatement } from '../../protocol/approval';
import { decodePublicKey, encodePublicKey, fingerprint } from '../../protocol/keys';
import type { InstallationView } from '../../hub-client/api';
import type { HubInstallation } from '../../hub-client/client';
import { keyBindingProblem } from '../../hub-client/key-bindings';
import type { SignedKeyBinding } from '../../protocol/key-binding';
import type { LocalInstallation } from '../approvals/hub-approval';
import type { HubCore } from './hub-core';
import { HUB_LEGACY_INSTALLATIONS } from '../../storage/persisted-keys';
import { readStored, removeStored } from '../../storage/stored-item';

/**
 * The local record of an installation this device claimed, from the claim statement it signed and the agent's key
 * binding it verified (kept, so sealing re-checks it and a later hub answer cannot swap the box key).
 */
export function localInstallationFrom(
  hub: string,
  st: ClaimStatement,
  name: string,
  keyBinding: SignedKeyBinding,
): LocalInstallation {
  return {
    hub,
    installation_id: st.installation_id,
    agent_id: st.agent_id,
    name,
    signing_key: st.agent_signing_key,
    box_key: st.agent_box_key,
    key_binding: keyBinding,
    granted_scopes: st.granted_scopes,
    policy: st.policy,
    claimed_at: st.time,
  };
}

/**
 * Adopts an installation the hub lists with a claim statement this device signed (e.g. claimed before the extension
 * was reinstalled): the signature over our own device key is what makes its keys trustworthy, not the hub. The agent's
 * key binding must verify too (its signing key signed that box key for this hub): a claim signed before bindings
 * existed may name a box key the hub chose.
 */
async function adoptVerified(core: HubCore, list: HubInstallation[], deviceKey: Uint8Array): Promise<void> {
  let added = false;
  for (const h of list) {
    if (!h.claim || core.installationFor(h.installation_id) || core.revoked.has(core.hub, h.installation_id)) continue;
    let st: ClaimStatement;
    try {
      st = verifyClaim(h.claim, {
        hub: core.hub,
        agent_id: h.agent_id ?? '',
        installation_id: h.installation_id,
        device_key: encodePublicKey(deviceKey),
      });
    } catch {
      continue;
    }
    const bound = h.key_binding as SignedKeyBinding | null | undefined;
    const name = typeof bound?.statement?.name === 'string' ? bound.statement.name : null;
    if (
      keyBindingProblem(core.hub, 'agent', {
        signing_key: st.agent_signing_key,
        box_key: st.agent_box_key,
        name,
        key_binding: bound,
      }) !== null
    )
      continue;
    core.localInstallations.push(localInstallationFrom(core.hub, st, name ?? st.agent_id, bound!));
    added = true;
  }
  if (added) await core.saveInstallations();
}

/** GET /v1/installations: the hub's view of this account's installations; adopts verified ones it did not know. */
export async function refreshInstallations(core: HubCore): Promise<void> {
  const client = await core.client(false);
  const signer = await core.signer(false);
  const read = ++core.hubInstallationReads;
  try {
    const listed = await client.listInstallations();
    // Reads overlap (a denial, the stream's start, an unknown installation each begin one): an older answer that
    // arrives last would show a locked agent as active again, and nothing would read it once more. What it adopts
    // stays right however old it is (a revocation is final; an installation is adopted only by this device's claim).
    if (read === core.hubInstallationReads) core.hubInstallations = listed;
    await core.revoked.adoptFrom(core.hub, listed, core.ports.now());
    await adoptVerified(core, listed, signer.publicKey);
  } catch (err) {
    // Older hub without the route: the local records still work.
    core.hubInstallations ??= [];
    throw err;
  } finally {
    core.ports.changed();
  }
}

/**
 * Versions before issue 13 kept installation records in plaintext `chrome.storage.local`, where any local process
 * could have swapped a box key or added an installation. So they are not copied: every installation this device
 * claimed is learnt again from the claim statement it signed (refreshInstallations → adoptVerified, verified against
 * this device's key, stored in the vault), and only once the vault holds them is the plaintext copy deleted. While
 * the hub cannot be reached the copy stays, unused, for the next try. Records of other hubs go with it.
 */
export async function migrateLegacyInstallations(core: HubCore): Promise<void> {
  if (!core.vault.isUnlocked) return;
  if ((await readStored(core.ports.local, HUB_LEGACY_INSTALLATIONS, { apiFailure: 'absent' })) === undefined) return;
  await refreshInstallations(core);
  // Another refresh may have adopted them a moment earlier and still be writing: the vault must hold them first.
  await core.saveInstallations();
  await removeStored(core.ports.local, HUB_LEGACY_INSTALLATIONS);
}

/** The Agents tab: local records (verified) merged with what the hub lists (status, last activity). */
export function installationViews(core: HubCore): InstallationView[] {
  const views = new Map<string, InstallationView>();
  for (const l of core.localInstallations.filter((i) => i.hub === core.hub)) {
    views.set(l.installation_id, {
      installation_id: l.installation_id,
      agent_id: l.agent_id,
      name: l.name,
      fingerprint: fingerprint(decodePublicKey(l.signing_key, 'ed25519')),
      granted_scopes: l.granted_scopes,
      status: 'unknown',
      last_activity: null,
      verified: true,
    });
  }
  for (const h of core.hubInstallations ?? []) {
    const known = views.get(h.installation_id);
    const lastActivity = h.last_activity ?? h.last_activity_at ?? null;
    if (known) {
      views.set(h.installation_id, {
        ...known,
        status: h.status ?? known.status,
        last_activity: lastActivity,
        granted_scopes: known.granted_scopes,
      });
    } else {
      views.set(h.installation_id, {
        installation_id: h.installation_id,
        agent_id: h.agent_id ?? null,
        name: h.name ?? h.agent_name ?? h.agent_id ?? 'Unknown agent',
        fingerprint: null,
        granted_scopes: h.granted_scopes ?? [],
        status: h.status ?? 'unknown',
        last_activity: lastActivity,
        verified: false,
      });
    }
  }
  // Revoked on this device stays revoked, whatever status the hub reports.
  return [...views.values()].map((v) =>
    core.revoked.has(core.hub, v.installation_id) ? { ...v, status: 'revoked' } : v,
  );
}
