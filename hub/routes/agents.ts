import { Hono } from 'hono';
import { fromHex, randomBytes, utf8Encode } from '../../lib/bytes';
import { toBase64Url } from '../../lib/protocol/base64url';
import { claimCodeHash, generateClaimCode } from '../../lib/protocol/claim-code';
import { verifyKeyBinding } from '../../lib/protocol/key-binding';
import { decodePublicKey } from '../../lib/protocol/keys';
import {
  parseWire,
  RegisterAgentRequestSchema,
  type AgentMeResponse,
  type RegisterAgentResponse,
} from '../../lib/protocol/wire';
import type { HubDeps } from '../deps';
import { appendAudit } from '../audit';
import { authenticateAgent, jsonBody } from '../auth';
import { HubError } from '../errors';
import type { JsonValue } from '../store/port';
import { fetchManifest, ManifestFetchError, type ManifestFetchOptions } from '../manifest-fetch';
import type { HubEnv } from '../middleware';
import { readBody } from '../ingress';
import { limiterFor, type Limiter } from '../rate-limit';
import { purgeUnclaimedAgents } from '../registration-purge';
import { clientAddress, enforceLimit } from './client-address';
import { deviceList } from './devices';

/** RFC 8628-style: a claim code is short-lived and single use. */
export const CLAIM_TTL_MS = 10 * 60 * 1000;

export interface AgentRouteOptions {
  /** Registrations per client address (unauthenticated route). */
  registerLimiter?: Limiter;
  /** Tests only: lets the manifest fetcher reach a loopback test server. */
  manifestFetch?: ManifestFetchOptions;
}

async function manifestSnapshot(manifest: { markdown: string } | { url: string }, options?: ManifestFetchOptions) {
  if ('markdown' in manifest) return manifest.markdown;
  try {
    return (await fetchManifest(manifest.url, options)).markdown;
  } catch (err) {
    if (err instanceof ManifestFetchError) throw new HubError('protocol_invalid', `manifest.url: ${err.message}`);
    throw err;
  }
}

/** `POST /v1/agents`: an agent registers its public keys and manifest and gets a claim code for its human. */
export function agentRoutes(deps: HubDeps, options: AgentRouteOptions = {}): Hono<HubEnv> {
  const limiter =
    options.registerLimiter ??
    limiterFor(deps.store, 'register', { burst: 10, sustained: 30, perSeconds: 3600 }, deps.now);
  return new Hono<HubEnv>()
    .get('/agents/me', async (c) => {
      const { agent } = await authenticateAgent(c, deps);
      return c.json(await agentStatus(deps, agent.agentId));
    })
    .post('/agents', async (c) => {
      await enforceLimit(limiter, clientAddress(c));
      const body = parseWire(RegisterAgentRequestSchema, jsonBody(await readBody(c)));
      // The signing key vouches for the box key, for this hub and this name (issue 13 item 2): a device seals only to a
      // box key it can check this way, so the hub stores the binding to hand it over with the keys.
      const binding = verifyKeyBinding(body.key_binding, {
        hub: deps.origin,
        role: 'agent',
        signing_key: body.signing_key,
        box_key: body.box_key,
        name: body.name,
      });
      const keyBinding = { statement: binding, signature: (body.key_binding as { signature: string }).signature };
      // Fetched before the transaction: nothing may await inside it.
      const markdown = await manifestSnapshot(body.manifest, options.manifestFetch);
      const manifestSha256 = new Uint8Array(
        await crypto.subtle.digest('SHA-256', utf8Encode(markdown) as Uint8Array<ArrayBuffer>),
      );
      const now = deps.now();
      const claimCode = generateClaimCode();
      const agentId = `agt_${toBase64Url(randomBytes(16))}`;
      const expiresAt = now + CLAIM_TTL_MS;
      // Expired registrations go before a new one comes in: a registration flood cannot outgrow the sweep.
      await purgeUnclaimedAgents(deps.store, now);
      await deps.store.transaction(async () => {
        await deps.store.agents.create({
          agentId,
          name: body.name,
          signingKey: decodePublicKey(body.signing_key, 'ed25519'),
          boxKey: decodePublicKey(body.box_key, 'x25519'),
          manifestSnapshot: markdown,
          manifestSha256,
          requestedScopes: [...body.requested_scopes].sort(),
          claimCodeHash: fromHex(claimCodeHash(claimCode)),
          claimExpiresAt: expiresAt,
          createdAt: now,
          keyBinding: keyBinding as unknown as JsonValue,
        });
        await appendAudit(deps.store, {
          time: now,
          actor: `agent:${agentId}`,
          agent: agentId,
          resource: `agent:${agentId}`,
          action: 'agent.register',
          requestId: c.get('requestId'),
        });
      });
      const response: RegisterAgentResponse = { agent_id: agentId, claim_code: claimCode, expires_at: expiresAt };
      return c.json(response, 201);
    });
}

type Installed = NonNullable<AgentMeResponse['installation']>;

/** What an agent learns about itself: unclaimed, claimed (with the human's signed claim to verify), or revoked. */
async function agentStatus(deps: HubDeps, agentId: string): Promise<AgentMeResponse> {
  const installations = await deps.store.installations.listByAgent(agentId);
  const current = installations.find((i) => i.status !== 'revoked') ?? installations.at(-1);
  if (!current) return { agent_id: agentId, status: 'unclaimed' };
  return {
    agent_id: agentId,
    status: current.status === 'revoked' ? 'revoked' : 'claimed',
    installation: {
      installation_id: current.installationId,
      granted_scopes: current.grantedScopes as Installed['granted_scopes'],
      claim: current.claimStatement as unknown as Installed['claim'],
      ...(current.revocationStatement !== null ? { revocation: current.revocationStatement } : {}),
    },
    // Who signed the revocation: the agent checks it is its pinned device or one that device added.
    ...(current.revocationStatement !== null
      ? { devices: await deviceList(deps, (await deps.store.accounts.get(current.accountId))!) }
      : {}),
  };
}
