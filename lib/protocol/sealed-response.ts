import { sha256 } from '@noble/hashes/sha2.js';
import { fromBase64, toBase64, toHex, utf8Decode, utf8Encode, wipe } from '../bytes';
import { fromBase64Url, toBase64Url } from './base64url';
import { canonicalBytes } from './canonical';
import { ProtocolError } from './errors';
import { check, exactFields, isEpoch, isId, isOrigin, isSha256Hex } from './fields';
import { boxAssociatedData, boxFormat, isBoxShape, openBox, sealBox, type SealBoxOptions } from './sealed-box';
import { statementBytes, verifyStatement, type SignedStatement, type StatementFormat } from './signed-statement';

/**
 * What the person's device returns to an agent for an `http.request` intent (issue 18, docs/protocol.md §6b): the
 * outcome of the call it made (the response, or why there is none), sealed to the agent and signed by the device.
 *
 * 1. The sealed outcome, to the agent's X25519 box key (the CKSS shape, sealed-box.ts, its own HKDF info):
 *
 * ```text
 *      bytes = "CKHR" | 0x01 | ephemeralPublic[32] | nonce[24] | XChaCha20-Poly1305 ciphertext + tag[16]
 *      AD    = "CKHR" | 0x01 | canonicalBytes({hub, agent_id, installation_id, intent_id, payload_hash})
 *      plaintext = outcomeBytes(outcome)   (HttpOutcome below: canonical JSON, without canonicalBytes' 64 KiB cap)
 * ```
 *
 * 2. The delivery statement, signed with the device's Ed25519 key:
 *
 * ```text
 *      signed = "CKRS" | 0x01 | canonicalBytes({hub, agent_id, installation_id, intent_id, payload_hash,
 *                                              sealed_sha256, time})
 * ```
 *
 * The AEAD alone would let anyone holding the agent's public key (the hub) seal an answer of its choosing; the
 * signature says the device made it, for this intent and payload. The hub sees neither the response nor the secret.
 */
export const SEALED_RESPONSE_TAG = 'CKHR';
export const SEALED_RESPONSE_VERSION = 1;
export const SEALED_RESPONSE_INFO = 'clawkeep/v1/http-response';
export const RESPONSE_STATEMENT_TAG = 'CKRS';
export const RESPONSE_STATEMENT_VERSION = 1;
/**
 * Ceiling on the outcome's plaintext: a 1 MiB body as base64 (4/3), its headers and the rest. The hub's body limit
 * for a decision carrying one (hub/ingress.ts) is derived from it.
 */
export const SEALED_RESPONSE_MAX_PLAINTEXT = 1536 * 1024;

const sealedInvalid = (cause?: unknown) =>
  new ProtocolError(
    'sealed_invalid',
    'The sealed response does not open: it was changed, or is for another key or intent.',
    cause === undefined ? undefined : { cause },
  );

const FORMAT = boxFormat(
  SEALED_RESPONSE_TAG,
  SEALED_RESPONSE_VERSION,
  SEALED_RESPONSE_INFO,
  SEALED_RESPONSE_MAX_PLAINTEXT,
  sealedInvalid,
);

export interface ResponseContext {
  hub: string;
  agent_id: string;
  installation_id: string;
  intent_id: string;
  payload_hash: string;
}

export interface ResponseStatement extends ResponseContext {
  /** Lowercase hex SHA-256 of the sealed bytes. */
  sealed_sha256: string;
  /** Epoch milliseconds on the device's clock when it sealed the outcome. */
  time: number;
}

/** What travels in the decision (POST /v1/intents/:id/decision) and back to the agent (execute, or a denied GET). */
export interface ResponseDelivery {
  response: SignedStatement<ResponseStatement>;
  /** The CKHR bytes, unpadded base64url. */
  sealed_response: string;
}

/** Reflection forms cut from a response (lib/http-request/redact.ts). */
export const REFLECTION_FORMS = ['base64', 'json', 'percent', 'verbatim'] as const;
export type ReflectionFormName = (typeof REFLECTION_FORMS)[number];

/**
 * The outcome inside the box:
 * - `response`: the server answered. `body` is base64 (bytes kept as bytes, any content type); `redacted` names the
 *   forms of a secret cut from it; `withheld` means the body was held back whole (a reflection could not be cut for
 *   certain); `redirect` is a redirect the device did not follow.
 * - `failed`: the device made the call and no answer came (timeout, too large, network): a code and words.
 * - `refused`: the device did not make the call (a secret may not go to this host): a code and words, no card shown.
 */
