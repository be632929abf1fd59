import { Hono } from 'hono';
import { deviceKeyId, decodePublicKey, fingerprint } from '../../lib/protocol/keys';
import { EnrollRequestSchema, parseWire, type EnrollResponse } from '../../lib/protocol/wire';
import type { HubDeps } from '../deps';
import { appendAudit } from '../audit';
import { authenticateEnrolling, jsonBody } from '../auth';
import { enrollmentCodeHash, normalizeEnrollmentCode } from '../enrollment';
import { HubError } from '../errors';
import type { HubEnv } from '../middleware';
import { readBody } from '../ingress';
import { limiterFor, type Limiter } from '../rate-limit';
import { StoreError } from '../store/errors';
import { clientAddress, enforceLimit } from './client-address';

/**
 * `POST /v1/accounts`: a device enrols with the one-time code the hub printed at first start. The request is signed
 * by the very key being enrolled (proof of possession) and the code is consumed in the same transaction that creates
 * the account, so a code makes exactly one account. Attempts are rate-limited: the code has only ~34.6 bits.
 */
export function accountRoutes(
  deps: HubDeps,
  limiter: Limiter = limiterFor(deps.store, 'enrol', { burst: 5, sustained: 20, perSeconds: 3600 }, deps.now),
): Hono<HubEnv> {
  return new Hono<HubEnv>().post('/accounts', async (c) => {
    await enforceLimit(limiter, clientAddress(c));
    const peek = parseWire(EnrollRequestSchema, jsonBody(await readBody(c)));
    const deviceKey = decodePublicKey(peek.device_key, 'ed25519');
    const accountId = deviceKeyId(deviceKey);
    await authenticateEnrolling(c, deps, accountId, deviceKey);
    if (normalizeEnrollmentCode(peek.enrollment_code) === null)
      throw new HubError('enrollment_code_invalid', 'That is not an enrollment code.');
    const now = deps.now();
    try {
      await deps.store.transaction(async () => {
        if (await deps.store.accounts.get(accountId))
          throw new HubError('device_already_enrolled', 'This device already has an account here.');
        await deps.store.accounts.create({ accountId, devicePublicKey: deviceKey, createdAt: now });
        await deps.store.enrollment.consume(enrollmentCodeHash(peek.enrollment_code), accountId, now);
        await appendAudit(deps.store, {
          time: now,
          actor: `account:${accountId}`,
          resource: `account:${accountId}`,
          action: 'account.enroll',
          requestId: c.get('requestId'),
        });
      });
    } catch (err) {
      if (err instanceof StoreError && err.code === 'not_found')
        throw new HubError('enrollment_code_invalid', 'Unknown or already used enrollment code.');
      throw err;
    }
    // hub_key: the device pins it with this URL and refuses another key here later (docs/protocol.md §11).
    const response: EnrollResponse = {
      account_id: accountId,
      fingerprint: fingerprint(deviceKey),
      hub_key: deps.identity.hubKey,
    };
    return c.json(response, 201);
  });
}
