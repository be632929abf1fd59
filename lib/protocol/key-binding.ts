import { toBase64Url } from './base64url';
import { ProtocolError } from './errors';
import { check, exactFields, isEpoch, isOrigin } from './fields';
import { decodePublicKey, encodePublicKey } from './keys';
import {
  signStatement,
  statementBytes,
  verifyStatement,
  type SignedStatement,
  type StatementFormat,
} from './signed-statement';

/**
 * Key binding statement (issue 13 items 1 and 2; docs/protocol.md §4 "Key binding"):
 *
 * ```text
 *   signed = "CKKB" | 0x01 | canonicalBytes({hub, role, signing_key, box_key, name, time})
 * ```
 *
 * signed by the Ed25519 `signing_key` itself. The person compares the fingerprint of the signing key only (the agent
 * prints it, the new device shows it). Without a binding, the X25519 box key a secret, a config or the vault key is
 * sealed to comes from the hub's answer, and a hub that swaps it opens everything. With it, the box key is vouched
 * for by the very key whose fingerprint the person compared, for this hub, this role and this name: the hub cannot
 * make one (it has no signing private key) and cannot move one from another hub or from a device to an agent.
 *
 * - `role`: `agent` (registered with POST /v1/agents) or `device` (a new device asking to pair, POST /v1/pairings).
 * - `name`: the name the hub will show next to the fingerprint (agent name; device name or null).
 * - `time`: epoch milliseconds on the signer's clock, informational (freshness comes from the claim/pairing TTL).
 */
export const KEY_BINDING_TAG = 'CKKB';
export const KEY_BINDING_VERSION = 1;
/** The longest name a binding carries: agent names are at most 80 characters, device names 64. */
export const KEY_BINDING_NAME_MAX = 80;

export type KeyBindingRole = 'agent' | 'device';

export interface KeyBindingStatement {
  hub: string;
  role: KeyBindingRole;
  /** Ed25519 public key, base64url: the key this statement is signed with, and the one whose fingerprint is shown. */
  signing_key: string;
  /** X25519 public key, base64url: what secrets, configs or the vault key are sealed to. */
  box_key: string;
  name: string | null;
  time: number;
}

export type SignedKeyBinding = SignedStatement<KeyBindingStatement>;

const KEYS = ['box_key', 'hub', 'name', 'role', 'signing_key', 'time'];
// Controls make a name render differently from what it is; lone surrogates have no UTF-8 form.
const isName = (v: unknown): v is string | null =>
  v === null ||
  (typeof v === 'string' && v.length >= 1 && v.length <= KEY_BINDING_NAME_MAX && !/[\p{Cc}\p{Cs}]/u.test(v));

export const KEY_BINDING_FORMAT: StatementFormat<KeyBindingStatement> = {
  tag: KEY_BINDING_TAG,
  version: KEY_BINDING_VERSION,
  code: 'key_binding_invalid',
  what: 'Key binding',
  validate(value) {
    const v = exactFields(value, KEYS, 'binding');
    check(isOrigin(v.hub), 'binding.hub');
    check(v.role === 'agent' || v.role === 'device', 'binding.role');
    decodePublicKey(v.signing_key as string, 'ed25519', 'binding.signing_key');
    decodePublicKey(v.box_key as string, 'x25519', 'binding.box_key');
    check(isName(v.name), 'binding.name');
    check(isEpoch(v.time), 'binding.time');
    return {
      hub: v.hub as string,
      role: v.role as KeyBindingRole,
      signing_key: v.signing_key as string,
      box_key: v.box_key as string,
      name: v.name as string | null,
      time: v.time as number,
    };
  },
};

/** The exact bytes a key binding signature covers ("CKKB" | 0x01 | canonical statement). */
export const keyBindingBytes = (statement: KeyBindingStatement): Uint8Array =>
  statementBytes(KEY_BINDING_FORMAT, KEY_BINDING_FORMAT.validate(statement));

/**
 * Signs a binding with the signing key's private half (32-byte seed). `statement.signing_key` must be its public
 * half, or the binding would never verify; we check rather than let a broken binding reach the hub.
 * @throws ProtocolError `key_binding_invalid`; RangeError for a bad key length.
 */
export function signKeyBinding(privateKey: Uint8Array, statement: KeyBindingStatement): SignedKeyBinding {
  const signed = signStatement(KEY_BINDING_FORMAT, privateKey, statement);
  verifyKeyBinding(signed, {
    hub: statement.hub,
    role: statement.role,
    signing_key: statement.signing_key,
    box_key: statement.box_key,
    name: statement.name,
  });
  return signed;
}

/** Builds and signs a binding with a signer whose private key stays where it is (a device key, an agent key). */
export async function makeKeyBinding(
  statement: Omit<KeyBindingStatement, 'signing_key' | 'box_key'> & { signingKey: Uint8Array; boxKey: Uint8Array },
  sign: (message: Uint8Array) => Promise<Uint8Array> | Uint8Array,
): Promise<SignedKeyBinding> {
  const clean = KEY_BINDING_FORMAT.validate({
    hub: statement.hub,
    role: statement.role,
    signing_key: encodePublicKey(statement.signingKey),
    box_key: encodePublicKey(statement.boxKey),
    name: statement.name,
    time: statement.time,
  });
  const signature = toBase64Url(await sign(keyBindingBytes(clean)));
  return { statement: clean, signature };
}

/** What a verifier knows independently of the hub: every field but `time` must be given (name may be null). */
export interface ExpectedKeyBinding {
  hub: string;
  role: KeyBindingRole;
  /** The signing key whose fingerprint the person compares (base64url). */
  signing_key: string;
  /** The box key about to be sealed to (base64url). */
  box_key: string;
  name: string | null;
}

/**
 * Verifies a binding under the signing key the caller expects (never the one the statement names alone), then every
 * expected field. A missing binding (null/undefined) fails like a bad one: the box key is then unauthenticated.
 * @throws ProtocolError `key_binding_invalid`
 */
export function verifyKeyBinding(signed: unknown, expected: ExpectedKeyBinding): KeyBindingStatement {
  for (const k of ['hub', 'role', 'signing_key', 'box_key'] as const) {
    if (typeof expected?.[k] !== 'string') throw new TypeError(`expected.${k} must be a string`);
  }
  if (expected.name !== null && typeof expected.name !== 'string')
    throw new TypeError('expected.name must be a string or null');
  if (signed === null || signed === undefined)
    throw new ProtocolError('key_binding_invalid', 'There is no key binding.');
  let signer: Uint8Array;
  try {
    signer = decodePublicKey(expected.signing_key, 'ed25519');
  } catch (err) {
    throw new ProtocolError('key_binding_invalid', 'The expected signing key is malformed.', { cause: err });
  }
  const { hub, role, signing_key, box_key, name } = expected;
  return verifyStatement(KEY_BINDING_FORMAT, signer, signed, { hub, role, signing_key, box_key, name });
}
