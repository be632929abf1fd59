import { x25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, randomBytes, toHex, utf8Encode, wipe } from '../bytes';
import { aeadDecrypt, aeadEncrypt, NONCE_LENGTH, TAG_LENGTH } from '../crypto/aead';
import { fromBase64Url, toBase64Url } from './base64url';
import { deriveBoxKey } from './box-kdf';
import { canonicalBytes } from './canonical';
import { ProtocolError } from './errors';
import { check, exactFields, isEpoch, isId, isOrigin, isSha256Hex } from './fields';
import { statementBytes, verifyStatement, type SignedStatement, type StatementFormat } from './signed-statement';

/**
 * An agent config delivered by the human's device to one claimed agent, through the hub, which cannot read or
 * forge it. Two layers:
 *
 * 1. The sealed config, to the agent's X25519 box key (same ECIES shape as CKSS, its own HKDF info):
 *
 * ```text
 *      bytes = "CKSC" | 0x01 | ephemeralPublic[32] | nonce[24] | XChaCha20-Poly1305 ciphertext + tag[16]
 *      key   = HKDF-SHA256(X25519(eph, recipient), salt = ephPub ‖ recipientPub, info = "clawkeep/v1/sealed-config")
 *      AD    = "CKSC" | 0x01 | canonicalBytes({agent_id, installation_id, config_id, revision, hub})
 * ```
 *
 * 2. The delivery statement, signed with the device's Ed25519 key (the key the agent pinned at its first claim):
 *
 * ```text
 *      signed = "CKCD" | 0x01 | canonicalBytes({hub, agent_id, installation_id, config_id, revision, sealed_sha256, time})
 * ```
 *
 * The AEAD alone would let anyone holding the agent's public key (the hub) seal a config of its choosing; the
 * signature says the device made it. The signed revision and time let the agent refuse an older blob the hub
 * replays (the revision never goes backwards per config, the time never goes backwards across configs), and the
 * AD repeats the context so a sealed blob cannot be re-signed into another agent, installation or revision.
 */
export const SEALED_CONFIG_TAG = 'CKSC';
export const SEALED_CONFIG_VERSION = 1;
export const SEALED_CONFIG_INFO = 'clawkeep/v1/sealed-config';
export const CONFIG_STATEMENT_TAG = 'CKCD';
export const CONFIG_STATEMENT_VERSION = 1;
/** Ceiling on the config plaintext: the base64url blob plus the statement must fit the hub's 64 KiB body limit. */
export const SEALED_CONFIG_MAX_PLAINTEXT = 32 * 1024;
const HEADER_LENGTH = 5 + 32 + NONCE_LENGTH;
export const SEALED_CONFIG_MIN_LENGTH = HEADER_LENGTH + TAG_LENGTH;
export const SEALED_CONFIG_MAX_LENGTH = SEALED_CONFIG_MIN_LENGTH + SEALED_CONFIG_MAX_PLAINTEXT;
const HEAD = Uint8Array.of(...[...SEALED_CONFIG_TAG].map((c) => c.charCodeAt(0)), SEALED_CONFIG_VERSION);
const INFO = utf8Encode(SEALED_CONFIG_INFO);
/** Revisions are vault item revisions: positive safe integers. */
export const isRevision = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;

export interface ConfigContext {
  hub: string;
  agent_id: string;
  installation_id: string;
  config_id: string;
  revision: number;
}

export interface ConfigStatement extends ConfigContext {
  /** Lowercase hex SHA-256 of the sealed bytes. */
  sealed_sha256: string;
  /** Epoch milliseconds on the device's clock when it sealed this revision. */
  time: number;
}

export type SignedConfigStatement = SignedStatement<ConfigStatement>;

/** What travels: PUT /v1/installations/:id/config and GET /v1/agent/config. */
export interface ConfigDelivery {
  config: SignedConfigStatement;
  /** The CKSC bytes, unpadded base64url. */
  sealed_config: string;
}

const sealedInvalid = (cause?: unknown) =>
  new ProtocolError(
    'sealed_invalid',
    'Sealed config does not open: it was changed, or is for another key, agent or revision.',
    cause === undefined ? undefined : { cause },
  );

