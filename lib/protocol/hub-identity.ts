import { ed25519 } from '@noble/curves/ed25519.js';
import { fromBase64UrlFixed, toBase64Url } from './base64url';
import { exactFields, isOrigin } from './fields';
import { ProtocolError } from './errors';
import { decodePublicKey, encodePublicKey } from './keys';
import { signStatement, verifyStatement, type SignedStatement, type StatementFormat } from './signed-statement';

/**
 * The hub's identity (docs/protocol.md §11). The hub has one Ed25519 key of its own; devices and agents learn its
 * public half at enrolment / registration, pin it with the hub URL, and from then on talk only to a hub that proves
 * it holds the private half:
 *
 * ```text
 *   challenge proof = "CKHI" | 0x01 | canonicalBytes({hub, hub_key, challenge})
 * ```
 *
 * `challenge` is 32 random bytes chosen by the client for this one check (base64url), so a proof cannot be replayed
 * by a squatter that recorded an earlier one; `hub` binds it to the origin the client dialled, so a proof from a hub
 * elsewhere does not pass here. A squatter that copies the public key cannot make one.
 */
export interface HubChallengeProof {
  hub: string;
  hub_key: string;
  challenge: string;
}

export const CHALLENGE_LENGTH = 32;

const KEYS = ['challenge', 'hub', 'hub_key'];

export const HUB_CHALLENGE_FORMAT: StatementFormat<HubChallengeProof> = {
  tag: 'CKHI',
  version: 1,
  code: 'hub_identity_invalid',
  what: 'hub identity proof',
  validate(value: unknown): HubChallengeProof {
    const v = exactFields(value, KEYS, 'proof');
    if (!isOrigin(v.hub)) throw new Error('hub');
    decodePublicKey(v.hub_key as string, 'ed25519', 'hub_key');
    fromBase64UrlFixed(v.challenge as string, CHALLENGE_LENGTH, 'challenge');
    return { hub: v.hub, hub_key: v.hub_key as string, challenge: v.challenge as string };
  },
};

export type SignedHubChallenge = SignedStatement<HubChallengeProof>;

/** A fresh challenge for one identity check (base64url of 32 random bytes). */
export function newHubChallenge(): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(CHALLENGE_LENGTH)));
}

/** The hub's side: signs the client's challenge with its identity key. */
export function signHubChallenge(privateKey: Uint8Array, hub: string, challenge: string): SignedHubChallenge {
  const hubKey = encodePublicKey(ed25519.getPublicKey(privateKey));
  return signStatement(HUB_CHALLENGE_FORMAT, privateKey, { hub, hub_key: hubKey, challenge });
}

/**
 * The client's side: the proof must be for `hub` and `challenge`, name `pinnedKey` and verify under it.
 * @throws ProtocolError `hub_identity_invalid` for any failure (a different key says so).
 */
export function verifyHubChallenge(
  signed: unknown,
  expect: { hub: string; challenge: string; pinnedKey: string },
): HubChallengeProof {
  const named = (signed as SignedHubChallenge | null)?.statement?.hub_key;
  if (typeof named === 'string' && named !== expect.pinnedKey) {
    throw new ProtocolError('hub_identity_invalid', 'The hub presents a different identity key than the one pinned.');
  }
  const key = decodePublicKey(expect.pinnedKey, 'ed25519', 'pinned hub key');
  return verifyStatement(HUB_CHALLENGE_FORMAT, key, signed, {
    hub: expect.hub,
    challenge: expect.challenge,
    hub_key: expect.pinnedKey,
  });
}
