import { concatBytes } from '../bytes';
import { fromBase64UrlFixed, toBase64Url } from './base64url';
import { canonicalBytes } from './canonical';
import { ProtocolError, type ProtocolErrorCode } from './errors';
import { assertSigningKey, SIGNATURE_LENGTH } from './keys';
import { signEd25519Sync, verifyEd25519Sync } from './ed25519';

/**
 * The shape shared by every signed statement (approval `CKAP`, claim `CKCL`; docs/protocol.md §3):
 *
 *   signed bytes = tag[4] ASCII | version u8 | canonicalBytes(statement)
 *
 * signed with Ed25519 (RFC 8032 §5.1.6, deterministic, so fixed keys give fixed vectors). The tag and version
 * separate the statement types, so an approval can never be replayed as a claim or a request signature.
 * On the wire a statement travels as `{ statement, signature }`, the signature in unpadded base64url.
 */
export interface SignedStatement<T> {
  statement: T;
  /** Ed25519 signature over the signed bytes, 86 base64url characters. */
  signature: string;
}

export interface StatementFormat<T> {
  tag: string;
  version: number;
  code: ProtocolErrorCode;
  what: string;
  /** Throws (any error) unless `value` is exactly a well-formed statement; returns a fresh copy with only known keys. */
  validate(value: unknown): T;
}

export function statementBytes<T>(format: StatementFormat<T>, statement: T): Uint8Array {
  const head = new Uint8Array(5);
  for (let i = 0; i < 4; i++) head[i] = format.tag.charCodeAt(i);
  head[4] = format.version;
  return concatBytes(head, canonicalBytes(statement));
}

function fail(format: StatementFormat<unknown>, message: string, cause?: unknown): ProtocolError {
  return new ProtocolError(format.code, message, cause === undefined ? undefined : { cause });
}

function validated<T>(format: StatementFormat<T>, value: unknown): T {
  try {
    return format.validate(value);
  } catch (err) {
    throw fail(format, `${format.what} is malformed.`, err);
  }
}

export function signStatement<T>(format: StatementFormat<T>, privateKey: Uint8Array, statement: T): SignedStatement<T> {
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== 32)
    throw new RangeError('privateKey must be 32 bytes');
  const clean = validated(format, statement);
  const signature = signEd25519Sync(statementBytes(format, clean), privateKey);
  return { statement: clean, signature: toBase64Url(signature) };
}

/**
 * Checks shape, then signature, then the caller's expectations. Every failure is `format.code`.
 * @param expected - fields that must equal the statement's exactly (strings compared as-is).
 */
export function verifyStatement<T extends object>(
  format: StatementFormat<T>,
  publicKey: Uint8Array,
  signed: unknown,
  expected: Partial<Record<keyof T, unknown>>,
): T {
  if (!signed || typeof signed !== 'object') throw fail(format, `Signed ${format.what} is malformed.`);
  const { statement, signature } = signed as Record<string, unknown>;
  const clean = validated(format, statement);
  let sig: Uint8Array;
  try {
    assertSigningKey(publicKey);
    sig = fromBase64UrlFixed(signature as string, SIGNATURE_LENGTH, 'signature');
  } catch (err) {
    throw fail(format, `${format.what} signature is invalid.`, err);
  }
  // zip215=false: strict RFC 8032 verification, so every verifier (noble, Node, libsodium) agrees on edge cases.
  let ok = false;
  try {
    ok = verifyEd25519Sync(sig, statementBytes(format, clean), publicKey);
  } catch {
    ok = false;
  }
  if (!ok) throw fail(format, `${format.what} signature is invalid.`);
  for (const [key, want] of Object.entries(expected)) {
    if (want === undefined) continue;
    const got = (clean as Record<string, unknown>)[key];
    if (got !== want) throw fail(format, `${format.what} is for a different ${key}.`);
  }
  return clean;
}