export type HttpOutcome =
  | {
      outcome: 'response';
      status: number;
      headers: [string, string][];
      body: string;
      redacted: ReflectionFormName[];
      withheld: boolean;
      redirect: { location: string | null } | null;
    }
  | { outcome: 'failed' | 'refused'; code: string; message: string };

const MAX_WORDS = 1000;
const isShortText = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= MAX_WORDS;
const isCode = (v: unknown): v is string => typeof v === 'string' && /^[a-z][a-z0-9_]{0,63}$/.test(v);

/** Checks an outcome's shape exactly (the agent, after opening it). @throws ProtocolError `sealed_invalid` */
export function parseHttpOutcome(value: unknown): HttpOutcome {
  try {
    const kind = (value as { outcome?: unknown } | null)?.outcome;
    if (kind === 'failed' || kind === 'refused') {
      const o = exactFields(value, ['outcome', 'code', 'message'], 'outcome');
      check(isCode(o.code), 'outcome.code');
      check(isShortText(o.message), 'outcome.message');
      return { outcome: kind, code: o.code as string, message: o.message as string };
    }
    const o = exactFields(
      value,
      ['outcome', 'status', 'headers', 'body', 'redacted', 'withheld', 'redirect'],
      'outcome',
    );
    check(o.outcome === 'response', 'outcome.outcome');
    check(typeof o.status === 'number' && Number.isInteger(o.status) && o.status >= 0 && o.status <= 999, 'status');
    check(
      Array.isArray(o.headers) &&
        o.headers.length <= 256 &&
        o.headers.every(
          (h) => Array.isArray(h) && h.length === 2 && typeof h[0] === 'string' && typeof h[1] === 'string',
        ),
      'headers',
    );
    check(typeof o.body === 'string', 'body');
    fromBase64(o.body as string);
    check(
      Array.isArray(o.redacted) && o.redacted.every((f) => (REFLECTION_FORMS as readonly unknown[]).includes(f)),
      'redacted',
    );
    check(typeof o.withheld === 'boolean', 'withheld');
    const r = o.redirect as { location?: unknown } | null;
    if (r !== null) {
      exactFields(r, ['location'], 'redirect');
      check(r.location === null || typeof r.location === 'string', 'redirect.location');
    }
    return {
      outcome: 'response',
      status: o.status as number,
      headers: (o.headers as [string, string][]).map(([n, v]) => [n, v]),
      body: o.body as string,
      redacted: [...(o.redacted as ReflectionFormName[])],
      withheld: o.withheld as boolean,
      redirect: r === null ? null : { location: (r.location as string | null) ?? null },
    };
  } catch (err) {
    throw sealedInvalid(err);
  }
}

/**
 * The outcome as the box holds it: the same bytes canonicalBytes gives (keys sorted, no spaces; the outcome holds only
 * strings, integers, booleans, null, arrays and flat objects, whose JSON.stringify form is canonical), but without
 * canonicalBytes' 64 KiB ceiling, which signed statements need and a 1 MiB answer does not fit.
 */
export function outcomeBytes(outcome: HttpOutcome): Uint8Array {
  const sorted = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sorted)
      : value !== null && typeof value === 'object'
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, sorted((value as Record<string, unknown>)[k])]),
          )
        : value;
  return utf8Encode(JSON.stringify(sorted(outcome)));
}

function assertContext(context: ResponseContext): ResponseContext {
  if (
    !context ||
    !isOrigin(context.hub) ||
    !isId(context.agent_id) ||
    !isId(context.installation_id) ||
    !isId(context.intent_id) ||
    !isSha256Hex(context.payload_hash)
  )
    throw new ProtocolError('sealed_invalid', 'Sealed response context is malformed.');
  const { hub, agent_id, installation_id, intent_id, payload_hash } = context;
  return { hub, agent_id, installation_id, intent_id, payload_hash };
}

/** Associated data for one context. @throws ProtocolError `sealed_invalid` for a malformed context. */
export const sealedResponseAssociatedData = (context: ResponseContext): Uint8Array =>
  boxAssociatedData(FORMAT, canonicalBytes(assertContext(context)));

/** Whether `bytes` has the CKHR v1 shape (all the hub can check of the box). */
export const isSealedResponseShape = (bytes: Uint8Array): boolean => isBoxShape(FORMAT, bytes);

const STATEMENT_KEYS = ['hub', 'agent_id', 'installation_id', 'intent_id', 'payload_hash', 'sealed_sha256', 'time'];

