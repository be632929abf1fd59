import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, randomBytes, toHex, utf8Encode } from '../bytes';
import { fromBase64UrlFixed, toBase64Url } from './base64url';
import { canonicalBytes } from './canonical';
import { signEd25519Sync, verifyEd25519 } from './ed25519';
import { ProtocolError } from './errors';
import { isId, isOrigin } from './fields';
import { SIGNATURE_LENGTH } from './keys';

/**
 * Signed HTTP requests (docs/protocol.md §4). Humans sign with their device key, agents with their agent signing
 * key; both Ed25519, so the hub holds public keys only and a database leak gives no way to call the API. The
 * idea is DPoP's (RFC 9449: a key proves each request) without the JWT:
 *
 * ```text
 *   signed bytes = "CKRQ" | 0x01 | canonicalBytes({role, key_id, method, path, body_sha256, timestamp, nonce, hub})
 * ```
 *
 * method is uppercase; path is the request target exactly as sent (path + "?" + query, no normalisation, since
 * re-encoding is where signers and verifiers drift apart, and a path with `//`, `.` or `..` segments is refused:
 * isNormalPath); body_sha256 is hex SHA-256 of the exact body bytes
 * (no body = the empty string); timestamp is epoch seconds; nonce is 16 random bytes in base64url; hub is the
 * origin, so a request signed for one hub is useless at another.
 */
export const REQUEST_TAG = 'CKRQ';
export const REQUEST_VERSION = 1;
export const DEFAULT_MAX_SKEW_SECONDS = 60;
export const NONCE_BYTES = 16;

export const HEADER_KEY_ID = 'ck-key-id';
export const HEADER_ROLE = 'ck-role';
export const HEADER_TIMESTAMP = 'ck-timestamp';
export const HEADER_NONCE = 'ck-nonce';
export const HEADER_SIGNATURE = 'ck-signature';

export type Role = 'human' | 'agent';

export interface SignedRequestHeaders {
  'ck-key-id': string;
  'ck-role': Role;
  'ck-timestamp': string;
  'ck-nonce': string;
  'ck-signature': string;
}

export interface RequestFields {
  role: Role;
  key_id: string;
  method: string;
  path: string;
  body_sha256: string;
  timestamp: number;
  nonce: string;
  hub: string;
}

const METHOD = /^[A-Z]{1,16}$/;
// Request target as sent on the wire: starts with "/", visible ASCII only (RFC 9112 §3.2 origin-form), no fragment.
const PATH = /^\/[\x21-\x22\x24-\x7e]{0,2047}$/;
const TIMESTAMP = /^(0|[1-9][0-9]{0,15})$/;
/** A `.` or `..` segment, also percent-encoded (WHATWG URL parsing treats `%2e` as a dot). */
const DOT_SEGMENT = /^(\.|%2e){1,2}$/i;

/**
 * Whether the path part of a request target is already normal: no empty segment (`//`) and no `.` or `..` segment
 * (plain or `%2e`). URL parsers (WHATWG, node-server's request URL) rewrite such paths, so the path a router acts on
 * would differ from the bytes signed and sent; both sides refuse them instead (docs/protocol.md §5). A trailing
 * slash is not rewritten by anyone and stays allowed.
 */
export function isNormalPath(target: string): boolean {
  const q = target.indexOf('?');
  const segments = (q === -1 ? target : target.slice(0, q)).split('/').slice(1);
  return segments.every((seg, i) => !DOT_SEGMENT.test(seg) && (seg !== '' || i === segments.length - 1));
}
const HEAD = Uint8Array.of(...[...REQUEST_TAG].map((c) => c.charCodeAt(0)), REQUEST_VERSION);

const bodyBytes = (body: Uint8Array | string | undefined | null): Uint8Array =>
  body == null ? new Uint8Array(0) : typeof body === 'string' ? utf8Encode(body) : body;

