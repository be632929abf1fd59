/**
 * Shared pieces of the property tests (test/unit/property/*.property.test.ts, issue 14 must-show 5): the run
 * configuration, the "typed error only" oracle, byte mutations, and arbitraries for the small fields every protocol
 * statement shares (docs/protocol.md §2). Each arbitrary generates the whole valid space of its field, not a
 * convenient corner of it: every id length, every origin shape, every Unicode scalar where text is allowed.
 *
 * Reproducing a failure: fast-check prints `seed` and `path`; run the file with CLAWKEEP_PROP_SEED=<seed> (and the
 * failing property alone, e.g. `-t "<name>"`). CLAWKEEP_PROP_RUNS=<n> multiplies nothing: it replaces every
 * property's run count (for a long exploratory run).
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { expect, vi } from 'vitest';
import { toHex } from '../../../lib/bytes';
import { toBase64Url } from '../../../lib/protocol/base64url';
import { isOrigin } from '../../../lib/protocol/fields';
import { HIDDEN_CHARACTER } from '../../../lib/protocol/display-text';
import { isHttpHost } from '../../../lib/protocol/http-request';
import { isItemName } from '../../../lib/protocol/scopes';

/** A fixed default seed keeps `npm test` deterministic; set CLAWKEEP_PROP_SEED to explore or to replay a report. */
const SEED = process.env.CLAWKEEP_PROP_SEED !== undefined ? Number(process.env.CLAWKEEP_PROP_SEED) | 0 : 20261205;
const RUNS_OVERRIDE = process.env.CLAWKEEP_PROP_RUNS !== undefined ? Number(process.env.CLAWKEEP_PROP_RUNS) : undefined;

// Each property runs a fixed number of cases; on a loaded 2-core machine that can take longer than vitest's 5 s
// default per test, and a timeout says nothing about the codec. Every property file imports this module.
vi.setConfig({ testTimeout: 120_000 });

/** fast-check parameters for one property: `numRuns` runs (sized for ~30 s for the whole folder on 2 cores). */
export function runs(numRuns: number): { numRuns: number; seed: number } {
  return { numRuns: RUNS_OVERRIDE ?? numRuns, seed: SEED };
}

/** Asserts a synchronous property with `numRuns` runs. */
export function check<T>(arb: fc.Arbitrary<T>, predicate: (value: T) => void, numRuns: number): void {
  // The predicate's return value is ignored (an `expect(...)` chain may return a falsy value): failing means throwing.
  fc.assert(
    fc.property(arb, (v) => {
      predicate(v);
    }),
    runs(numRuns),
  );
}

/** Asserts an asynchronous property with `numRuns` runs. */
export async function checkAsync<T>(
  arb: fc.Arbitrary<T>,
  predicate: (value: T) => Promise<void>,
  numRuns: number,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(arb, async (v) => {
      await predicate(v);
    }),
    runs(numRuns),
  );
}

/** An error class with a `code`: the family a parser may throw (ClawkeepError, AttestError, SealError, ...). */
export type ErrorFamily = abstract new (...args: never[]) => Error & { code: string };

function assertTyped(err: unknown, family: ErrorFamily, codes: readonly string[] | undefined): string {
  // TypeError / RangeError / "cannot read properties of undefined" are bugs: only the module's own family may escape.
  if (!(err instanceof family))
    throw new Error(
      `expected only ${family.name}, got ${String((err as Error)?.name)}: ${String((err as Error)?.message)}`,
      { cause: err },
    );
  const code = (err as { code: string }).code;
  if (codes) expect(codes, `unexpected error code ${code}`).toContain(code);
  return code;
}

/**
 * Runs `fn` on hostile input: it may return, or throw an error of `family` (with one of `codes` when given), and
 * nothing else. @returns 'ok' or the thrown code.
 */
export function typedOnly(fn: () => unknown, family: ErrorFamily, codes?: readonly string[]): 'ok' | string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return assertTyped(err, family, codes);
  }
}

/** typedOnly for async parsers (WebCrypto-backed ones). */
export async function typedOnlyAsync(
  fn: () => Promise<unknown>,
  family: ErrorFamily,
  codes?: readonly string[],
): Promise<'ok' | string> {
  try {
    await fn();
    return 'ok';
  } catch (err) {
    return assertTyped(err, family, codes);
  }
}

// ---- bytes -------------------------------------------------------------------------------------------------

export const bytes = (length: number): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength: length, maxLength: length });

/** One edit of an encoding: what a truncated download, a bit rot or a hostile peer produces. */
export type Mutation =
  | { op: 'truncate'; at: number }
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; count: number }
  | { op: 'append'; bytes: Uint8Array };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);

/** 1..4 mutations. */
export const mutations = fc.array(mutation, { minLength: 1, maxLength: 4 });