export const RESPONSE_STATEMENT_FORMAT: StatementFormat<ResponseStatement> = {
  tag: RESPONSE_STATEMENT_TAG,
  version: RESPONSE_STATEMENT_VERSION,
  code: 'sealed_invalid',
  what: 'Response delivery',
  validate(value) {
    const v = exactFields(value, STATEMENT_KEYS, 'response');
    const context = assertContext(v as unknown as ResponseContext);
    check(isSha256Hex(v.sealed_sha256), 'response.sealed_sha256');
    check(isEpoch(v.time), 'response.time');
    return { ...context, sealed_sha256: v.sealed_sha256 as string, time: v.time as number };
  },
};

/** The exact bytes a delivery signature covers ("CKRS" | 0x01 | canonical statement). */
export const responseStatementBytes = (statement: ResponseStatement): Uint8Array =>
  statementBytes(RESPONSE_STATEMENT_FORMAT, RESPONSE_STATEMENT_FORMAT.validate(statement));

export interface BuildResponseInput extends ResponseContext {
  /** The agent's X25519 box key, from the claim this device signed (never from the hub). */
  boxKey: Uint8Array;
  outcome: HttpOutcome;
  /** The device signer: the private key never leaves it. */
  sign(message: Uint8Array): Promise<Uint8Array>;
  now: number;
  seal?: SealBoxOptions;
}

/** Seals and signs the outcome of one http.request for one agent installation. */
export async function buildResponseDelivery(input: BuildResponseInput): Promise<ResponseDelivery> {
  const context = assertContext(input);
  const plaintext = outcomeBytes(parseHttpOutcome(input.outcome));
  let sealed: Uint8Array;
  try {
    if (plaintext.length > SEALED_RESPONSE_MAX_PLAINTEXT)
      throw new ProtocolError('sealed_invalid', 'The response is too large to seal.');
    sealed = sealBox(FORMAT, input.boxKey, plaintext, sealedResponseAssociatedData(context), input.seal);
  } finally {
    wipe(plaintext);
  }
  const statement: ResponseStatement = { ...context, sealed_sha256: toHex(sha256(sealed)), time: input.now };
  const signature = toBase64Url(await input.sign(responseStatementBytes(statement)));
  return { response: { statement, signature }, sealed_response: toBase64Url(sealed) };
}

/**
 * Checks a delivery's shape, its device signature and that it names `expected`, and that the sealed bytes are the
 * ones signed (the hub at the door, with the deciding device's key; the agent, with the keys it trusts).
 * @throws ProtocolError `sealed_invalid`
 */
export function verifyResponseDelivery(
  deviceKey: Uint8Array,
  delivery: unknown,
  expected: ResponseContext,
): { statement: ResponseStatement; sealed: Uint8Array } {
  const d = delivery as Partial<ResponseDelivery> | null;
  if (!d || typeof d !== 'object' || typeof d.sealed_response !== 'string') throw sealedInvalid();
  const statement = verifyStatement(RESPONSE_STATEMENT_FORMAT, deviceKey, d.response, assertContext(expected));
  let sealed: Uint8Array;
  try {
    sealed = fromBase64Url(d.sealed_response, 'sealed_response');
  } catch (err) {
    throw sealedInvalid(err);
  }
  if (!isSealedResponseShape(sealed) || toHex(sha256(sealed)) !== statement.sealed_sha256) throw sealedInvalid();
  return { statement, sealed };
}

/**
 * verifyResponseDelivery, then opens the outcome for exactly that context.
 * @throws ProtocolError `sealed_invalid`
 */
export function openResponseDelivery(
  deviceKey: Uint8Array,
  recipientPrivate: Uint8Array,
  delivery: unknown,
  expected: ResponseContext,
): { statement: ResponseStatement; outcome: HttpOutcome } {
  const { statement, sealed } = verifyResponseDelivery(deviceKey, delivery, expected);
  const plaintext = openBox(FORMAT, recipientPrivate, sealed, sealedResponseAssociatedData(expected));
  try {
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8Decode(plaintext));
    } catch (err) {
      throw sealedInvalid(err);
    }
    return { statement, outcome: parseHttpOutcome(parsed) };
  } finally {
    wipe(plaintext);
  }
}

/** The response body's bytes (base64 in the outcome). */
export const outcomeBody = (o: Extract<HttpOutcome, { outcome: 'response' }>): Uint8Array => fromBase64(o.body);
/** Bytes as the outcome carries them. */
export const bodyField = (bytes: Uint8Array): string => toBase64(bytes);
