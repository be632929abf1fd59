import { Hono } from 'hono';
import { toBase64Url } from '../../lib/protocol/base64url';
import { ProtocolError } from '../../lib/protocol/errors';
import { verifyConfigDelivery } from '../../lib/protocol/sealed-config';
import {
  ConfigDeliverySchema,
  parseWire,
  type AgentConfigResponse,
  type ConfigDeleteResponse,
  type ConfigPutResponse,
} from '../../lib/protocol/wire';
import type { HubDeps } from '../deps';
import { appendAudit } from '../audit';
import { authenticateAgent, authenticateHuman, jsonBody } from '../auth';
import { deviceList } from './devices';
import { HubError } from '../errors';
import type { HubEnv } from '../middleware';
import type { Account, Installation, JsonValue } from '../store/port';
import { agentInstallation } from './intent-view';

async function ownInstallation(deps: HubDeps, account: Account, installationId: string): Promise<Installation> {
  const installation = await deps.store.installations.get(installationId);
  if (!installation || installation.accountId !== account.accountId)
    throw new HubError('not_found', 'No such installation.');
  return installation;
}

/**
 * Agent config delivery. The device PUTs one revision of a config, sealed to the agent's box key (CKSC) and signed
 * with its device key (CKCD); the hub checks the signature under the account's own device key and that the
 * statement names this hub, installation and agent and hashes these exact bytes, so it stores nothing a device did
 * not sign. It stores the ciphertext and the statement only. A PUT must carry a revision newer than the stored one
 * of the same config (else config_stale); another config replaces the stored one. DELETE unassigns. The agent GETs
 * its own installation's newest delivery and checks everything again itself: the hub is not trusted for any of it.
 */
export function agentConfigRoutes(deps: HubDeps): Hono<HubEnv> {
  return new Hono<HubEnv>()
    .put('/installations/:id/config', async (c) => {
      const { account, device, body } = await authenticateHuman(c, deps);
      const id = c.req.param('id');
      const installation = await ownInstallation(deps, account, id);
      if (installation.status === 'revoked') throw new HubError('forbidden', 'A revoked installation gets no config.');
      const delivery = parseWire(ConfigDeliverySchema, jsonBody(body));
      let verified;
      try {
        verified = verifyConfigDelivery(device.publicKey, delivery, {
          hub: deps.origin,
          agent_id: installation.agentId,
          installation_id: id,
        });
      } catch (err) {
        if (err instanceof ProtocolError)
          throw new HubError(
            'sealed_invalid',
            'The config is not sealed and signed by this device for this hub, agent and installation.',
          );
        throw err;
      }
      const { statement, sealed } = verified;
      const now = deps.now();
      await deps.store.transaction(async () => {
        const stored = await deps.store.agentConfigs.get(id);
        if (stored && stored.configId === statement.config_id && statement.revision <= stored.revision) {
          throw new HubError(
            'config_stale',
            `The hub holds revision ${stored.revision} of this config already; send a newer one.`,
          );
        }
        await deps.store.agentConfigs.put({
          installationId: id,
          configId: statement.config_id,
          revision: statement.revision,
          statement: delivery.config as unknown as JsonValue,
          sealed,
          updatedAt: now,
        });
        await appendAudit(deps.store, {
          time: now,
          actor: `account:${account.accountId}`,
          agent: installation.agentId,
          resource: `installation:${id}`,
          action: 'config.deliver',
          requestId: c.get('requestId'),
        });
      });
      const response: ConfigPutResponse = {
        installation_id: id,
        config_id: statement.config_id,
        revision: statement.revision,
        updated_at: now,
      };
      return c.json(response);
    })
    .delete('/installations/:id/config', async (c) => {
      const { account } = await authenticateHuman(c, deps);
      const id = c.req.param('id');
      const installation = await ownInstallation(deps, account, id);
      const now = deps.now();
      const deleted = await deps.store.transaction(async () => {
        const gone = await deps.store.agentConfigs.delete(id);
        if (gone) {
          await appendAudit(deps.store, {
            time: now,
            actor: `account:${account.accountId}`,
            agent: installation.agentId,
            resource: `installation:${id}`,
            action: 'config.unassign',
            requestId: c.get('requestId'),
          });
        }
        return gone;
      });
      const response: ConfigDeleteResponse = { installation_id: id, deleted };
      return c.json(response);
    })
    .get('/agent/config', async (c) => {
      const { agent } = await authenticateAgent(c, deps);
      const installation = await agentInstallation(deps, agent.agentId);
      const row = await deps.store.agentConfigs.get(installation.installationId);
      if (!row) throw new HubError('config_not_assigned', 'No agent config is assigned to this agent.');
      const response: AgentConfigResponse = {
        config: row.statement as unknown as AgentConfigResponse['config'],
        sealed_config: toBase64Url(row.sealed),
        updated_at: row.updatedAt,
      };
      // Another device of the account may have delivered it: the agent checks it descends from its pinned device.
      if ((await deps.store.devices.listByAccount(installation.accountId)).length > 0) {
        response.devices = await deviceList(deps, (await deps.store.accounts.get(installation.accountId))!);
      }
      return c.json(response);
    });
}
