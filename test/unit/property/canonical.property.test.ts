// @vitest-environment node
/**
 * Property tests for canonical JSON (lib/protocol/canonical.ts, docs/protocol.md §1: the RFC 8785 subset with safe
 * integers only) and strict base64url (lib/protocol/base64url.ts, §2): everything the protocol hashes or signs goes
 * through these two, so one spelling per value is what every signature relies on.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8Encode } from '../../../lib/bytes';
import { fromBase64Url, fromBase64UrlFixed, toBase64Url } from '../../../lib/protocol/base64url';
import {
  CANONICAL_MAX_BYTES,
  CANONICAL_MAX_DEPTH,
  canonicalBytes,
  canonicalize,
  parseCanonical,
  type CanonicalValue,
} from '../../../lib/protocol/canonical';
import { ProtocolError } from '../../../lib/protocol/errors';
import { check, loneSurrogateString, typedOnly, unicodeString } from './arbitraries';

const INVALID = ['protocol_invalid'];

// ---- arbitraries ---------------------------------------------------------------------------------------------

const safeInt = fc.oneof(
  fc.integer(),
  fc.maxSafeInteger(),
  fc.constantFrom(0, 1, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 31, -(2 ** 31), 2 ** 32),
);
const key = fc.oneof(
  unicodeString({ maxLength: 10 }),
  fc.constantFrom('', '__proto__', 'constructor', '0', '10', '-1', 'a', 'A', 'é', '\u{1F600}', '\uFFFF'),
);
const leaf: fc.Arbitrary<CanonicalValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  safeInt,
  unicodeString({ maxLength: 24 }),
);

/**
 * Every value canonical JSON accepts: null, booleans, safe integers (with their edges), any well-formed Unicode
 * string, arrays, and objects with any keys (Unicode, numeric-looking, `__proto__`), with plain or null
 * prototypes, nested at most a few levels here (the depth ceiling has its own property).
 */
const value: fc.Arbitrary<CanonicalValue> = fc.letrec<{
  value: CanonicalValue;
  array: CanonicalValue[];
  object: Record<string, CanonicalValue>;
}>((tie) => ({
  value: fc.oneof({ depthSize: 'small', maxDepth: 6 }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 6 }),
})).value;

/** The same value with every object's keys inserted in a shuffled order. */
function reordered(v: CanonicalValue, order: number[]): CanonicalValue {
  if (Array.isArray(v)) return v.map((x) => reordered(x, order));
  if (v === null || typeof v !== 'object') return v;
  const keys = Object.keys(v);
  const shuffled = keys
    .map((k, i) => [order[i % order.length]! + i * 0.001, k] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, k]) => k);
  const out: Record<string, CanonicalValue> = {};
  for (const k of shuffled)
    Object.defineProperty(out, k, {
      value: reordered(v[k]!, order),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return out;
}

/** An independent model of the encoding: JSON.stringify over a copy whose keys are sorted by UTF-16 code units. */
function model(v: CanonicalValue): string {
  if (Array.isArray(v)) return `[${v.map(model).join(',')}]`;
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  return `{${Object.keys(v)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((k) => `${JSON.stringify(k)}:${model(v[k]!)}`)
    .join(',')}}`;
}

const parse = (text: string) => parseCanonical(utf8Encode(text));

// ---- canonical JSON --------------------------------------------------------------------------------------------

describe('canonical JSON: round trips', () => {
  it('canonical(parse(canonical(x))) = canonical(x), and parse gives back x', () => {
    check(
      value,
      (x) => {
        const text = canonicalize(x);
        const back = parseCanonical(canonicalBytes(x));
        expect(canonicalize(back)).toBe(text);
        expect(back).toEqual(x);
      },
      500,
    );
  });

  it('encodes exactly as JSON.stringify with keys sorted by UTF-16 code units (RFC 8785 §3.2.2, §3.2.3)', () => {
    check(value, (x) => expect(canonicalize(x)).toBe(model(x)), 500);
  });

  it('is independent of key insertion order', () => {
    check(
      fc.tuple(value, fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 8 })),
      ([x, order]) => {
        expect(canonicalize(reordered(x, order))).toBe(canonicalize(x));
      },
      400,
    );
  });

  it('canonicalBytes is the UTF-8 of canonicalize (what gets hashed is what gets shown)', () => {
    check(value, (x) => expect(canonicalBytes(x)).toEqual(utf8Encode(canonicalize(x))), 300);
  });
});

