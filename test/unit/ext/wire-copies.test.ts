import { describe, expect, it } from 'vitest';
import { decodeWire, encodeWire } from '../../../lib/ext/rpc/wire';

// The wire codec copies only what holds bytes (lib/ext/rpc/wire.ts): a 10,000-item list crosses without 20,000
// object copies on each side, and everything that does hold bytes still round-trips.
describe('service wire codec: copies only what holds bytes', () => {
  const list = Array.from({ length: 1000 }, (_, i) => ({ id: `id-${i}`, name: `Item ${i}`, tags: ['a', 'b'] }));

  it('returns a value without bytes as it is, both ways', () => {
    expect(encodeWire(list)).toBe(list);
    expect(decodeWire(list)).toBe(list);
    const wire = JSON.parse(JSON.stringify(encodeWire(list))) as unknown;
    expect(decodeWire(wire)).toBe(wire);
    expect(wire).toEqual(list);
  });

  it('copies the path to bytes and leaves the caller’s value and its siblings untouched', () => {
    const sibling = { n: 1 };
    const value = { a: sibling, b: [{ key: Uint8Array.of(1, 2, 3) }], c: 'x' };
    const encoded = encodeWire(value) as typeof value;
    expect(encoded).not.toBe(value);
    expect(encoded.a).toBe(sibling);
    expect(value.b[0]!.key).toBeInstanceOf(Uint8Array);
    expect(encoded.b[0]!.key).toEqual({ $bytes: 'AQID' });
    const decoded = decodeWire(JSON.parse(JSON.stringify(encoded))) as typeof value;
    expect(decoded).toEqual(value);
    expect(Object.keys(decoded)).toEqual(['a', 'b', 'c']);
  });

  it('a `__proto__` key from the other side stays a plain key, also next to bytes', () => {
    const wire = JSON.parse('{"__proto__": {"$bytes": "AQID"}, "x": {"polluted": true}}') as Record<string, unknown>;
    const decoded = decodeWire(wire) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value).toEqual(Uint8Array.of(1, 2, 3));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('bad base64 is refused with a typed error, wherever it is', () => {
    expect(() => decodeWire([{ k: { $bytes: 'not base64!' } }])).toThrow(
      expect.objectContaining({ code: 'rpc_invalid_args' }),
    );
  });
});