export function mutate(input: Uint8Array, edits: readonly Mutation[]): Uint8Array {
  let b = input.slice();
  for (const m of edits) {
    const at = b.length === 0 ? 0 : 'at' in m ? m.at % b.length : 0;
    switch (m.op) {
      case 'truncate':
        b = b.slice(0, at);
        break;
      case 'flip':
        if (b.length > 0) b[at] = b[at]! ^ (1 << m.bit);
        break;
      case 'set':
        if (b.length > 0) b[at] = m.value;
        break;
      case 'insert':
        b = Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]);
        break;
      case 'delete':
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.count)]);
        break;
      case 'append':
        b = Uint8Array.from([...b, ...m.bytes]);
        break;
    }
  }
  return b;
}

const view = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const equal = (a: Uint8Array, b: Uint8Array) => view(a).equals(view(b));

/**
 * Byte equality as an assertion. Much faster than `toEqual` on kilobyte arrays (which compares element by element
 * through the generic matcher); on a mismatch it falls back to comparing hex, so the report shows the difference.
 */
export function expectBytes(actual: Uint8Array, expected: Uint8Array): void {
  if (!(actual instanceof Uint8Array) || !equal(actual, expected)) expect(toHex(actual)).toBe(toHex(expected));
}
/** Whether `edits` left `input` as it was (a flip then the same flip back, a set to the same value). */
export const unchanged = (input: Uint8Array, output: Uint8Array): boolean => equal(input, output);

// ---- text --------------------------------------------------------------------------------------------------

/** Any well-formed string: every Unicode scalar value (astral planes as surrogate pairs), never a lone surrogate. */
export const unicodeString = (constraints: { minLength?: number; maxLength?: number } = {}): fc.Arbitrary<string> =>
  fc.string({ unit: 'binary', ...constraints });

/** A string with at least one lone surrogate somewhere in it (ill-formed UTF-16, no UTF-8 form). */
export const loneSurrogateString: fc.Arbitrary<string> = fc
  .tuple(unicodeString({ maxLength: 8 }), fc.integer({ min: 0xd800, max: 0xdfff }), unicodeString({ maxLength: 8 }))
  // A high surrogate followed by a low one would pair up: keep the lone one lone.
  .filter(([a, , c]) => !/[\uD800-\uDBFF]$/.test(a) && !/^[\uDC00-\uDFFF]/.test(c))
  .map(([a, s, c]) => a + String.fromCharCode(s) + c);

// ---- protocol fields (docs/protocol.md §2) ------------------------------------------------------------------

/** ids: 1..64 of [A-Za-z0-9_-], starting alphanumeric (fields.ts ID_PATTERN), every length. */
export const id: fc.Arbitrary<string> = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/);
export const sha256Hex: fc.Arbitrary<string> = bytes(32).map(toHex);
/** Non-negative safe integers with the edges (0 and 2^53 - 1) made likely. */
export const epoch: fc.Arbitrary<number> = fc.oneof(fc.maxSafeNat(), fc.constantFrom(0, 1, Number.MAX_SAFE_INTEGER));

const label = fc
  .stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/)
  .filter((l) => !l.startsWith('xn--') && l.slice(2, 4) !== '--');
const tld = fc.stringMatching(/^[a-z]{2,10}$/);
const hostname = fc.tuple(fc.array(label, { minLength: 1, maxLength: 4 }), tld).map(([ls, t]) => [...ls, t].join('.'));
const port = (except: number) =>
  fc.option(
    fc.integer({ min: 1, max: 65535 }).filter((p) => p !== except),
    { nil: undefined },
  );

/**
 * Hub origins as WHATWG serialises them: https with a DNS name or an IPv4 address and an optional non-default port,
 * or http on a loopback host. The isOrigin filter only drops the rare generated host URL parsing rewrites.
 */
export const origin: fc.Arbitrary<string> = fc
  .oneof(
    fc.tuple(fc.oneof(hostname, fc.ipV4()), port(443)).map(([h, p]) => `https://${h}${p === undefined ? '' : `:${p}`}`),
    fc
      .tuple(fc.constantFrom('localhost', '127.0.0.1', '[::1]'), port(80))
      .map(([h, p]) => `http://${h}${p === undefined ? '' : `:${p}`}`),
  )
  .filter(isOrigin);

/**
 * Hosts as an `http.request` names them and a secret's allowed hosts store them (isHttpHost): a DNS name or an IPv4
 * address, with a port only when it is not 443, already in the form the URL parser gives.
 */
export const httpHost: fc.Arbitrary<string> = fc
  .tuple(fc.oneof(hostname, fc.ipV4()), port(443))
  .map(([h, p]) => (p === undefined ? h : `${h}:${p}`))
  .filter((h) => isHttpHost(h) && new URL(`https://${h}/`).host === h);

