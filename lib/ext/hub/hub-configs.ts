import { wipe } from '../../bytes';
import { ClawkeepError } from '../../errors';
import type { DeviceSigner } from '../../identity/device-key';
import type { AgentConfigOption, ConfigAssignmentView } from '../../hub-client/api';
import type { HubClient } from '../../hub-client/client';
import { HubClientError } from '../../hub-client/errors';
import { encodeConfigPayload } from '../../protocol/config-payload';
import { buildConfigDelivery } from '../../protocol/sealed-config';
import type { AgentConfigItem } from '../../vault/types';
import type { VaultService } from '../../vault/vault-service';
import { verifiedBoxKey, type LocalInstallation } from '../approvals/hub-approval';
import { loadConfigAssignments, type ConfigAssignment } from './hub-config-assignments';
import type { HubCore } from './hub-core';

/**
 * Agent config delivery from the device: a vault agent config is sealed to a claimed agent's box key (from the
 * claim this device signed, never from the hub), signed with the device key and uploaded; the hub stores only that.
 * The revision is the vault item's revision, so an edit (which bumps it) is delivered again by syncConfigs, which
 * the background runs when vault items change, on unlock and on its one-minute alarm.
 */

async function agentConfigItem(service: VaultService, configId: string): Promise<AgentConfigItem | null> {
  try {
    const item = await service.get({ id: configId });
    return item.kind === 'agentConfig' ? item : null;
  } catch (err) {
    if (err instanceof ClawkeepError && err.code === 'item_not_found') return null;
    throw err;
  }
}

/** Seals, signs and PUTs the item's current revision. A `config_stale` answer means the hub holds it already. */
async function deliver(
  core: HubCore,
  client: HubClient,
  signer: DeviceSigner,
  item: AgentConfigItem,
  installation: LocalInstallation,
): Promise<ConfigAssignment> {
  // Before the config is even encoded: no config is sealed to a box key the agent did not vouch for (issue 13 item 2).
  const boxKey = verifiedBoxKey(core.hub, installation);
  const { name, model, providerKeys, env, json } = item.fields;
  const plaintext = encodeConfigPayload({ name, model, provider_keys: providerKeys, env, json });
  try {
    const delivery = await buildConfigDelivery({
      hub: core.hub,
      agent_id: installation.agent_id,
      installation_id: installation.installation_id,
      config_id: item.id,
      revision: item.revision,
      boxKey,
      plaintext,
      sign: (m) => signer.sign(m),
      now: core.ports.now(),
    });
    await client.putConfig(installation.installation_id, delivery);
  } catch (err) {
    if (!(err instanceof HubClientError && err.code === 'config_stale')) throw err;
  } finally {
    wipe(plaintext);
  }
  return {
    hub: core.hub,
    installation_id: installation.installation_id,
    agent_id: installation.agent_id,
    config_id: item.id,
    revision: item.revision,
    delivered_at: core.ports.now(),
  };
}

function claimedInstallation(core: HubCore, installationId: string): LocalInstallation {
  // Revoked on this device: refused whatever the hub lists (hub-revocations.ts).
  if (core.revoked.has(core.hub, installationId)) throw new HubClientError('forbidden', 'That agent was revoked.');
  const installation = core.installationFor(installationId);
  if (!installation)
    throw new HubClientError(
      'installation_unknown',
      'This device did not claim that agent: it has no key to seal a config to.',
    );
  const status = core.hubInstallations?.find((h) => h.installation_id === installationId)?.status;
  if (status === 'revoked') throw new HubClientError('forbidden', 'That agent was revoked.');
  return installation;
}

