import { sha256 } from '@noble/hashes/sha2.js';
import { Hono, type Context } from 'hono';
import * as v from 'valibot';
import { randomBytes, toHex } from '../../lib/bytes';
import { toBase64Url, fromBase64Url } from '../../lib/protocol/base64url';
import {
  generatePairingCode,
  isPairedKeyShape,
  pairingCodeHash,
  verifyDeviceAdd,
  type DeviceListEntry,
  type SignedDeviceAdd,
} from '../../lib/protocol/device-pairing';
import {
  RemoveDeviceRequestSchema,
  PairingApproveRequestSchema,
  PairingCreateRequestSchema,
  PairingLookupRequestSchema,
  type DeviceListResponse,
  type DeviceRemoveResponse,
  type PairingApproveResponse,
  type PairingCreateResponse,
  type PairingLookupResponse,
  type PairingStatusResponse,
} from '../../lib/protocol/device-pairing-wire';
import { ProtocolError } from '../../lib/protocol/errors';
import { isId } from '../../lib/protocol/fields';
import { verifyKeyBinding } from '../../lib/protocol/key-binding';
import { decodePublicKey, deviceKeyId, encodePublicKey, fingerprint } from '../../lib/protocol/keys';
import { verifyDeviceRemoval, type SignedDeviceRemoval } from '../../lib/protocol/revocation';
import { parseWire } from '../../lib/protocol/wire';
import type { HubDeps } from '../deps';
import { appendAudit } from '../audit';
import { authenticateEnrolling, authenticateHuman, jsonBody } from '../auth';
import { HubError } from '../errors';
import { intentEvents } from '../events';
import type { HubEnv } from '../middleware';
import { readBody } from '../ingress';
import { limiterFor, type Limiter } from '../rate-limit';
import { StoreError } from '../store/errors';
import type { Account, JsonValue, Pairing } from '../store/port';
import { clientAddress, enforceLimit } from './client-address';

/** A pairing code lives as long as a person needs to walk to the other device and type it. */
export const PAIRING_TTL_MS = 10 * 60 * 1000;
const CODE_INVALID = 'Unknown or expired pairing code.';

export interface DeviceRouteLimits {
  /** POST /v1/pairings per client address: each creates a row. */
  create?: Limiter;
  /** POST /v1/pairings/lookup per account: the code has ~34.6 bits, so guessing must stay far out of reach. */
  lookup?: Limiter;
}

/** The account's devices as GET /v1/devices lists them: the enrolling device first (no statement), then the added ones. */
export async function deviceList(deps: HubDeps, account: Account): Promise<DeviceListEntry[]> {
  return [
    {
      device_key_id: account.accountId,
      device_key: encodePublicKey(account.devicePublicKey),
      name: null,
      added_at: account.createdAt,
      revoked_at: null,
      statement: null,
    },
    ...(await deps.store.devices.listByAccount(account.accountId)).map((d) => ({
      device_key_id: d.deviceKeyId,
      device_key: encodePublicKey(d.publicKey),
      name: d.name,
      added_at: d.addedAt,
      revoked_at: d.revokedAt,
      statement: d.statement as unknown as SignedDeviceAdd,
      removal: d.removalStatement as unknown as SignedDeviceRemoval | null,
    })),
  ];
}

function statusOf(p: Pairing, now: number): Pairing['status'] {
  return p.status === 'pending' && p.expiresAt <= now ? 'expired' : p.status;
}

/**
 * Device pairing and the account's device list (issue 8; docs/protocol.md §Devices and pairing).
 *
 * - `POST /v1/pairings`: a new device asks to join. Signed by its own key (proof of possession; the hub does not know
 *   it yet), rate-limited per address. The hub makes the short code and stores only its hash.
 * - `POST /v1/pairings/lookup`: a device of the account shows what the code belongs to (the new device's fingerprint).
 * - `POST /v1/pairings/:id/approve`: that device's signed CKDA statement and the CKPV sealed vault key; the hub
 *   checks the statement names this hub, the caller's account and key, the pairing's keys and the sealed bytes, then
 *   adds the device. The hub cannot open the sealed key (it has no box private key).
 * - `GET /v1/pairings/:id`: the new device polls, signed by its key; once approved it gets the statement and blob.
 * - `GET /v1/devices`, `DELETE /v1/devices/:id`: the list with statements (clients verify the chain), and removal,
 *   effective for the removed device's very next request (hub/auth.ts answers `device_revoked`).
 */
