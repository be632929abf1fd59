import type { StandingApprovalView } from '../../hub-client/api';
import { HubClientError } from '../../hub-client/errors';
import type { VaultService } from '../../vault/vault-service';
import type { HubCore } from '../hub/hub-core';

/** The Agents tab's list of standing approvals on the current hub, and revoking them. */

export async function standingApprovalViews(core: HubCore, service: VaultService): Promise<StandingApprovalView[]> {
  const list = await core.standing.update(service, (l) => ({ next: null, value: l }));
  return list
    .filter((a) => a.hub === core.hub)
    .map((a) => ({
      id: a.id,
      installation_id: a.installation_id,
      agentName: core.agentName(a.installation_id),
      kind: a.kind,
      item: a.item,
      reason: a.reason,
      payload_hash: a.payload_hash,
      created_at: a.created_at,
      last_used_at: a.last_used_at,
      uses: a.uses,
    }));
}

export async function revokeStandingApproval(core: HubCore, id: string): Promise<void> {
  await core.ready;
  const found = await core.vault.withUnlocked(
    (service) =>
      core.standing.update(service, (list) => {
        const next = list.filter((a) => a.id !== id);
        return { next: next.length === list.length ? null : next, value: next.length !== list.length };
      }),
    { activity: true },
  );
  if (!found) throw new HubClientError('not_found', 'That standing approval no longer exists.');
  core.ports.changed();
}

/** Drops every standing approval for one installation (it was revoked). */
export async function forgetStandingApprovals(core: HubCore, installationId: string): Promise<void> {
  await core.vault.withUnlocked(
    (service) =>
      core.standing.update(service, (list) => {
        const next = list.filter((a) => !(a.hub === core.hub && a.installation_id === installationId));
        return { next: next.length === list.length ? null : next, value: null };
      }),
    { activity: true },
  );
}