function assertContext(context: ConfigContext): ConfigContext {
  if (
    !context ||
    !isOrigin(context.hub) ||
    !isId(context.agent_id) ||
    !isId(context.installation_id) ||
    !isId(context.config_id) ||
    !isRevision(context.revision)
  ) {
    throw new ProtocolError('sealed_invalid', 'Sealed config context is malformed.');
  }
  const { hub, agent_id, installation_id, config_id, revision } = context;
  return { hub, agent_id, installation_id, config_id, revision };
}

/** Associated data for one context. @throws ProtocolError `sealed_invalid` for a malformed context. */
export function sealedConfigAssociatedData(context: ConfigContext): Uint8Array {
  return concatBytes(HEAD, canonicalBytes(assertContext(context)));
}

export interface SealConfigOptions {
  /** Fixed ephemeral X25519 private key, for vectors only. Copied, and the copy is wiped. */
  ephemeralPrivate?: Uint8Array;
  /** Fixed 24-byte nonce, for vectors only. */
  nonce?: Uint8Array;
}

/**
 * Seals a config to the agent's X25519 public key for one agent, installation, config and revision.
 * @throws ProtocolError `sealed_invalid` (malformed context, low-order key); RangeError for bad lengths.
 */
export function sealConfig(
  recipientPublic: Uint8Array,
  plaintext: Uint8Array,
  context: ConfigContext,
  options: SealConfigOptions = {},
): Uint8Array {
  if (!(recipientPublic instanceof Uint8Array) || recipientPublic.length !== 32)
    throw new RangeError('recipientPublic must be 32 bytes');
  if (!(plaintext instanceof Uint8Array) || plaintext.length > SEALED_CONFIG_MAX_PLAINTEXT)
    throw new RangeError('plaintext must be at most 32 KiB');
  if (options.ephemeralPrivate && options.ephemeralPrivate.length !== 32)
    throw new RangeError('ephemeralPrivate must be 32 bytes');
  const ad = sealedConfigAssociatedData(context);
  const ephemeralPrivate = options.ephemeralPrivate ? options.ephemeralPrivate.slice() : randomBytes(32);
  let key: Uint8Array | undefined;
  try {
    const ephemeralPublic = x25519.getPublicKey(ephemeralPrivate);
    key = deriveBoxKey(ephemeralPrivate, recipientPublic, ephemeralPublic, recipientPublic, INFO, sealedInvalid);
    const { nonce, ciphertext } = aeadEncrypt(key, plaintext, ad, options.nonce);
    return concatBytes(HEAD, ephemeralPublic, nonce, ciphertext);
  } finally {
    wipe(ephemeralPrivate, key);
  }
}

/** Whether `bytes` has the CKSC v1 shape (all the hub can check). */
export function isSealedConfigShape(bytes: Uint8Array): boolean {
  return (
    bytes.length >= SEALED_CONFIG_MIN_LENGTH &&
    bytes.length <= SEALED_CONFIG_MAX_LENGTH &&
    HEAD.every((b, i) => bytes[i] === b)
  );
}

/**
 * Opens a sealed config with the agent's X25519 private key for the context the agent expects. Every failure is
 * one `sealed_invalid`. The caller wipes the plaintext.
 */
export function openSealedConfig(recipientPrivate: Uint8Array, bytes: Uint8Array, context: ConfigContext): Uint8Array {
  if (!(recipientPrivate instanceof Uint8Array) || recipientPrivate.length !== 32)
    throw new RangeError('recipientPrivate must be 32 bytes');
  const ad = sealedConfigAssociatedData(context);
  if (!(bytes instanceof Uint8Array) || !isSealedConfigShape(bytes)) throw sealedInvalid();
  const ephemeralPublic = bytes.subarray(5, 37);
  let key: Uint8Array | undefined;
  try {
    const recipientPublic = x25519.getPublicKey(recipientPrivate);
    key = deriveBoxKey(recipientPrivate, ephemeralPublic, ephemeralPublic, recipientPublic, INFO, sealedInvalid);
    return aeadDecrypt(key, bytes.subarray(37, HEADER_LENGTH), bytes.subarray(HEADER_LENGTH), ad);
  } catch (err) {
    throw err instanceof ProtocolError ? err : sealedInvalid(err);
  } finally {
    wipe(key);
  }
}

const STATEMENT_KEYS = ['hub', 'agent_id', 'installation_id', 'config_id', 'revision', 'sealed_sha256', 'time'];