/** hex SHA-256 of the exact body bytes; a missing body hashes as the empty string. */
export const bodySha256 = (body: Uint8Array | string | undefined | null): string => toHex(sha256(bodyBytes(body)));

function fieldsValid(f: RequestFields): boolean {
  return (
    (f.role === 'human' || f.role === 'agent') &&
    isId(f.key_id) &&
    METHOD.test(f.method) &&
    PATH.test(f.path) &&
    isNormalPath(f.path) &&
    /^[0-9a-f]{64}$/.test(f.body_sha256) &&
    Number.isSafeInteger(f.timestamp) &&
    f.timestamp >= 0 &&
    /^[A-Za-z0-9_-]{22}$/.test(f.nonce) &&
    isOrigin(f.hub)
  );
}

/** The exact bytes a request signature covers. @throws ProtocolError `protocol_invalid` for malformed fields. */
export function requestSigningBytes(fields: RequestFields): Uint8Array {
  if (!fieldsValid(fields)) throw new ProtocolError('protocol_invalid', 'Request fields are invalid.');
  const { role, key_id, method, path, body_sha256, timestamp, nonce, hub } = fields;
  return concatBytes(HEAD, canonicalBytes({ role, key_id, method, path, body_sha256, timestamp, nonce, hub }));
}

export interface SignRequestInput {
  role: Role;
  /** agent_id for agents; the device id the hub knows the device key by for humans. */
  keyId: string;
  /** Ed25519 private key (32-byte seed). */
  privateKey: Uint8Array;
  method: string;
  /** Path and query exactly as they will be sent. */
  path: string;
  body?: Uint8Array | string | null;
  hub: string;
  /** Clock, epoch milliseconds (default Date.now()); floored to seconds. */
  now?: number;
  /** 16 bytes; random by default. Fixed only for vectors. */
  nonce?: Uint8Array;
}

/**
 * Signs one request and returns the five `ck-*` headers to send with it.
 * @throws ProtocolError `protocol_invalid` for a malformed method, path, key id or hub; RangeError for bad key or nonce lengths.
 */
export function signRequest(input: SignRequestInput): SignedRequestHeaders {
  if (!(input.privateKey instanceof Uint8Array) || input.privateKey.length !== 32)
    throw new RangeError('privateKey must be 32 bytes');
  const fields = fieldsToSign(input);
  return headersFor(fields, signEd25519Sync(requestSigningBytes(fields), input.privateKey));
}

/** Something that signs bytes with an Ed25519 key it does not reveal (e.g. a non-extractable WebCrypto key). */
export interface AsyncRequestSigner {
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export type SignRequestWithInput = Omit<SignRequestInput, 'privateKey'> & { signer: AsyncRequestSigner };

/**
 * Like signRequest, but the signature comes from an async signer that holds the key (the extension's device key
 * is a non-extractable CryptoKey). Same fields, same bytes, same headers.
 * @throws ProtocolError `protocol_invalid` for malformed fields; RangeError for a bad nonce or signature length.
 */
export async function signRequestWith(input: SignRequestWithInput): Promise<SignedRequestHeaders> {
  const fields = fieldsToSign(input);
  const signature = await input.signer.sign(requestSigningBytes(fields));
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH)
    throw new RangeError('signature must be 64 bytes');
  return headersFor(fields, signature);
}

/** The signed fields of one request, with a fresh random nonce unless one is given (vectors). */
function fieldsToSign(input: Omit<SignRequestInput, 'privateKey'>): RequestFields {
  const nonceBytes = input.nonce ?? randomBytes(NONCE_BYTES);
  if (nonceBytes.length !== NONCE_BYTES) throw new RangeError('nonce must be 16 bytes');
  return {
    role: input.role,
    key_id: input.keyId,
    method: String(input.method).toUpperCase(),
    path: input.path,
    body_sha256: bodySha256(input.body),
    timestamp: Math.floor((input.now ?? Date.now()) / 1000),
    nonce: toBase64Url(nonceBytes),
    hub: input.hub,
  };
}

