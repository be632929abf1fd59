import { x25519 } from '@noble/curves/ed25519.js';
import { concatBytes, randomBytes, utf8Encode, wipe } from '../bytes';
import { aeadDecrypt, aeadEncrypt, NONCE_LENGTH, TAG_LENGTH } from '../crypto/aead';
import { deriveBoxKey } from './box-kdf';
import { canonicalBytes } from './canonical';
import { ProtocolError } from './errors';
import { isId, isSha256Hex } from './fields';

/**
 * A secret sealed by the human's device to one agent's X25519 box key (docs/protocol.md §5). An ECIES shape
 * (like age's X25519 recipient or HPKE base mode) with a fresh ephemeral key per secret:
 *
 * ```text
 *   bytes = "CKSS" | 0x01 | ephemeralPublic[32] | nonce[24] | XChaCha20-Poly1305 ciphertext + tag[16]
 *   key   = HKDF-SHA256(ikm  = X25519(ephemeralPrivate, recipientPublic),      (RFC 7748 §6.1, RFC 5869)
 *                       salt = ephemeralPublic ‖ recipientPublic,
 *                       info = "clawkeep/v1/sealed-secret", L = 32)
 *   AD    = "CKSS" | 0x01 | canonicalBytes({intent_id, payload_hash, agent_id})
 * ```
 *
 * Both public keys in the salt bind the key to this exact pair (no key-compromise games with substituted
 * keys). The AD binds the box to one approved intent of one agent: the hub cannot hand it to another intent or
 * agent, and the agent should open it only for the intent it asked for. The hub only ever sees these bytes.
 */
export const SEALED_SECRET_TAG = 'CKSS';
export const SEALED_SECRET_VERSION = 1;
export const SEALED_SECRET_INFO = 'clawkeep/v1/sealed-secret';
/** Ceiling on the secret itself; vault secrets are small and the hub's body limit is small too. */
export const SEALED_SECRET_MAX_PLAINTEXT = 64 * 1024;
const HEADER_LENGTH = 5 + 32 + NONCE_LENGTH;
const HEAD = Uint8Array.of(...[...SEALED_SECRET_TAG].map((c) => c.charCodeAt(0)), SEALED_SECRET_VERSION);
const INFO = utf8Encode(SEALED_SECRET_INFO);

export interface SealContext {
  intent_id: string;
  payload_hash: string;
  agent_id: string;
}

const sealedInvalid = (cause?: unknown) =>
  new ProtocolError(
    'sealed_invalid',
    'Sealed secret does not open: it was changed, or is for another key or intent.',
    cause === undefined ? undefined : { cause },
  );

/** Associated data for one context. @throws ProtocolError `sealed_invalid` for a malformed context. */
export function sealedSecretAssociatedData(context: SealContext): Uint8Array {
  if (!context || !isId(context.intent_id) || !isSha256Hex(context.payload_hash) || !isId(context.agent_id)) {
    throw new ProtocolError('sealed_invalid', 'Sealed secret context is malformed.');
  }
  const { intent_id, payload_hash, agent_id } = context;
  return concatBytes(HEAD, canonicalBytes({ intent_id, payload_hash, agent_id }));
}

function deriveKey(
  privateKey: Uint8Array,
  peerPublic: Uint8Array,
  ephemeralPublic: Uint8Array,
  recipientPublic: Uint8Array,
): Uint8Array {
  return deriveBoxKey(privateKey, peerPublic, ephemeralPublic, recipientPublic, INFO, sealedInvalid);
}

export interface SealOptions {
  /** Fixed ephemeral X25519 private key, for vectors only. Copied, and the copy is wiped. */
  ephemeralPrivate?: Uint8Array;
  /** Fixed 24-byte nonce, for vectors only. */
  nonce?: Uint8Array;
}

/**
 * Seals `plaintext` to the agent's X25519 public key for one intent.
 * @throws ProtocolError `sealed_invalid` for a malformed context or a low-order recipient key; RangeError for bad lengths.
 */
export function sealSecret(
  recipientPublic: Uint8Array,
  plaintext: Uint8Array,
  context: SealContext,
  options: SealOptions = {},
): Uint8Array {
  if (!(recipientPublic instanceof Uint8Array) || recipientPublic.length !== 32)
    throw new RangeError('recipientPublic must be 32 bytes');
  if (!(plaintext instanceof Uint8Array) || plaintext.length > SEALED_SECRET_MAX_PLAINTEXT)
    throw new RangeError('plaintext must be at most 64 KiB');
  if (options.ephemeralPrivate && options.ephemeralPrivate.length !== 32)
    throw new RangeError('ephemeralPrivate must be 32 bytes');
  const ad = sealedSecretAssociatedData(context);
  const ephemeralPrivate = options.ephemeralPrivate ? options.ephemeralPrivate.slice() : randomBytes(32);
  let key: Uint8Array | undefined;
  try {
    const ephemeralPublic = x25519.getPublicKey(ephemeralPrivate);
    key = deriveKey(ephemeralPrivate, recipientPublic, ephemeralPublic, recipientPublic);
    const { nonce, ciphertext } = aeadEncrypt(key, plaintext, ad, options.nonce);
    return concatBytes(HEAD, ephemeralPublic, nonce, ciphertext);
  } finally {
    wipe(ephemeralPrivate, key);
  }
}

/**
 * Opens a sealed secret with the agent's X25519 private key, for the context the agent expects.
 * Every failure — wrong tag or version, truncation, wrong key, wrong context, changed bytes — is one
 * `sealed_invalid`, so a caller learns nothing about which check failed. The caller wipes the plaintext.
 */
export function openSealedSecret(recipientPrivate: Uint8Array, bytes: Uint8Array, context: SealContext): Uint8Array {
  if (!(recipientPrivate instanceof Uint8Array) || recipientPrivate.length !== 32)
    throw new RangeError('recipientPrivate must be 32 bytes');
  const ad = sealedSecretAssociatedData(context);
  if (
    !(bytes instanceof Uint8Array) ||
    bytes.length < HEADER_LENGTH + TAG_LENGTH ||
    bytes.length > HEADER_LENGTH + TAG_LENGTH + SEALED_SECRET_MAX_PLAINTEXT
  ) {
    throw sealedInvalid();
  }
  for (let i = 0; i < HEAD.length; i++) if (bytes[i] !== HEAD[i]) throw sealedInvalid();
  const ephemeralPublic = bytes.subarray(5, 37);
  const nonce = bytes.subarray(37, HEADER_LENGTH);
  const ciphertext = bytes.subarray(HEADER_LENGTH);
  let key: Uint8Array | undefined;
  try {
    const recipientPublic = x25519.getPublicKey(recipientPrivate);
    key = deriveKey(recipientPrivate, ephemeralPublic, ephemeralPublic, recipientPublic);
    return aeadDecrypt(key, nonce, ciphertext, ad);
  } catch (err) {
    throw err instanceof ProtocolError ? err : sealedInvalid(err);
  } finally {
    wipe(key);
  }
}
