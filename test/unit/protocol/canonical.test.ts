// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8Encode } from '../../../lib/bytes';
import { CANONICAL_MAX_BYTES, canonicalBytes, canonicalize, parseCanonical } from '../../../lib/protocol/canonical';
import vectors from '../../vectors/protocol-canonical.json';
import { expectCode } from './helpers';

describe('canonical JSON', () => {
  it.each(vectors.vectors)('$name', (v) => {
    expect(canonicalize(JSON.parse(v.json))).toBe(v.canonical);
    expect(toHex(canonicalBytes(JSON.parse(v.json)))).toBe(v.bytes);
    // Canonical text parses back and re-encodes byte-exact.
    expect(toHex(canonicalBytes(parseCanonical(fromHex(v.bytes))))).toBe(v.bytes);
  });

  it.each(vectors.rejectedJson)('rejects %s', (json) =>
    expectCode(() => canonicalize(JSON.parse(json)), 'protocol_invalid'),
  );

  it.each(vectors.notCanonicalText)('parseCanonical refuses non-canonical text %s', (text) =>
    expectCode(() => parseCanonical(utf8Encode(text)), 'protocol_invalid'),
  );

  it('parseCanonical refuses invalid UTF-8 and invalid JSON', async () => {
    await expectCode(() => parseCanonical(Uint8Array.of(0x5b, 0x22, 0xff, 0x22, 0x5d)), 'protocol_invalid');
    await expectCode(() => parseCanonical(utf8Encode('{')), 'protocol_invalid');
  });

  it('rejects values JSON.stringify would drop or convert', async () => {
    const bad: unknown[] = [
      undefined,
      () => 1,
      Symbol('s'),
      1n,
      NaN,
      Infinity,
      -Infinity,
      -0,
      0.5,
      2 ** 53,
      new Date(0),
      new Map(),
      new Uint8Array(1),
      new (class Thing {})(),
      [undefined],
      { a: undefined },
      // eslint-disable-next-line no-sparse-arrays
      [1, , 2],
      { [Symbol('k')]: 1 },
      'lone \ud800 high',
      'lone \udc00 low',
      { 'key \udfff': 1 },
      Object.defineProperty({}, 'g', { get: () => 1, enumerable: true }),
    ];
    for (const value of bad) await expectCode(() => canonicalize(value), 'protocol_invalid');
  });

  it('accepts exactly 32 levels of nesting and refuses 33', async () => {
    const nest = (n: number): unknown => (n === 0 ? 1 : [nest(n - 1)]);
    expect(canonicalize(nest(32))).toBe('['.repeat(32) + '1' + ']'.repeat(32));
    await expectCode(() => canonicalize(nest(33)), 'protocol_invalid');
  });

  it('caps the encoded size at 64 KiB in UTF-8 bytes, not characters', async () => {
    const fits = 'a'.repeat(CANONICAL_MAX_BYTES - 2);
    expect(canonicalBytes(fits).length).toBe(CANONICAL_MAX_BYTES);
    await expectCode(() => canonicalize(fits + 'a'), 'protocol_invalid');
    // 3 bytes per character in UTF-8: fewer characters than the limit, more bytes.
    await expectCode(() => canonicalize('€'.repeat(CANONICAL_MAX_BYTES / 2)), 'protocol_invalid');
  });

  it('keeps null-prototype objects and a literal __proto__ key', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.b = 1;
    o.a = null;
    expect(canonicalize(o)).toBe('{"a":null,"b":1}');
    expect(canonicalize(JSON.parse('{"__proto__":1}'))).toBe('{"__proto__":1}');
  });

  it("agrees with JSON.stringify on sorted input (escapes are exactly JSON.stringify's)", () => {
    const s = Array.from({ length: 0x80 }, (_, i) => String.fromCharCode(i)).join('') + '\u2028\u2029😀';
    expect(canonicalize({ s })).toBe(JSON.stringify({ s }));
  });
});
