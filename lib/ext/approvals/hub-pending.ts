import type { Intent } from '../../protocol/wire';
import { errorMessage, type HubCore } from '../hub/hub-core';
import { HUB_PENDING } from '../../storage/persisted-keys';
import { readStored, removeStored, writeStored } from '../../storage/stored-item';
import { approveStanding } from './hub-decision';
import { refreshInstallations } from '../hub/hub-installations';

/**
 * The pending intents: kept in memory and in storage.session (so a restarted worker shows the badge at once),
 * mirrored on the badge, and announced once each through ports.newIntents.
 */

/** Worker start: restores the stored list while unlocked (not announced again), else clears the badge. */
export async function restorePending(core: HubCore): Promise<void> {
  if (core.vault.isUnlocked) {
    // A cache of the hub's list: a failing storage API reads as empty; a stored list this version cannot read is
    // shown as the hub's last error and not used (the next poll brings the list back from the hub).
    const stored = await readStored(core.ports.session, HUB_PENDING, { apiFailure: 'absent' }).catch((err: unknown) => void (core.lastError = errorMessage(err)));
    if (stored?.hub === core.settings!.hubUrl) core.pending = stored.intents;
    // Announced before the worker restarted: not new.
    core.seen = new Set(core.pending.map((i) => i.intent_id));
    core.ports.badge(core.pending.length);
  } else {
    core.ports.badge(0);
  }
}

export async function setPending(core: HubCore, intents: Intent[]): Promise<void> {
  if (!core.vault.isUnlocked) return;
  // Requests of an installation revoked on this device are not shown, whatever the hub lists (hub-revocations.ts).
  let pending = intents.filter((i) => i.status === 'pending' && !core.revoked.has(core.hub, i.installation_id));
  // What a standing approval covers is approved here, before anyone is shown or notified of it.
  const approved = await approveStanding(core, pending.filter((i) => !core.seen.has(i.intent_id)));
  if (approved.size > 0) pending = pending.filter((i) => !approved.has(i.intent_id));
  // Still being approved by an earlier update: not shown either.
  pending = pending.filter((i) => !core.autoApproving.has(i.intent_id));
  core.pending = pending;
  const fresh = pending.filter((i) => !core.seen.has(i.intent_id));
  core.seen = new Set(pending.map((i) => i.intent_id));
  core.ports.badge(pending.length);
  if (pending.some((i) => !core.installationFor(i.installation_id)) && core.hubInstallations !== null) {
    void refreshInstallations(core).catch(() => {});
  }
  await writeStored(core.ports.session, HUB_PENDING, { hub: core.hub, intents: pending }).catch(() => {});
  core.ports.changed();
  if (fresh.length > 0 && core.ports.newIntents) {
    core.ports.newIntents(
      fresh.map((i) => ({ intent_id: i.intent_id, kind: i.kind, agentName: core.agentName(i.installation_id) })),
      core.prefs(),
    );
  }
}

/** Lock: forgets the pending list (and what the hub told us), and clears the badge. */
export async function forgetPending(core: HubCore): Promise<void> {
  core.pending = [];
  core.seen.clear();
  core.hubInstallations = null;
  core.forgetInstallations();
  core.lookups.clear();
  core.lastError = null;
  await removeStored(core.ports.session, HUB_PENDING).catch(() => {});
  core.ports.badge(0);
}
