import { Hono } from 'hono';
import { fromBase64UrlFixed } from '../../lib/protocol/base64url';
import { CHALLENGE_LENGTH, signHubChallenge } from '../../lib/protocol/hub-identity';
import type { HubKeyResponse } from '../../lib/protocol/wire';
import type { HubDeps } from '../deps';
import { HubError } from '../errors';
import type { HubEnv } from '../middleware';

/**
 * `GET /v1/health` → `{ok: true, version, hub_key, origin}`. Touches no storage: it says the process is up and
 * answering, and at which public origin (what clients must use: signatures bind to it).
 * `GET /v1/hub-key?challenge=C` → `{hub_key, fingerprint, proof}`: the hub's identity key and, for a client's
 * 32-byte challenge, a CKHI proof that this process holds its private half (docs/protocol.md §11). Unauthenticated:
 * a device checks the hub before it signs anything for it.
 */
export function healthRoutes(deps: HubDeps): Hono<HubEnv> {
  return new Hono<HubEnv>()
    .get('/health', (c) =>
      c.json({ ok: true, version: deps.version, hub_key: deps.identity.hubKey, origin: deps.origin }),
    )
    .get('/hub-key', (c) => {
      const query = c.req.queries();
      for (const [name, values] of Object.entries(query)) {
        if (name !== 'challenge' || values.length !== 1)
          throw new HubError('protocol_invalid', 'GET /v1/hub-key takes only challenge, once.');
      }
      const challenge = query.challenge?.[0];
      if (challenge !== undefined) fromBase64UrlFixed(challenge, CHALLENGE_LENGTH, 'challenge');
      const response: HubKeyResponse = {
        hub_key: deps.identity.hubKey,
        fingerprint: deps.identity.fingerprint,
        proof: challenge === undefined ? null : signHubChallenge(deps.identity.privateKey, deps.origin, challenge),
      };
      return c.json(response);
    });
}