export const CONFIG_STATEMENT_FORMAT: StatementFormat<ConfigStatement> = {
  tag: CONFIG_STATEMENT_TAG,
  version: CONFIG_STATEMENT_VERSION,
  code: 'sealed_invalid',
  what: 'Config delivery',
  validate(value) {
    const v = exactFields(value, STATEMENT_KEYS, 'config');
    check(isOrigin(v.hub), 'config.hub');
    check(isId(v.agent_id), 'config.agent_id');
    check(isId(v.installation_id), 'config.installation_id');
    check(isId(v.config_id), 'config.config_id');
    check(isRevision(v.revision), 'config.revision');
    check(isSha256Hex(v.sealed_sha256), 'config.sealed_sha256');
    check(isEpoch(v.time), 'config.time');
    return {
      hub: v.hub as string,
      agent_id: v.agent_id as string,
      installation_id: v.installation_id as string,
      config_id: v.config_id as string,
      revision: v.revision as number,
      sealed_sha256: v.sealed_sha256 as string,
      time: v.time as number,
    };
  },
};

/** The exact bytes a delivery signature covers ("CKCD" | 0x01 | canonical statement). */
export const configStatementBytes = (statement: ConfigStatement): Uint8Array =>
  statementBytes(CONFIG_STATEMENT_FORMAT, CONFIG_STATEMENT_FORMAT.validate(statement));

export interface BuildConfigInput extends ConfigContext {
  /** The agent's X25519 box key, from the claim this device signed (never from the hub). */
  boxKey: Uint8Array;
  /** The config bytes (see config-payload.ts); wiped by the caller. */
  plaintext: Uint8Array;
  /** The device signer: the private key never leaves it. */
  sign(message: Uint8Array): Promise<Uint8Array>;
  now: number;
  seal?: SealConfigOptions;
}

/** Seals and signs one revision of a config for one agent installation. */
export async function buildConfigDelivery(input: BuildConfigInput): Promise<ConfigDelivery> {
  const context = assertContext(input);
  const sealed = sealConfig(input.boxKey, input.plaintext, context, input.seal);
  const statement: ConfigStatement = { ...context, sealed_sha256: toHex(sha256(sealed)), time: input.now };
  const signature = toBase64Url(await input.sign(configStatementBytes(statement)));
  return { config: { statement, signature }, sealed_config: toBase64Url(sealed) };
}

/**
 * Checks a delivery's shape, its device signature and that it names `expected` (hub, agent, installation), and
 * that the sealed bytes are the ones signed. Returns the statement and the sealed bytes, not yet opened.
 * @throws ProtocolError `sealed_invalid`
 */
export function verifyConfigDelivery(
  deviceKey: Uint8Array,
  delivery: unknown,
  expected: { hub: string; agent_id: string; installation_id: string },
): { statement: ConfigStatement; sealed: Uint8Array } {
  const d = delivery as Partial<ConfigDelivery> | null;
  if (!d || typeof d !== 'object' || typeof d.sealed_config !== 'string') throw sealedInvalid();
  const { hub, agent_id, installation_id } = expected;
  const statement = verifyStatement(CONFIG_STATEMENT_FORMAT, deviceKey, d.config, { hub, agent_id, installation_id });
  let sealed: Uint8Array;
  try {
    sealed = fromBase64Url(d.sealed_config, 'sealed_config');
  } catch (err) {
    throw sealedInvalid(err);
  }
  if (!isSealedConfigShape(sealed) || toHex(sha256(sealed)) !== statement.sealed_sha256) throw sealedInvalid();
  return { statement, sealed };
}

/**
 * verifyConfigDelivery, then opens the sealed bytes for exactly the signed context. The caller checks the revision
 * against the highest it has seen, and wipes the plaintext.
 * @throws ProtocolError `sealed_invalid`
 */
export function openConfigDelivery(
  deviceKey: Uint8Array,
  recipientPrivate: Uint8Array,
  delivery: unknown,
  expected: { hub: string; agent_id: string; installation_id: string },
): { statement: ConfigStatement; plaintext: Uint8Array } {
  const { statement, sealed } = verifyConfigDelivery(deviceKey, delivery, expected);
  const { hub, agent_id, installation_id, config_id, revision } = statement;
  return {
    statement,
    plaintext: openSealedConfig(recipientPrivate, sealed, { hub, agent_id, installation_id, config_id, revision }),
  };
}