export function deviceRoutes(deps: HubDeps, limits: DeviceRouteLimits = {}): Hono<HubEnv> {
  const createLimiter =
    limits.create ?? limiterFor(deps.store, 'pairing-create', { burst: 5, sustained: 30, perSeconds: 3600 }, deps.now);
  const lookupLimiter =
    limits.lookup ?? limiterFor(deps.store, 'pairing-lookup', { burst: 5, sustained: 30, perSeconds: 3600 }, deps.now);

  /** The pairing `id`, authenticated as its own new device. */
  async function ownPairing(c: Context<HubEnv>): Promise<Pairing> {
    const id = c.req.param('id') ?? '';
    const pairing = isId(id) ? await deps.store.pairings.get(id) : null;
    if (!pairing) throw new HubError('not_found', 'No such pairing.');
    await authenticateEnrolling(c, deps, deviceKeyId(pairing.deviceKey), pairing.deviceKey);
    return pairing;
  }

  return new Hono<HubEnv>()
    .post('/pairings', async (c) => {
      await enforceLimit(createLimiter, clientAddress(c));
      const peek = parseWire(PairingCreateRequestSchema, jsonBody(await readBody(c)));
      const deviceKey = decodePublicKey(peek.device_key, 'ed25519');
      const keyId = deviceKeyId(deviceKey);
      await authenticateEnrolling(c, deps, keyId, deviceKey);
      if ((await deps.store.accounts.get(keyId)) || (await deps.store.devices.get(keyId))) {
        throw new HubError('device_already_enrolled', 'This device key already belongs to an account here.');
      }
      // The device key vouches for the box key the vault key will be sealed to (issue 13 item 1); the approving
      // device checks it again, since it cannot trust this hub to have.
      const binding = verifyKeyBinding(peek.key_binding, {
        hub: deps.origin,
        role: 'device',
        signing_key: peek.device_key,
        box_key: peek.box_key,
        name: peek.name,
      });
      const keyBinding = {
        statement: binding,
        signature: (peek.key_binding as { signature: string }).signature,
      } as unknown as JsonValue;
      const now = deps.now();
      const pairingId = `pair_${toBase64Url(randomBytes(16))}`;
      let code = '';
      await deps.store.transaction(async () => {
        // Keeps the statuses honest for anyone reading the table; routes also treat a pending row past expires_at as expired.
        await deps.store.pairings.expireDue(now);
        // A fresh code colliding with a live one is ~1 in 2^34; retry rather than fail the person.
        for (let attempt = 0; ; attempt++) {
          code = generatePairingCode();
          try {
            await deps.store.pairings.create({
              pairingId,
              codeHash: pairingCodeHash(code)!,
              deviceKey,
              boxKey: decodePublicKey(peek.box_key, 'x25519'),
              name: peek.name,
              createdAt: now,
              expiresAt: now + PAIRING_TTL_MS,
              keyBinding,
            });
            break;
          } catch (err) {
            if (!(err instanceof StoreError && err.code === 'conflict') || attempt >= 3) throw err;
          }
        }
        await appendAudit(deps.store, {
          time: now,
          actor: `device:${keyId}`,
          resource: `pairing:${pairingId}`,
          action: 'pairing.create',
          requestId: c.get('requestId'),
        });
      });
      const response: PairingCreateResponse = {
        pairing_id: pairingId,
        code,
        fingerprint: fingerprint(deviceKey),
        expires_at: now + PAIRING_TTL_MS,
      };
      return c.json(response, 201);
    })
    .get('/pairings/:id', async (c) => {
      const pairing = await ownPairing(c);
      const status = statusOf(pairing, deps.now());
      const approved = status === 'approved' && pairing.sealed && pairing.statement;
      const response: PairingStatusResponse = {
        pairing_id: pairing.pairingId,
        status,
        expires_at: pairing.expiresAt,
        account_id: pairing.accountId,
        approval: approved
          ? { device: pairing.statement as unknown as SignedDeviceAdd, sealed_vault_key: toBase64Url(pairing.sealed!) }
          : null,
      };
      return c.json(response);
    })
    .post('/pairings/lookup', async (c) => {
      const { account, body } = await authenticateHuman(c, deps);
      await enforceLimit(lookupLimiter, account.accountId);
      const { code } = parseWire(PairingLookupRequestSchema, jsonBody(body));
      const hash = pairingCodeHash(code);
      const pairing = hash && (await deps.store.pairings.findPendingByCode(hash, deps.now()));
      if (!pairing) throw new HubError('pairing_code_invalid', CODE_INVALID);
      const response: PairingLookupResponse = {
        pairing_id: pairing.pairingId,
        device_key: encodePublicKey(pairing.deviceKey),
        box_key: encodePublicKey(pairing.boxKey),
        fingerprint: fingerprint(pairing.deviceKey),
        name: pairing.name,
        expires_at: pairing.expiresAt,
        key_binding: pairing.keyBinding as unknown as PairingLookupResponse['key_binding'],
      };
      return c.json(response);
    })
    .post('/pairings/:id/approve', async (c) => {
      const { account, device, body } = await authenticateHuman(c, deps);
      const req = parseWire(PairingApproveRequestSchema, jsonBody(body));
      const id = c.req.param('id');
      const pairing = isId(id) ? await deps.store.pairings.get(id) : null;
      if (!pairing) throw new HubError('not_found', 'No such pairing.');
      const now = deps.now();
      if (statusOf(pairing, now) !== 'pending')
        throw new HubError('pairing_not_pending', 'This pairing was already decided, or it expired.');
      const statement = verifyDeviceAdd(req.device, {
        hub: deps.origin,
        account_id: account.accountId,
        device_key: encodePublicKey(pairing.deviceKey),
        box_key: encodePublicKey(pairing.boxKey),
        added_by: encodePublicKey(device.publicKey),
        pairing_id: pairing.pairingId,
      });
      let sealed: Uint8Array;
      try {
        sealed = fromBase64Url(req.sealed_vault_key, 'sealed_vault_key');
      } catch (err) {
        throw new ProtocolError('device_statement_invalid', 'sealed_vault_key is not base64url.', { cause: err });
      }
      if (!isPairedKeyShape(sealed) || toHex(sha256(sealed)) !== statement.sealed_sha256) {
        throw new HubError('device_statement_invalid', 'sealed_vault_key is not the CKPV v1 blob the statement signs.');
      }
      const newId = deviceKeyId(pairing.deviceKey);
      const signed = { statement, signature: (req.device as { signature: string }).signature } as unknown as JsonValue;
      try {
        await deps.store.transaction(async () => {
          if ((await deps.store.accounts.get(newId)) || (await deps.store.devices.get(newId))) {
            throw new HubError('device_already_enrolled', 'This device key already belongs to an account here.');
          }
          await deps.store.pairings.approve(
            pairing.pairingId,
            { accountId: account.accountId, statement: signed, sealed },
            now,
          );
          await deps.store.devices.create({
            deviceKeyId: newId,
            accountId: account.accountId,
            publicKey: pairing.deviceKey,
            name: pairing.name,
            statement: signed,
            addedAt: now,
          });
          await appendAudit(deps.store, {
            time: now,
            actor: `account:${account.accountId}`,
            resource: `device:${newId}`,
            action: 'device.add',
            requestId: c.get('requestId'),
          });
        });
      } catch (err) {
        if (err instanceof StoreError && err.code === 'invalid_state')
          throw new HubError('pairing_not_pending', 'This pairing was already decided, or it expired.');
        throw err;
      }
      const response: PairingApproveResponse = {
        device_key_id: newId,
        fingerprint: fingerprint(pairing.deviceKey),
        added_at: now,
      };
      return c.json(response, 201);
    })
    .post('/pairings/:id/deny', async (c) => {
      // Only a device that looked the code up knows the pairing id; any device of any account may refuse it, which
      // costs the new device nothing but a fresh code (it cannot be used to approve anything).
      const { account } = await authenticateHuman(c, deps);
      const id = c.req.param('id');
      const pairing = isId(id) ? await deps.store.pairings.get(id) : null;
      if (!pairing) throw new HubError('not_found', 'No such pairing.');
      const now = deps.now();
      try {
        await deps.store.transaction(async () => {
          await deps.store.pairings.deny(pairing.pairingId, now);
          await appendAudit(deps.store, {
            time: now,
            actor: `account:${account.accountId}`,
            resource: `pairing:${pairing.pairingId}`,
            action: 'pairing.deny',
            requestId: c.get('requestId'),
          });
        });
      } catch (err) {
        if (err instanceof StoreError && err.code === 'invalid_state')
          throw new HubError('pairing_not_pending', 'This pairing was already decided, or it expired.');
        throw err;
      }
      return c.json({ pairing_id: pairing.pairingId, status: 'denied' });
    })
    .get('/devices', async (c) => {
      const { account } = await authenticateHuman(c, deps);
      const response: DeviceListResponse = { account_id: account.accountId, devices: await deviceList(deps, account) };
      return c.json(response);
    })
    .delete('/devices/:id', async (c) => {
      const { account, device, body } = await authenticateHuman(c, deps);
      const id = c.req.param('id');
      // The enrolling key is the account's identity (its key id is the account id): removing it would orphan the
      // chain every other device's statement leads back to.
      if (id === account.accountId)
        throw new HubError('forbidden', 'The device that created the account cannot be removed.');
      const target = isId(id) ? await deps.store.devices.get(id) : null;
      if (!target || target.accountId !== account.accountId || target.revokedAt !== null)
        throw new HubError('not_found', 'No such device on this account.');
      // The removal is the device's signed word (CKDR), stored and served so others verify it themselves (issue 13
      // item 9). Checking it here is hygiene: signed by the calling device (authenticated, not removed), for this
      // hub, account and device. A DELETE without one is refused.
      const req = v.safeParse(RemoveDeviceRequestSchema, jsonBody(body));
      if (!req.success)
        throw new HubError('revocation_invalid', 'DELETE /v1/devices/:id needs {removal: signed CKDR}.');
      const removal = verifyDeviceRemoval(req.output.removal, {
        hub: deps.origin,
        account_id: account.accountId,
        device_key_id: id,
        device_key: encodePublicKey(target.publicKey),
        removed_by: encodePublicKey(device.publicKey),
      });
      const signedRemoval = {
        statement: removal,
        signature: (req.output.removal as { signature: string }).signature,
      } as unknown as JsonValue;
      const now = deps.now();
      const revoked = await deps.store.transaction(async () => {
        const r = await deps.store.devices.revoke(id, now, signedRemoval);
        // Its watch credential goes with it (hub/routes/watch.ts also checks the device on every use).
        await deps.store.watchTokens.remove(id);
        await appendAudit(deps.store, {
          time: now,
          actor: `account:${account.accountId}`,
          resource: `device:${id}`,
          action: 'device.remove',
          requestId: c.get('requestId'),
        });
        return r;
      });
      // Its open event streams and held polls end now, not at their next timeout (issue 13 item 5).
      intentEvents(deps.store).closeHolder(`device:${id}`);
      intentEvents(deps.store).closeHolder(`watch:${id}`);
      const response: DeviceRemoveResponse = { device_key_id: id, revoked_at: revoked.revokedAt! };
      return c.json(response);
    });
}
