import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, toHex, utf8Encode } from '../bytes';
import { canonicalBytes } from './canonical';
import { invalid } from './errors';

export { INTENT_KINDS, INTENT_KIND_NAMES, defaultApprovalRequired, intentRisk, isIntentKind } from './intent-kinds';
export type { IntentKind, IntentKindInfo, Risk } from './intent-kinds';

/**
 * Intent payload hash (docs/protocol.md §2): what the human approves and what the agent may execute.
 *
 * ```text
 *   payload_hash = hex(SHA-256(utf8("clawkeep/v1/intent\0") ‖ canonicalBytes({kind, payload})))
 * ```
 *
 * The kind is inside the hash so the same payload under another kind is another intent; the NUL-terminated
 * domain string keeps this hash apart from every other SHA-256 in the protocol (EIP-712's domain idea).
 * Hashing does not consult the kind registry, so an old client can still check a hash for a newer kind.
 */
export const INTENT_HASH_DOMAIN = 'clawkeep/v1/intent\0';
const DOMAIN_BYTES = utf8Encode(INTENT_HASH_DOMAIN);
/** kind = segment 1*("." segment), segment = a-z *(a-z / 0-9 / "_"), at most 64 characters. */
export const KIND_PATTERN = /^(?=.{1,64}$)[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/** The exact bytes that get hashed, exposed for vectors and independent checks. */
export function intentHashInput(kind: string, payload: unknown): Uint8Array {
  if (typeof kind !== 'string' || !KIND_PATTERN.test(kind)) throw invalid('Intent kind is invalid.');
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload))
    throw invalid('Intent payload must be a JSON object.');
  return concatBytes(DOMAIN_BYTES, canonicalBytes({ kind, payload }));
}

/**
 * @returns 64 lowercase hex characters.
 * @throws ProtocolError `protocol_invalid` for a malformed kind or a payload that is not canonical JSON.
 */
export function payloadHash(kind: string, payload: unknown): string {
  return toHex(sha256(intentHashInput(kind, payload)));
}