function headersFor(fields: RequestFields, signature: Uint8Array): SignedRequestHeaders {
  return {
    'ck-key-id': fields.key_id,
    'ck-role': fields.role,
    'ck-timestamp': String(fields.timestamp),
    'ck-nonce': fields.nonce,
    'ck-signature': toBase64Url(signature),
  };
}

type Awaitable<T> = T | Promise<T>;

export interface VerifyRequestInput {
  /** A Fetch `Headers` (names are case-insensitive) or a plain record with lowercase names. */
  headers: Headers | Record<string, string | undefined>;
  method: string;
  path: string;
  body?: Uint8Array | string | null;
  /** This hub's own origin: never taken from the request. */
  hub: string;
  /** The registered Ed25519 public key for this role and key id, or undefined/null if there is none (or it is revoked). */
  publicKeyFor(role: Role, keyId: string): Awaitable<Uint8Array | undefined | null>;
  /** Clock, epoch milliseconds. */
  now: number;
  maxSkewSeconds?: number;
  /**
   * Replay cache: records (role, keyId, nonce) until `expiresAt` (epoch ms) and returns true if it was already
   * there. Must be atomic (check-and-set). Called only after the signature verified, so unsigned junk cannot
   * fill it. An entry is alive while `now < expiresAt` and may be dropped once `expiresAt <= now`: by then the
   * timestamp check refuses the request anyway (expiresAt is one millisecond past the last accepted instant).
   */
  seenNonce(keyId: string, nonce: string, expiresAt: number, role: Role): Awaitable<boolean>;
}

/**
 * When a nonce seen with `timestamp` (epoch s) may be forgotten (epoch ms): the first instant at which the skew
 * check refuses that timestamp, one millisecond after the last instant it accepts it.
 */
export const nonceExpiresAt = (timestamp: number, maxSkewSeconds = DEFAULT_MAX_SKEW_SECONDS): number =>
  (timestamp + maxSkewSeconds) * 1000 + 1;

const fail = (code: ProtocolError['code'], message: string) => new ProtocolError(code, message);

function header(headers: VerifyRequestInput['headers'], name: string): string | undefined {
  const v =
    typeof (headers as Headers).get === 'function'
      ? (headers as Headers).get(name)
      : (headers as Record<string, string | undefined>)[name];
  return v == null ? undefined : v;
}

/** What the headers alone establish (checkRequestHeaders): well-formed, fresh, and naming a known key. */
export interface RequestHeaderCheck {
  role: Role;
  keyId: string;
  timestamp: number;
  nonce: string;
  signature: string;
  publicKey: Uint8Array;
  maxSkewSeconds: number;
}

/**
 * The checks of verifyRequest that need no body, in its order: headers present and well-formed (`auth_missing`) →
 * timestamp within ±maxSkew of `now` (`auth_stale`) → key known (`auth_unknown_key`). A hub runs these before it
 * reads a single body byte (docs/protocol.md §5, "Before the body"), then finishes with verifyRequestBody. The
 * signature itself covers the body's hash, so it cannot be checked yet: passing here proves nothing about who sent
 * the request, only that it names a live key within the time window.
 */
