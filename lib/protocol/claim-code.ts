import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, randomBytes, toHex, utf8Encode } from '../bytes';
import { invalid } from './errors';

/**
 * Claim codes (docs/protocol.md §Claim codes): what an agent shows its human so they can claim it, in the shape
 * RFC 8628 §6.1 recommends for user codes: 8 characters from 20 consonants (~34.6 bits, no vowels so no words
 * form), shown as `XXXX-XXXX`. Entry is case-insensitive and ignores dashes and spaces. The hub must rate-limit
 * lookups (RFC 8628 §5.1); the code expires with the registration.
 */
export const CLAIM_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
export const CLAIM_CODE_LENGTH = 8;
const DOMAIN = utf8Encode('clawkeep/v1/claim-code\0');

/** A fresh code in display form, `XXXX-XXXX`. */
export function generateClaimCode(): string {
  let code = '';
  while (code.length < CLAIM_CODE_LENGTH) {
    for (const b of randomBytes(16)) {
      // Rejection sampling: 240 is the largest multiple of 20 below 256, so every letter is equally likely.
      if (b < 240 && code.length < CLAIM_CODE_LENGTH) code += CLAIM_CODE_ALPHABET[b % 20];
    }
  }
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/**
 * Canonical form of what a person typed: uppercase, without dashes and whitespace.
 * @throws ProtocolError `protocol_invalid` unless 8 characters of the alphabet remain.
 */
export function normalizeClaimCode(input: string): string {
  const code = typeof input === 'string' ? input.replace(/[\s-]/g, '').toUpperCase() : '';
  if (code.length !== CLAIM_CODE_LENGTH || [...code].some((c) => !CLAIM_CODE_ALPHABET.includes(c))) {
    throw invalid('Claim code is invalid.');
  }
  return code;
}

/**
 * hex(SHA-256(`"clawkeep/v1/claim-code\0"` ‖ normalized code)): goes into the signed claim so the agent can check
 * it was claimed through the code it showed, and is what the hub stores instead of the code.
 */
export function claimCodeHash(input: string): string {
  return toHex(sha256(concatBytes(DOMAIN, utf8Encode(normalizeClaimCode(input)))));
}