describe('canonical JSON: strictness', () => {
  it('refuses every other spelling of the same value: whitespace, reordered keys, escapes, number forms', () => {
    const spelling = fc.oneof(
      // pretty-printed
      value.map((x) => JSON.stringify(x, null, 1)),
      value.map((x) => ` ${canonicalize(x)}`),
      // two keys in the wrong order
      fc
        .tuple(unicodeString({ maxLength: 6 }), unicodeString({ maxLength: 6 }), leaf, leaf)
        .filter(([a, b]) => a < b)
        .map(([a, b, va, vb]) => `{${JSON.stringify(b)}:${model(vb)},${JSON.stringify(a)}:${model(va)}}`),
      // a duplicate key
      fc
        .tuple(unicodeString({ maxLength: 6 }), leaf, leaf)
        .map(([k, a, b]) => `{${JSON.stringify(k)}:${model(a)},${JSON.stringify(k)}:${model(b)}}`),
      // a character written as a \u escape JSON.stringify would not use
      fc
        .tuple(unicodeString({ minLength: 1, maxLength: 10 }), fc.nat())
        .map(([s, i]) => {
          const chars = [...s];
          const at = i % chars.length;
          const c = chars[at]!;
          if (JSON.stringify(c).length > 3) return null; // already escaped by JSON.stringify (a control, " or \)
          chars[at] = [...c].map((u) => `\\u${u.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
          return JSON.stringify(chars.join('')).replace(/\\\\u/g, '\\u');
        })
        .filter((t): t is string => t !== null),
      // numbers: 1.0, 1e0, +1, leading zeros, -0
      safeInt.chain((n) =>
        fc.constantFrom(`${n}.0`, `${n}e0`, `${n}E+0`, n >= 0 ? `0${n}` : `-0${-n}`, '-0', '1.5', '1e400'),
      ),
    );
    check(
      spelling,
      (text) => {
        let canonical: string | undefined;
        try {
          canonical = canonicalize(JSON.parse(text));
        } catch {
          canonical = undefined;
        }
        fc.pre(canonical !== text);
        expect(typedOnly(() => parse(text), ProtocolError, INVALID)).toBe('protocol_invalid');
      },
      500,
    );
  });

  it('refuses values outside the subset: floats, -0, NaN, ±Infinity, lone surrogates, undefined, bigint, functions, symbols, non-plain objects, sparse arrays', () => {
    const bad = fc.oneof(
      fc.double({ noInteger: true }),
      fc.constantFrom(-0, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER + 1, Number.MIN_SAFE_INTEGER - 1, 2 ** 64),
      loneSurrogateString,
      loneSurrogateString.map((k) => ({ [k]: 1 })),
      fc.constantFrom(
        undefined,
        1n,
        () => 1,
        Symbol('s'),
        new Date(0),
        new Map(),
        new Set(),
        new Uint8Array(1),
        new Array<number>(3),
        Object.create({ inherited: 1 }) as object,
      ),
      fc.constant(Object.defineProperty({}, 'x', { get: () => 1, enumerable: true })),
      fc.constant({ [Symbol('k')]: 1 }),
    );
    // Anywhere inside a valid document, not only at the top.
    const placed = fc
      .tuple(bad, fc.constantFrom('top', 'array', 'object'))
      .map(([b, where]) => (where === 'top' ? b : where === 'array' ? [1, b] : { a: b }));
    check(
      placed,
      (x) => expect(typedOnly(() => canonicalize(x), ProtocolError, INVALID)).toBe('protocol_invalid'),
      300,
    );
  });

  it(`refuses nesting deeper than ${CANONICAL_MAX_DEPTH} and documents over ${CANONICAL_MAX_BYTES} bytes, when encoding and when parsing`, () => {
    check(
      fc.tuple(fc.integer({ min: 1, max: 200 }), fc.boolean()),
      ([depth, objects]) => {
        let x: unknown = 0;
        for (let i = 0; i < depth; i++) x = objects ? { k: x } : [x];
        const ok = depth <= CANONICAL_MAX_DEPTH;
        expect(typedOnly(() => canonicalize(x), ProtocolError, INVALID)).toBe(ok ? 'ok' : 'protocol_invalid');
        const text = objects
          ? `${'{"k":'.repeat(depth)}0${'}'.repeat(depth)}`
          : `${'['.repeat(depth)}0${']'.repeat(depth)}`;
        expect(typedOnly(() => parse(text), ProtocolError, INVALID)).toBe(ok ? 'ok' : 'protocol_invalid');
      },
      200,
    );
    check(
      fc.tuple(
        fc.integer({ min: CANONICAL_MAX_BYTES - 8, max: CANONICAL_MAX_BYTES + 8 }),
        fc.constantFrom('a', 'é', '\u{1F600}'),
      ),
      ([size, ch]) => {
        // A string of `size` UTF-8 bytes, in quotes: 2 more bytes of JSON.
        const s = ch.repeat(Math.floor((size - 2) / utf8Encode(ch).length));
        const len = utf8Encode(JSON.stringify(s)).length;
        const expected = len <= CANONICAL_MAX_BYTES ? 'ok' : 'protocol_invalid';
        expect(typedOnly(() => canonicalBytes(s), ProtocolError, INVALID)).toBe(expected);
        expect(typedOnly(() => parse(JSON.stringify(s)), ProtocolError, INVALID)).toBe(expected);
      },
      60,
    );
  });

  it('random bytes and random JSON text: a value only if the text is already canonical, else protocol_invalid', () => {
    check(
      fc.uint8Array({ maxLength: 64 }),
      (b) => {
        if (typedOnly(() => parseCanonical(b), ProtocolError, INVALID) === 'ok')
          expect(canonicalBytes(parseCanonical(b))).toEqual(b);
      },
      500,
    );
    check(
      fc.oneof(
        fc.json(),
        fc.json().map((t) => t.replace(/,/g, ', ')),
      ),
      (text) => {
        const code = typedOnly(() => parse(text), ProtocolError, INVALID);
        if (code === 'ok') expect(canonicalize(parse(text))).toBe(text);
      },
      500,
    );
  });
});

// ---- base64url ---------------------------------------------------------------------------------------------

describe('base64url (RFC 4648 §5, unpadded, strict)', () => {
  it("from(to(b)) = b and to(from(s)) = s; the encoding is Node's base64url", () => {
    check(
      fc.uint8Array({ maxLength: 100 }),
      (b) => {
        const s = toBase64Url(b);
        expect(s).toBe(Buffer.from(b).toString('base64url'));
        expect(fromBase64Url(s)).toEqual(b);
        expect(toBase64Url(fromBase64Url(s))).toBe(s);
        expect(fromBase64UrlFixed(s, b.length, 'x')).toEqual(b);
        expect(typedOnly(() => fromBase64UrlFixed(s, b.length + 1, 'x'), ProtocolError, INVALID)).toBe(
          'protocol_invalid',
        );
      },
      500,
    );
  });

  it('any string: decodes only if it is the one canonical spelling of its bytes, else protocol_invalid', () => {
    const text = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9_-]{0,30}$/),
      fc.string({ maxLength: 30 }),
      fc.uint8Array({ minLength: 1, maxLength: 30 }).map((b) => Buffer.from(b).toString('base64')), // padded, + and /
      fc.uint8Array({ minLength: 1, maxLength: 30 }).map((b) => ` ${toBase64Url(b)}`),
    );
    check(
      text,
      (s) => {
        if (typedOnly(() => fromBase64Url(s), ProtocolError, INVALID) === 'ok')
          expect(toBase64Url(fromBase64Url(s))).toBe(s);
      },
      500,
    );
  });

  it('non-zero unused trailing bits are refused (one spelling per byte string)', () => {
    check(
      fc.uint8Array({ minLength: 1, maxLength: 40 }).filter((b) => b.length % 3 !== 0),
      (b) => {
        const s = toBase64Url(b);
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const last = alphabet.indexOf(s.at(-1)!);
        const unused = b.length % 3 === 1 ? 4 : 2; // bits of the last character that carry no data
        for (let low = 1; low < 1 << unused; low++) {
          const other = s.slice(0, -1) + alphabet[last | low];
          expect(typedOnly(() => fromBase64Url(other), ProtocolError, INVALID)).toBe('protocol_invalid');
        }
      },
      300,
    );
  });

  it('non-strings are refused with protocol_invalid, not a TypeError', () => {
    check(
      fc.oneof(fc.anything(), fc.constantFrom(undefined, null, 1, {}, [])).filter((v) => typeof v !== 'string'),
      (v) => {
        expect(typedOnly(() => fromBase64Url(v as string), ProtocolError, INVALID)).toBe('protocol_invalid');
      },
      200,
    );
  });
});