/** Assigns the vault's agent config `configId` to one claimed agent (replacing its previous config). */
export async function assignConfig(core: HubCore, configId: string, installationId: string): Promise<void> {
  await core.ready;
  await core.ensureInstallations();
  const client = await core.requireEnrolledClient(true);
  const installation = claimedInstallation(core, installationId);
  await core.vault.withUnlocked(
    async (service) => {
      const item = await agentConfigItem(service, configId);
      if (!item) throw new HubClientError('item_not_found', 'That agent config is not in the vault.');
      const signer = await service.deviceSigner();
      await core.configs.run(service, async (list) => {
        const sent = await deliver(core, client, signer, item, installation);
        const others = list.filter((a) => !(a.hub === core.hub && a.installation_id === installationId));
        return { next: [...others, sent], value: null };
      });
    },
    { activity: true },
  );
  core.ports.changed();
}

/** Deletes the agent's config at the hub and forgets the assignment. */
export async function unassignConfig(core: HubCore, installationId: string): Promise<void> {
  await core.ready;
  const client = await core.requireEnrolledClient(true);
  await client.deleteConfig(installationId);
  await forgetConfigAssignment(core, installationId);
  core.ports.changed();
}

/** Drops the assignment of one installation from the vault record (unassigned, or the agent was revoked). */
export async function forgetConfigAssignment(core: HubCore, installationId: string): Promise<void> {
  await core.vault.withUnlocked(
    (service) =>
      core.configs.run(service, async (list) => {
        const next = list.filter((a) => !(a.hub === core.hub && a.installation_id === installationId));
        return { next: next.length === list.length ? null : next, value: null };
      }),
    { activity: true },
  );
}

/**
 * Re-delivers every assigned config whose vault item has a newer revision than the one delivered, and unassigns
 * those whose item was deleted. Never extends the idle timer; an assignment that fails (hub away) stays as it was
 * and is tried again at the next sync. Returns how many deliveries changed.
 */
export async function syncConfigs(core: HubCore): Promise<number> {
  await core.ready;
  if (!core.vault.isUnlocked) return 0;
  await core.ensureInstallations();
  let changed = 0;
  try {
    await core.vault.withUnlocked(
      async (service) => {
        const signer = await service.deviceSigner();
        if (!core.isEnrolled(signer)) return;
        await core.configs.run(service, async (list) => {
          if (!list.some((a) => a.hub === core.hub)) return { next: null, value: null };
          const client = await core.client(false);
          const next: ConfigAssignment[] = [];
          for (const a of list) {
            if (a.hub !== core.hub) {
              next.push(a);
              continue;
            }
            try {
              const item = await agentConfigItem(service, a.config_id);
              if (!item) {
                await client.deleteConfig(a.installation_id);
                changed++;
                continue;
              }
              const installation = core.installationFor(a.installation_id);
              if (item.revision > a.revision && installation) {
                next.push(await deliver(core, client, signer, item, installation));
                changed++;
                continue;
              }
            } catch {
              // Kept as it was: the next sync tries again.
            }
            next.push(a);
          }
          return { next: changed > 0 ? next : null, value: null };
        });
      },
      { activity: false },
    );
  } catch {
    return changed;
  }
  if (changed > 0) core.ports.changed();
  return changed;
}

/** The Agents tab's lists: the vault's agent configs (names only) and what is delivered to whom. */
export async function configViews(
  core: HubCore,
  service: VaultService,
): Promise<{ agentConfigs: AgentConfigOption[]; configAssignments: ConfigAssignmentView[] }> {
  const summaries = (await service.listInBackground()).filter((s) => s.kind === 'agentConfig');
  const byId = new Map(summaries.map((s) => [s.id, s]));
  const list = await loadConfigAssignments(service);
  return {
    agentConfigs: summaries
      .map((s) => ({ id: s.id, name: s.name, revision: s.revision }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    configAssignments: list
      .filter((a) => a.hub === core.hub)
      .map((a) => {
        const item = byId.get(a.config_id);
        return {
          installation_id: a.installation_id,
          agentName: core.agentName(a.installation_id),
          config_id: a.config_id,
          configName: item?.name ?? null,
          revision: a.revision,
          delivered_at: a.delivered_at,
          outdated: !!item && item.revision > a.revision,
        };
      }),
  };
}