export async function checkRequestHeaders(
  input: Pick<VerifyRequestInput, 'headers' | 'now' | 'maxSkewSeconds' | 'publicKeyFor'>,
): Promise<RequestHeaderCheck> {
  const keyId = header(input.headers, HEADER_KEY_ID);
  const role = header(input.headers, HEADER_ROLE);
  const ts = header(input.headers, HEADER_TIMESTAMP);
  const nonce = header(input.headers, HEADER_NONCE);
  const signature = header(input.headers, HEADER_SIGNATURE);
  if (keyId === undefined || role === undefined || ts === undefined || nonce === undefined || signature === undefined) {
    throw fail('auth_missing', 'Request is not signed: a ck-* header is missing.');
  }
  if (
    (role !== 'human' && role !== 'agent') ||
    !isId(keyId) ||
    !TIMESTAMP.test(ts) ||
    !/^[A-Za-z0-9_-]{22}$/.test(nonce)
  ) {
    throw fail('auth_missing', 'Request signature headers are malformed.');
  }
  try {
    fromBase64UrlFixed(nonce, NONCE_BYTES, 'ck-nonce'); // canonical: one spelling per nonce, so the replay cache cannot be sidestepped
  } catch {
    throw fail('auth_missing', 'Request signature headers are malformed.');
  }
  const timestamp = Number(ts);
  const maxSkew = input.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS;
  // In milliseconds, both edges inclusive: accepted from (ts − maxSkew) s to (ts + maxSkew) s, to the millisecond
  // (docs/protocol.md §5). Integer arithmetic, so no rounding decides an edge.
  if (Math.abs(input.now - timestamp * 1000) > maxSkew * 1000)
    throw fail('auth_stale', `Request timestamp is more than ${maxSkew} s from the hub's clock.`);
  const publicKey = await input.publicKeyFor(role, keyId);
  if (!publicKey) throw fail('auth_unknown_key', 'Request is signed by an unknown key.');
  return { role, keyId, timestamp, nonce, signature, publicKey, maxSkewSeconds: maxSkew };
}

/**
 * The rest of verifyRequest once the body is read: signature over method, path, body and hub
 * (`auth_bad_signature`) → nonce not seen before (`auth_replayed`).
 */
export async function verifyRequestBody(
  checked: RequestHeaderCheck,
  input: Pick<VerifyRequestInput, 'method' | 'path' | 'body' | 'hub' | 'seenNonce'>,
): Promise<{ role: Role; keyId: string }> {
  const { role, keyId, timestamp, nonce, signature, publicKey } = checked;
  let ok = false;
  try {
    const fields: RequestFields = {
      role,
      key_id: keyId,
      method: String(input.method).toUpperCase(),
      path: input.path,
      body_sha256: bodySha256(input.body),
      timestamp,
      nonce,
      hub: input.hub,
    };
    const sig = fromBase64UrlFixed(signature, SIGNATURE_LENGTH, 'ck-signature');
    // Strict RFC 8032 §5.1.7 (lib/protocol/ed25519.ts), on the platform's WebCrypto: this is every request's cost.
    ok = await verifyEd25519(sig, requestSigningBytes(fields), publicKey);
  } catch {
    ok = false;
  }
  if (!ok) throw fail('auth_bad_signature', 'Request signature does not verify.');
  // A nonce must be remembered for as long as the skew check could accept its timestamp. The last accepted instant
  // is exactly (timestamp + maxSkew) s (the check is `> maxSkew`), so the entry must still be alive then: it expires
  // 1 ms later. Stores treat an entry as gone once `expiresAt <= now` (issue 13 item 11: at exactly ts+60 s the
  // entry used to be gone while the timestamp still passed, so a captured request was accepted again).
  const expiresAt = nonceExpiresAt(timestamp, checked.maxSkewSeconds);
  if (await input.seenNonce(keyId, nonce, expiresAt, role))
    throw fail('auth_replayed', 'Request was already received (replayed nonce).');
  return { role, keyId };
}

/**
 * Verifies a signed request (docs/protocol.md §4), in this order, each with its own code:
 * headers present and well-formed (`auth_missing`) → timestamp within ±maxSkew of `now` (`auth_stale`) → key
 * known (`auth_unknown_key`) → signature (`auth_bad_signature`) → nonce not seen before (`auth_replayed`).
 * Pure: clock, key lookup and replay cache are injected; callbacks may be sync or async. The same two halves a hub
 * runs around reading the body: checkRequestHeaders, then verifyRequestBody.
 * @returns who signed: `{ role, keyId }`.
 */
export async function verifyRequest(input: VerifyRequestInput): Promise<{ role: Role; keyId: string }> {
  return verifyRequestBody(await checkRequestHeaders(input), input);
}
