import { Hono } from 'hono';
import * as v from 'valibot';
import { verifyInstallationRevocation } from '../../lib/protocol/revocation';
import { encodePublicKey, fingerprint } from '../../lib/protocol/keys';
import {
  RevokeRequestSchema,
  type Installation as WireInstallation,
  type InstallationListResponse,
  type RevokeResponse,
} from '../../lib/protocol/wire';
import type { HubDeps } from '../deps';
import { appendAudit } from '../audit';
import { authenticateHuman, jsonBody } from '../auth';
import { HubError } from '../errors';
import { intentEvents } from '../events';
import type { HubEnv } from '../middleware';
import type { Account, Installation, JsonValue } from '../store/port';

async function toWireInstallation(deps: HubDeps, i: Installation): Promise<WireInstallation> {
  const agent = (await deps.store.agents.get(i.agentId))!;
  const policy = i.policy as { approval_required?: string[]; daily_limit?: number | null } | null;
  return {
    installation_id: i.installationId,
    agent_id: i.agentId,
    agent_name: agent.name,
    fingerprint: fingerprint(agent.signingKey),
    agent_signing_key: encodePublicKey(agent.signingKey),
    agent_box_key: encodePublicKey(agent.boxKey),
    key_binding: agent.keyBinding,
    granted_scopes: i.grantedScopes as WireInstallation['granted_scopes'],
    policy: { approval_required: policy?.approval_required ?? [], daily_limit: policy?.daily_limit ?? null },
    status: i.status,
    consecutive_denials: i.consecutiveDenials,
    created_at: i.createdAt,
    last_activity: i.lastActivity,
    // The device's signed claim, verbatim: a device re-learns its own installations from it (never from the hub's
    // word), e.g. when moving records out of plaintext storage (lib/ext/hub/hub-installations.ts).
    claim: i.claimStatement,
    // The CKIR the revoking device signed (null before revocation, or for one from before signed revocations).
    revocation: i.revocationStatement,
  };
}

/** The caller's own installation, else not_found (another account's installation is invisible). */
async function ownInstallation(deps: HubDeps, account: Account, installationId: string): Promise<Installation> {
  const installation = await deps.store.installations.get(installationId);
  if (!installation || installation.accountId !== account.accountId)
    throw new HubError('not_found', 'No such installation.');
  return installation;
}

/**
 * `GET /v1/installations` (the human's agents), `DELETE /v1/installations/:id` (revoke: final; the agent gets
 * agent_revoked from its very next request and its open intents expire) and `POST /v1/installations/:id/enable`
 * (re-enable an installation the hub locked after too many denials in a row).
 */
export function installationRoutes(deps: HubDeps): Hono<HubEnv> {
  const events = intentEvents(deps.store);
  return new Hono<HubEnv>()
    .get('/installations', async (c) => {
      const { account } = await authenticateHuman(c, deps);
      const rows = (await deps.store.installations.listByAccount(account.accountId)).sort(
        (a, b) => a.createdAt - b.createdAt || (a.installationId < b.installationId ? -1 : 1),
      );
      const installations = await Promise.all(rows.map((i) => toWireInstallation(deps, i)));
      const response: InstallationListResponse = { installations };
      return c.json(response);
    })
    .delete('/installations/:id', async (c) => {
      const { account, device, body } = await authenticateHuman(c, deps);
      const id = c.req.param('id');
      const own = await ownInstallation(deps, account, id);
      // The revocation is the device's signed word (CKIR), stored and relayed to the agent, which verifies it itself
      // (issue 13 item 9). Checking it here is hygiene: signed by the calling device, for this hub, installation
      // and agent key. A DELETE without one is refused.
      const req = v.safeParse(RevokeRequestSchema, jsonBody(body));
      if (!req.success)
        throw new HubError('revocation_invalid', 'DELETE /v1/installations/:id needs {revocation: signed CKIR}.');
      const statement = verifyInstallationRevocation(req.output.revocation, {
        hub: deps.origin,
        installation_id: id,
        agent_signing_key: encodePublicKey((await deps.store.agents.get(own.agentId))!.signingKey),
        revoked_by: encodePublicKey(device.publicKey),
      });
      const signedRevocation = {
        statement,
        signature: (req.output.revocation as { signature: string }).signature,
      } as unknown as JsonValue;
      const now = deps.now();
      const requestId = c.get('requestId');
      const revoked = await deps.store.transaction(async () => {
        const current = (await deps.store.installations.get(id))!;
        // Revoking twice answers with the first revocation: the status change stamped last_activity.
        if (current.status === 'revoked') return { installation: current, changed: false, expired: [] as string[] };
        const installation = await deps.store.installations.revoke(id, now, signedRevocation);
        const base = { time: now, agent: installation.agentId, requestId };
        await appendAudit(deps.store, {
          ...base,
          actor: `account:${account.accountId}`,
          resource: `installation:${id}`,
          action: 'installation.revoke',
        });
        // Its open intents end with it, stored as expired in the same transaction.
        const expired = await deps.store.intents.expireForInstallation(id);
        for (const intentId of expired) {
          const intent = (await deps.store.intents.get(intentId))!;
          await appendAudit(deps.store, {
            ...base,
            actor: 'hub',
            resource: `intent:${intentId}`,
            action: 'intent.expire',
            idempotencyKey: intent.idempotencyKey,
          });
        }
        return { installation, changed: true, expired };
      });
      if (revoked.changed) {
        if (revoked.expired.length > 0) events.publish({ accountId: account.accountId, intentIds: revoked.expired });
        // The agent's held polls end at once (they would answer agent_revoked on waking anyway).
        events.closeHolder(`agent:${revoked.installation.agentId}`);
      }
      const response: RevokeResponse = { installation_id: id, revoked_at: revoked.installation.lastActivity ?? now };
      return c.json(response);
    })
    .post('/installations/:id/enable', async (c) => {
      const { account, body } = await authenticateHuman(c, deps);
      if (body.length > 0)
        throw new HubError('protocol_invalid', 'POST /v1/installations/:id/enable takes an empty body.');
      const id = c.req.param('id');
      await ownInstallation(deps, account, id);
      const now = deps.now();
      const installation = await deps.store.transaction(async () => {
        const current = (await deps.store.installations.get(id))!;
        if (current.status === 'revoked')
          throw new HubError('forbidden', 'A revoked installation cannot be re-enabled.');
        if (current.status === 'active') return current;
        await deps.store.installations.setStatus(id, 'active', now);
        // Counting starts over: recording an approval is how the store resets the denial streak.
        const enabled = await deps.store.installations.recordDecision(id, true, now);
        await appendAudit(deps.store, {
          time: now,
          actor: `account:${account.accountId}`,
          agent: enabled.agentId,
          resource: `installation:${id}`,
          action: 'installation.enable',
          requestId: c.get('requestId'),
        });
        return enabled;
      });
      return c.json(await toWireInstallation(deps, installation));
    });
}
