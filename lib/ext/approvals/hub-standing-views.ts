import type { HttpRuleView, StandingApprovalView } from '../../hub-client/api';
import { HubClientError } from '../../hub-client/errors';
import { httpRuleParts } from '../../hub-client/http-rule-scope';
import type { VaultService } from '../../vault/vault-service';
import type { HubCore } from '../hub/hub-core';
import { isHttpRule, usesInWindow } from './http-rules';

/** The Agents tab's list of standing approvals and http.request rules on the current hub, and revoking them. */

export async function standingViews(
  core: HubCore,
  service: VaultService,
): Promise<{ standingApprovals: StandingApprovalView[]; httpRules: HttpRuleView[] }> {
  const list = (await core.standing.update(service, (l) => ({ next: null, value: l }))).filter(
    (a) => a.hub === core.hub,
  );
  const now = core.ports.now();
  return {
    standingApprovals: list.flatMap((a) =>
      isHttpRule(a)
        ? []
        : [
            {
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
            },
          ],
    ),
    httpRules: list.filter(isHttpRule).map((r) => ({
      id: r.id,
      installation_id: r.installation_id,
      agentName: core.agentName(r.installation_id),
      method: r.method,
      host: r.host,
      path_prefix: r.path_prefix,
      secrets: r.secrets,
      ...httpRuleParts(r),
      limit_per_day: r.limit_per_day,
      usedToday: usesInWindow(r, now),
      created_at: r.created_at,
      last_used_at: r.last_used_at,
      uses: r.uses,
    })),
  };
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
  if (!found) throw new HubClientError('not_found', 'That standing approval or rule no longer exists.');
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
