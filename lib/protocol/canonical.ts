import { utf8Decode, utf8Encode } from '../bytes';
import { invalid } from './errors';

/**
 * Canonical JSON for everything Clawkeep hashes or signs (docs/protocol.md §1): the RFC 8785 (JCS) subset in
 * which every number is a safe integer, so the RFC's ECMAScript number serialisation (§3.2.2.3) reduces to
 * `String(n)` and the encoding has exactly one form per value.
 *
 * - objects: keys sorted by UTF-16 code units (RFC 8785 §3.2.3), no whitespace;
 * - strings: escaped exactly as `JSON.stringify` does (RFC 8785 §3.2.2.2); lone surrogates are rejected
 *   (RFC 8785 §3.2.2.2 requires well-formed Unicode, and a lone surrogate has no UTF-8 encoding);
 * - numbers: safe integers only; floats, -0, NaN and ±Infinity are rejected because their text forms are the
 *   part of JCS that implementations most often get wrong, and the protocol has no use for them;
 * - booleans, null, arrays; anything else (undefined, functions, symbols, bigint, Dates, Maps, class
 *   instances, sparse arrays, accessors) is rejected rather than silently dropped or converted.
 */
export const CANONICAL_MAX_DEPTH = 32;
/** Ceiling on the UTF-8 size of one canonical document (denial of service). */
export const CANONICAL_MAX_BYTES = 64 * 1024;

/** A value `canonicalize` accepts. */
export type CanonicalValue = null | boolean | number | string | CanonicalValue[] | { [key: string]: CanonicalValue };

// With the `u` flag a well-formed surrogate pair is one code point (not Cs), so this matches lone surrogates only.
const LONE_SURROGATE = /\p{Cs}/u;

function encodeString(s: string, where: string): string {
  if (LONE_SURROGATE.test(s)) throw invalid(`${where} contains a lone surrogate.`);
  return JSON.stringify(s);
}

function isPlainObject(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

class Encoder {
  private readonly out: string[] = [];
  // UTF-16 length so far. UTF-8 never takes fewer bytes than UTF-16 code units, so once this passes the byte
  // ceiling the document is too large and we stop before building an attacker-sized string.
  private units = 0;

  push(s: string): void {
    this.units += s.length;
    if (this.units > CANONICAL_MAX_BYTES) throw invalid(`Canonical JSON is larger than ${CANONICAL_MAX_BYTES} bytes.`);
    this.out.push(s);
  }

  value(v: unknown, depth: number, where: string): void {
    switch (typeof v) {
      case 'string':
        return this.push(encodeString(v, where));
      case 'boolean':
        return this.push(v ? 'true' : 'false');
      case 'number':
        if (!Number.isSafeInteger(v)) throw invalid(`${where} is not a safe integer.`);
        if (Object.is(v, -0)) throw invalid(`${where} is -0.`);
        return this.push(String(v));
      case 'object':
        if (v === null) return this.push('null');
        if (depth >= CANONICAL_MAX_DEPTH) throw invalid(`${where} is nested deeper than ${CANONICAL_MAX_DEPTH}.`);
        if (Array.isArray(v)) return this.array(v, depth + 1, where);
        if (!isPlainObject(v)) throw invalid(`${where} is not a plain object.`);
        return this.object(v as Record<string, unknown>, depth + 1, where);
      default:
        // undefined, function, symbol, bigint: JSON.stringify would drop or throw; we refuse to guess.
        throw invalid(`${where} has type ${typeof v}, which canonical JSON does not allow.`);
    }
  }

  private array(a: unknown[], depth: number, where: string): void {
    this.push('[');
    for (let i = 0; i < a.length; i++) {
      if (i > 0) this.push(',');
      if (!(i in a)) throw invalid(`${where}[${i}] is a hole in a sparse array.`);
      this.value(a[i], depth, `${where}[${i}]`);
    }
    this.push(']');
  }

  private object(o: Record<string, unknown>, depth: number, where: string): void {
    if (Object.getOwnPropertySymbols(o).length > 0) throw invalid(`${where} has symbol keys.`);
    // Default sort compares UTF-16 code units, which is exactly RFC 8785 §3.2.3.
    const keys = Object.keys(o).sort();
    this.push('{');
    keys.forEach((key, i) => {
      const desc = Object.getOwnPropertyDescriptor(o, key)!;
      // A getter could answer differently on each read, so what we hash would not be what we send.
      if (!('value' in desc)) throw invalid(`${where}.${key} is an accessor property.`);
      if (i > 0) this.push(',');
      this.push(encodeString(key, `${where} key`));
      this.push(':');
      this.value(desc.value, depth, `${where}.${key}`);
    });
    this.push('}');
  }

  finish(): string {
    return this.out.join('');
  }
}

function encode(value: unknown): { text: string; bytes: Uint8Array } {
  const enc = new Encoder();
  enc.value(value, 0, 'value');
  const text = enc.finish();
  const bytes = utf8Encode(text);
  if (bytes.length > CANONICAL_MAX_BYTES) throw invalid(`Canonical JSON is larger than ${CANONICAL_MAX_BYTES} bytes.`);
  return { text, bytes };
}

/**
 * Canonical JSON text of `value` (docs/protocol.md §1).
 * @throws ProtocolError `protocol_invalid` for any value outside the subset, deeper than 32 or over 64 KiB.
 * @example
 * ```ts
 * canonicalize({ b: 1, a: [true, null, 'é'] }) === '{"a":[true,null,"é"],"b":1}'
 * ```
 */
export function canonicalize(value: unknown): string {
  return encode(value).text;
}

/** UTF-8 bytes of `canonicalize(value)`: what gets hashed and signed. */
export function canonicalBytes(value: unknown): Uint8Array {
  return encode(value).bytes;
}

/**
 * Parses bytes that must already be canonical JSON: strict UTF-8, valid JSON, and re-encoding gives the very
 * same bytes. Anything with whitespace, unsorted or duplicate keys, escapes written differently, floats or
 * exponents is refused, so a signed document has one spelling only.
 * @throws ProtocolError `protocol_invalid`
 */
export function parseCanonical(bytes: Uint8Array): CanonicalValue {
  if (bytes.length > CANONICAL_MAX_BYTES) throw invalid(`Canonical JSON is larger than ${CANONICAL_MAX_BYTES} bytes.`);
  let value: unknown;
  let text: string;
  try {
    text = utf8Decode(bytes);
    value = JSON.parse(text);
  } catch (err) {
    throw invalid('Not valid UTF-8 JSON.', { cause: err });
  }
  if (canonicalize(value) !== text) throw invalid('JSON is not in canonical form.');
  return value as CanonicalValue;
}
