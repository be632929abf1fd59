import { Hono } from 'hono';
import { fromHex, toHex } from '../../lib/bytes';
import { CLAIM_FORMAT, verifyClaim } from '../../lib/protocol/approval';
import { ProtocolError } from '../../lib/protocol/errors';
import { claimCodeHash, normalizeClaimCode } from '../../lib/protocol/claim-code';
import { encodePublicKey, fingerprint } from '../../lib/protocol/keys';
import {
  ClaimLookupRequestSchema,
  ClaimRequestSchema,
  parseWire,
  type ClaimLookupResponse,
  type ClaimResponse,
} from '../../lib/protocol/wire';
import type { HubDeps } from '../deps';
import { appendAudit } from '../audit';
import { authenticateHuman, jsonBody } from '../auth';
import { HubError } from '../errors';
import type { HubEnv } from '../middleware';
import { limiterFor, type Limiter } from '../rate-limit';
import type { Agent, JsonValue } from '../store/port';
import { enforceLimit } from './client-address';

const CODE_INVALID = 'Unknown or expired claim code.';

/** The unclaimed agent whose live claim code hashes to `hashHex`, else `claim_code_invalid`. */
async function agentForCode(deps: HubDeps, hashHex: string): Promise<Agent> {
  const agent = await deps.store.agents.findByClaimCode(fromHex(hashHex), deps.now());
  if (!agent) throw new HubError('claim_code_invalid', CODE_INVALID);
  return agent;
}

/**
 * `POST /v1/claims/lookup` shows a human what they are about to claim; `POST /v1/claims` records the claim the
 * device signed. The claim is self-certifying (the agent re-verifies it), and the hub checks that it names this hub,
 * this agent's registered keys, the live claim code, the calling device, a subset of the requested scopes and a new
 * installation id. Lookups are rate-limited per device (RFC 8628 §5.1: short codes must not be guessable online).
 */
/**
 * Refuses a claim for an agent that is installed already (409), or whose installation id another claim took (400).
 * The same claim sent at once to several hub processes must lose with 409 wherever it loses: a loser may already
 * see the winner's installation under its id, which is this agent's and so "claimed already", not a bad claim.
 */
async function refuseIfInstalled(deps: HubDeps, agentId: string, installationId?: string): Promise<void> {
  if ((await deps.store.installations.listByAgent(agentId)).some((i) => i.status !== 'revoked'))
    throw new HubError('agent_already_claimed', 'This agent was claimed already.');
  if (installationId === undefined) return;
  const taken = await deps.store.installations.get(installationId);
  if (!taken) return;
  if (taken.agentId === agentId && taken.status !== 'revoked')
    throw new HubError('agent_already_claimed', 'This agent was claimed already.');
  throw new HubError('claim_invalid', 'That installation id is taken.');
}

export function claimRoutes(
  deps: HubDeps,
  limiter: Limiter = limiterFor(deps.store, 'claim-lookup', { burst: 10, sustained: 60, perSeconds: 3600 }, deps.now),
): Hono<HubEnv> {
  return new Hono<HubEnv>()
    .post('/claims/lookup', async (c) => {
      const { account, body } = await authenticateHuman(c, deps);
      await enforceLimit(limiter, account.accountId);
      const { claim_code } = parseWire(ClaimLookupRequestSchema, jsonBody(body));
      let hash: string;
      try {
        normalizeClaimCode(claim_code);
        hash = claimCodeHash(claim_code);
      } catch {
        throw new HubError('claim_code_invalid', CODE_INVALID);
      }
      const agent = await agentForCode(deps, hash);
      const response: ClaimLookupResponse = {
        agent_id: agent.agentId,
        name: agent.name,
        fingerprint: fingerprint(agent.signingKey),
        signing_key: encodePublicKey(agent.signingKey),
        box_key: encodePublicKey(agent.boxKey),
        key_binding: agent.keyBinding,
        manifest: { markdown: agent.manifestSnapshot, sha256: toHex(agent.manifestSha256) },
        requested_scopes: agent.requestedScopes as ClaimLookupResponse['requested_scopes'],
        expires_at: agent.claimExpiresAt!,
      };
      return c.json(response);
    })
    .post('/claims', async (c) => {
      const { account, device, body } = await authenticateHuman(c, deps);
      const raw = jsonBody(body);
      // A statement that breaks the claim format (e.g. a policy without secret.request) is a bad claim, not bad JSON.
      const rawStatement = (raw as { claim?: { statement?: unknown } } | null)?.claim?.statement;
      if (rawStatement !== undefined) {
        try {
          CLAIM_FORMAT.validate(rawStatement);
        } catch (err) {
          throw new HubError(
            'claim_invalid',
            `The claim is malformed: ${err instanceof ProtocolError ? err.message : 'invalid statement.'}`,
          );
        }
      }
      const { claim } = parseWire(ClaimRequestSchema, raw);
      const agent = await deps.store.agents.get(claim.statement.agent_id);
      if (!agent) throw new HubError('claim_code_invalid', CODE_INVALID);
      await refuseIfInstalled(deps, agent.agentId);
      const codeHash = agent.claimCodeHash && toHex(agent.claimCodeHash);
      if (!codeHash || (agent.claimExpiresAt ?? 0) <= deps.now())
        throw new HubError('claim_code_invalid', CODE_INVALID);
      const statement = verifyClaim(claim, {
        hub: deps.origin,
        agent_id: agent.agentId,
        agent_signing_key: encodePublicKey(agent.signingKey),
        agent_box_key: encodePublicKey(agent.boxKey),
        claim_code_hash: codeHash,
        device_key: encodePublicKey(device.publicKey),
      });
      const requested = new Set(agent.requestedScopes as string[]);
      if (!statement.granted_scopes.every((s) => requested.has(s))) {
        throw new HubError('claim_invalid', 'The claim grants a scope the agent did not ask for.');
      }
      await refuseIfInstalled(deps, agent.agentId, statement.installation_id);
      const now = deps.now();
      await deps.store.transaction(async () => {
        // Checked again under the transaction lock: the same claim sent at once to two hub processes (or twice to
        // one) passed the checks above both times, and only one may install.
        await refuseIfInstalled(deps, agent.agentId, statement.installation_id);
        await deps.store.installations.create({
          installationId: statement.installation_id,
          agentId: agent.agentId,
          accountId: account.accountId,
          grantedScopes: statement.granted_scopes,
          policy: statement.policy as unknown as JsonValue,
          claimStatement: claim as unknown as JsonValue,
          createdAt: now,
        });
        // Single use: the code stops working the moment it is claimed.
        await deps.store.agents.clearClaimCode(agent.agentId);
        await appendAudit(deps.store, {
          time: now,
          actor: `account:${account.accountId}`,
          agent: agent.agentId,
          resource: `installation:${statement.installation_id}`,
          action: 'installation.claim',
          requestId: c.get('requestId'),
        });
      });
      const response: ClaimResponse = { installation_id: statement.installation_id };
      return c.json(response, 201);
    });
}
