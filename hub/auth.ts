import type { Context } from 'hono';
import { checkRequestHeaders, verifyRequestBody, type Role } from '../lib/protocol/request-signing';
import { parseStrictJson } from '../lib/protocol/strict-json';
import type { HubDeps } from './deps';
import { HubError } from './errors';
import type { HubEnv } from './middleware';
import type { Account, AccountDevice, Agent } from './store/port';
import { enforceLimit } from './routes/client-address';
import { recordRefusal } from './refusal-audit';
import { readBody, requestTarget } from './ingress';

/**
 * Set by a signed request's verification: the commit of its nonce (NonceRepo.remember). hub/app.ts holds the answer
 * until it resolved, so nothing is answered before the nonce that refuses its replay is durable.
 */
export type AuthVariables = { nonceDurable: Promise<void> };

/** A verified request: who signed it and the exact body bytes the signature covered (parse JSON from these). */
interface Verified {
  role: Role;
  keyId: string;
  body: Uint8Array;
  /** The row the key was found in, so callers need not read it again (one query fewer per request). */
  signer: { agent?: Agent; account?: Account; device?: AccountDevice };
}

/**
 * Verifies a signed request: Ed25519 over method, target, body hash, timestamp, nonce and this hub's origin, ±60 s,
 * nonce replay cache in the store. `extraHumanKey` lets enrolment prove possession of a key the hub does not know yet.
 *
 * In two halves around the body (issue 16): first what the headers alone show (well-formed, timestamp in the window,
 * a known key), and only then the body is read (within its route's cap and budget, hub/ingress.ts), its hash
 * signed-checked and the nonce spent. A request naming no live key, or an old one, is refused before a byte of its
 * body is read.
 */
async function verifySigned(
  c: Context<HubEnv>,
  deps: HubDeps,
  extraHumanKey?: { keyId: string; key: Uint8Array },
): Promise<Verified> {
  const now = deps.now();
  const signer: Verified['signer'] = {};
  const checked = await checkRequestHeaders({
    headers: c.req.raw.headers,
    now,
    publicKeyFor: async (r, id) => {
      if (r === 'agent') return (signer.agent = (await deps.store.agents.get(id)) ?? undefined)?.signingKey ?? null;
      if (extraHumanKey?.keyId === id) return extraHumanKey.key;
      // The enrolling device is the account's own key; paired devices are in account_devices. A revoked device's
      // key is still returned so its signature is checked first: only a request it really signed learns
      // `device_revoked` (authenticateHuman), anyone else gets the usual auth errors.
      signer.account = (await deps.store.accounts.get(id)) ?? undefined;
      if (signer.account) return signer.account.devicePublicKey;
      signer.device = (await deps.store.devices.get(id)) ?? undefined;
      return signer.device?.publicKey ?? null;
    },
  });
  const body = await readBody(c);
  const { role, keyId } = await verifyRequestBody(checked, {
    method: c.req.method,
    path: requestTarget(c),
    body,
    hub: deps.origin,
    // Humans and agents share one nonce table: prefixing the role keeps their key ids apart.
    seenNonce: async (id, nonce, expiresAt, r) => {
      const { fresh, durable } = await deps.store.nonces.remember(`${r}:${id}`, nonce, expiresAt, now);
      // The request goes on at once (its own writes join the nonce's group commit); its answer waits (hub/app.ts).
      c.set('nonceDurable', durable);
      return !fresh;
    },
  });
  // After verification, so only the key's holder spends its budget (a forger naming someone's key id cannot), and
  // per key rather than per address (issue 13 item 12): all local callers share 127.0.0.1.
  await enforceLimit(deps.signedLimiter, `${role}:${keyId}`);
  return { role, keyId, body, signer };
}

function wrongRole(expected: Role): HubError {
  return new HubError(
    'forbidden',
    expected === 'human' ? 'Only a human device may call this.' : 'Only an agent may call this.',
  );
}

/** The calling device: the enrolling key (key id = account id) or a paired device of the account. */
export interface CallerDevice {
  keyId: string;
  publicKey: Uint8Array;
}

/**
 * A signed request from a human device: the account's enrolling device or a paired device that was not removed.
 * @throws HubError `device_revoked` for a removed device (after its signature verified).
 */
export async function authenticateHuman(
  c: Context<HubEnv>,
  deps: HubDeps,
): Promise<{ account: Account; device: CallerDevice; body: Uint8Array }> {
  const v = await verifySigned(c, deps);
  if (v.role !== 'human') throw wrongRole('human');
  const own = v.signer.account;
  if (own) return { account: own, device: { keyId: v.keyId, publicKey: own.devicePublicKey }, body: v.body };
  const device = v.signer.device!;
  if (device.revokedAt !== null) {
    // Audited (issue 15: Activity lists refused attempts), once a minute at most per device.
    await recordRefusal(deps, {
      action: 'device.refused.revoked',
      actor: `device:${v.keyId}`,
      resource: `account:${device.accountId}`,
      requestId: c.get('requestId'),
    });
    throw new HubError('device_revoked', 'This device was removed from its account. Pair it again to use it.');
  }
  return {
    account: (await deps.store.accounts.get(device.accountId))!,
    device: { keyId: v.keyId, publicKey: device.publicKey },
    body: v.body,
  };
}

/** A signed request from a registered agent. */
export async function authenticateAgent(
  c: Context<HubEnv>,
  deps: HubDeps,
): Promise<{ agent: Agent; body: Uint8Array }> {
  const v = await verifySigned(c, deps);
  if (v.role !== 'agent') throw wrongRole('agent');
  return { agent: v.signer.agent!, body: v.body };
}

/** A request signed by a device key that is not enrolled yet: proof of possession for POST /v1/accounts. */
export async function authenticateEnrolling(
  c: Context<HubEnv>,
  deps: HubDeps,
  keyId: string,
  key: Uint8Array,
): Promise<Uint8Array> {
  const v = await verifySigned(c, deps, { keyId, key });
  if (v.role !== 'human' || v.keyId !== keyId)
    throw new HubError('forbidden', 'Sign the enrolment with the device key being enrolled.');
  return v.body;
}

/**
 * Parses body bytes as strict JSON (an empty body is `undefined`): UTF-8 decoded fatally, duplicate member names
 * refused (lib/protocol/strict-json.ts). Every route parses its body here, signed or not.
 * @throws ProtocolError `protocol_invalid` (answered 400 like any other)
 */
export function jsonBody(body: Uint8Array): unknown {
  if (body.length === 0) return undefined;
  return parseStrictJson(body);
}
