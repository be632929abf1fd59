import * as v from 'valibot';
import { decodePublicKey, fingerprint } from '../protocol/keys';
import { newHubChallenge, verifyHubChallenge } from '../protocol/hub-identity';
import { HubKeyResponseSchema } from '../protocol/wire';
import { HubClientError } from './errors';
import { readStrictJson } from '../protocol/strict-json';

/** The code of every "this is not the hub you enrolled with" refusal. */
export const HUB_IDENTITY_MISMATCH = 'hub_identity_mismatch';

/** What the person reads when the hub at their URL is not the one they enrolled with (Agents tab, web vault). */
export function notYourHubMessage(hub: string, pinnedKey: string): string {
  let print = '';
  try {
    print = ` (identity ${fingerprint(decodePublicKey(pinnedKey, 'ed25519'))})`;
  } catch {
    // a pin we cannot decode still refuses; it just has no fingerprint to show
  }
  return (
    `This is not the hub you enrolled with. The server at ${hub} cannot prove it holds the hub's identity key${print}: ` +
    'another program may be using its address. Nothing was signed, sealed or synced with it. ' +
    'Start your hub again; if you replaced it on purpose, enroll this device again.'
  );
}

/**
 * Asks the hub at `hub` to sign a fresh random challenge with its identity key (GET /v1/hub-key?challenge=…, CKHI)
 * and checks the answer: for `hub`, for our challenge, under `pinnedKey`. With no pin yet (first contact, an
 * upgrade from before pinning) the key the hub names is the one checked, and returned so the caller can pin it.
 * A squatter that copied the real hub's public key cannot sign the challenge; a second hub has another key.
 * @returns the verified hub key (base64url)
 * @throws HubClientError `hub_identity_mismatch` (different or unproven key), `hub_unreachable`, `hub_bad_response`
 */
export async function proveHubIdentity(
  fetchImpl: typeof fetch,
  hub: string,
  pinnedKey: string | null,
): Promise<string> {
  const challenge = newHubChallenge();
  let res: Response;
  try {
    res = await fetchImpl(`${hub}/v1/hub-key?challenge=${challenge}`, {
      method: 'GET',
      headers: { accept: 'application/json' },
      redirect: 'error',
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (err) {
    // The extension's fetch already explains a failure it knows more about (a hub origin it may no longer reach).
    if (err instanceof HubClientError) throw err;
    throw new HubClientError('hub_unreachable', `Could not reach the hub at ${hub}.`, { cause: err });
  }
  let body: unknown = null;
  try {
    body = await readStrictJson(res);
  } catch {
    // below: not an identity answer
  }
  const parsed = res.ok ? v.safeParse(HubKeyResponseSchema, body) : null;
  if (!parsed?.success) {
    // A pinned device treats a server that cannot even answer the identity check as not its hub.
    if (pinnedKey)
      throw new HubClientError(HUB_IDENTITY_MISMATCH, notYourHubMessage(hub, pinnedKey), { status: res.status });
    throw new HubClientError('hub_bad_response', 'The hub did not answer the identity check.', { status: res.status });
  }
  const expected = pinnedKey ?? parsed.output.hub_key;
  try {
    verifyHubChallenge(parsed.output.proof, { hub, challenge, pinnedKey: expected });
  } catch (err) {
    throw new HubClientError(HUB_IDENTITY_MISMATCH, notYourHubMessage(hub, expected), { cause: err });
  }
  return expected;
}
