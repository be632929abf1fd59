import { describe, expect, it } from 'vitest';
import { exactFields } from '../../../lib/protocol/fields';
import { ProtocolError } from '../../../lib/protocol/errors';

const KEYS = ['hub', 'time', 'account_id'];

function code(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (err) {
    return err instanceof ProtocolError ? err.code : 'other';
  }
}

describe('exactFields (the first check of every signed statement)', () => {
  it('accepts exactly the named keys in any order and returns the same object', () => {
    const value = { time: 1, account_id: 'a', hub: 'h' };
    expect(exactFields(value, KEYS, 'head')).toBe(value);
  });

  it('refuses non-objects, arrays and null with protocol_invalid naming what', () => {
    for (const bad of [null, undefined, 1, 'x', [], ['hub', 'time', 'account_id']]) {
      expect(code(() => exactFields(bad, KEYS, 'head'))).toBe('protocol_invalid');
    }
    expect(() => exactFields(null, KEYS, 'head')).toThrow(/head/);
  });

  it('refuses any extra or missing key (an extra field would be signed but never checked)', () => {
    // Exhaustive over every subset of the expected keys, with and without each kind of extra key.
    const extras = [[], ['__proto__x'], ['Hub'], ['hub ', 'x']];
    for (let mask = 0; mask < 1 << KEYS.length; mask++) {
      const kept = KEYS.filter((_, i) => mask & (1 << i));
      for (const extra of extras) {
        const value = Object.fromEntries([...kept, ...extra].map((k) => [k, 1]));
        const exact = kept.length === KEYS.length && extra.length === 0;
        expect(
          code(() => exactFields(value, KEYS, 'head')),
          JSON.stringify(Object.keys(value)),
        ).toBe(exact ? undefined : 'protocol_invalid');
      }
    }
  });
});