/** 16 random bytes as strict base64url (22 characters): agent nonces, request nonces. */
export const nonce16: fc.Arbitrary<string> = bytes(16).map(toBase64Url);

/** Valid Ed25519 public keys: any 32 bytes that decode strictly (RFC 8032 §5.1.3) to a point not of small order. */
export const ed25519PublicKey: fc.Arbitrary<Uint8Array> = bytes(32).filter((k) => {
  try {
    return !ed25519.Point.fromBytes(k, false).isSmallOrder();
  } catch {
    return false;
  }
});
export const ed25519PublicKeyText = ed25519PublicKey.map(toBase64Url);
/** X25519 keys are any 32 bytes on the wire (docs/protocol.md §2). */
export const x25519PublicKeyText = bytes(32).map(toBase64Url);

/** An X25519 key pair from any 32-byte private key (clamped by X25519 itself, RFC 7748 §5). */
export const x25519KeyPair = bytes(32).map((priv) => ({ priv, pub: x25519.getPublicKey(priv) }));

export interface SigningPair {
  priv: Uint8Array;
  pub: Uint8Array;
  text: string;
}

/**
 * Signing keys for properties that sign and verify: a pool computed once, because a public key costs a scalar
 * multiplication and the properties are about the statement, not about Ed25519.
 */
export const SIGNERS: readonly SigningPair[] = Array.from({ length: 12 }, (_, i) => {
  const priv = new Uint8Array(32).fill(i + 1);
  priv[0] = 0xa0 + i;
  const pub = ed25519.getPublicKey(priv);
  return { priv, pub, text: toBase64Url(pub) };
});
export const signer: fc.Arbitrary<SigningPair> = fc.constantFrom(...SIGNERS);
/** Two different signers. */
export const signerPair: fc.Arbitrary<[SigningPair, SigningPair]> = fc
  .tuple(fc.nat({ max: SIGNERS.length - 1 }), fc.nat({ max: SIGNERS.length - 2 }))
  .map(([a, b]) => [SIGNERS[a]!, SIGNERS[b >= a ? b + 1 : b]!]);

/** Intent kinds: segment 1*("." segment), at most 64 characters (intent-hash.ts KIND_PATTERN). */
export const kind: fc.Arbitrary<string> = fc
  .array(fc.stringMatching(/^[a-z][a-z0-9_]{0,12}$/), { minLength: 2, maxLength: 5 })
  .map((s) => s.join('.'))
  .filter((k) => k.length <= 64);

/**
 * One Unicode scalar value a person can see (display-text.ts refuses controls, format and private-use characters,
 * separators, lone surrogates and invisible fillers). Filtering per character, not per string: a long random string
 * almost always holds a private-use code point (planes 15 and 16), so a whole-string filter would reject nearly all.
 */
const visibleChar = fc
  .integer({ min: 0x20, max: 0x10ffff })
  .filter((cp) => (cp < 0xd800 || cp > 0xdfff) && !HIDDEN_CHARACTER.test(String.fromCodePoint(cp)))
  .map((cp) => String.fromCodePoint(cp));

/** Vault item names as scopes allow them (1..128 UTF-16 code units, nothing hidden; scopes.ts). */
export const itemName: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ unit: visibleChar, minLength: 1, maxLength: 64 }),
    fc.string({ unit: visibleChar, minLength: 100, maxLength: 128 }),
  )
  .map((s) => s.slice(0, 128).replace(/[\uD800-\uDBFF]$/, ''))
  .filter(isItemName);

/** A canonical scope list: valid, sorted by UTF-16 code units, unique, at most 64. */
export const scopeList: fc.Arbitrary<string[]> = fc
  .array(
    fc.oneof(
      itemName.map((n) => `secret:read:${n}`),
      kind.map((k) => `action:${k}`),
    ),
    { maxLength: 64 },
  )
  .map((list) => [...new Set(list)].sort());

/**
 * Replaces, removes or adds one field of a JSON object, or swaps the whole value for any JSON value: the ways a
 * hub can bend a statement it relays.
 */
export function bentObject(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.tuple(valid, fc.nat(), fc.jsonValue()).map(([o, i, v]) => {
      const keys = Object.keys(o);
      return { ...o, [keys[i % keys.length]!]: v };
    }),
    fc.tuple(valid, fc.nat()).map(([o, i]) => {
      const keys = Object.keys(o);
      const copy = { ...o };
      delete copy[keys[i % keys.length]!];
      return copy;
    }),
    fc
      .tuple(valid, fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue())
      .filter(([o, k]) => !(k in o))
      .map(([o, k, v]) => ({ ...o, [k]: v })),
    fc.jsonValue(),
    fc.constantFrom(null, undefined, 0, '', [], {}),
  );
}
