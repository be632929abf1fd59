import fc from 'fast-check';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { describe, expect, it } from 'vitest';
import {
  alphabetOf,
  CHARACTER_SETS,
  generatePassphrase,
  generatePassword,
  PASSWORD_LENGTH,
  passphraseEntropyBits,
  passwordEntropyBits,
  randomBelow,
  rateEntropy,
  type CharacterSet,
  type RandomSource,
} from '../../../lib/crypto/secret-generator';

const ALL_SETS = Object.keys(CHARACTER_SETS) as CharacterSet[];
const setsArb = fc.subarray(ALL_SETS, { minLength: 1 });

/** A source that replays the given 32-bit values, then fails the test if more are asked for. */
function replay(values: number[]): RandomSource & { used: () => number } {
  let i = 0;
  const source = (buffer: Uint32Array) => {
    if (i >= values.length) throw new Error('source exhausted');
    buffer[0] = values[i++]!;
  };
  return Object.assign(source, { used: () => i });
}

/** Pearson's chi-square statistic of observed counts against a uniform expectation. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

describe('randomBelow (rejection sampling)', () => {
  it('redraws the values that would bias value % n towards small results', () => {
    // n = 3: 2^32 % 3 = 1, so exactly one value (2^32 - 1) is rejected; with n = 5 it is 2^32 - 1 too (2^32 % 5 = 1).
    const three = replay([0xffffffff, 0xffffffff, 7]);
    expect(randomBelow(3, three)).toBe(7 % 3);
    expect(three.used()).toBe(3);
    // n = 10: 2^32 % 10 = 6, so the six values from 2^32 - 6 up are redrawn and 2^32 - 7 is kept.
    const ten = replay([0xfffffffa, 0xffffffff, 0xfffffff9]);
    expect(randomBelow(10, ten)).toBe(0xfffffff9 % 10);
    expect(ten.used()).toBe(3);
  });

  it('never redraws when n divides 2^32', () => {
    const src = replay([0xffffffff]);
    expect(randomBelow(2048, src)).toBe(2047);
    expect(src.used()).toBe(1);
  });

  it('stays in [0, n) for any n and any source value (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 32 }),
        fc.array(fc.nat({ max: 0xffffffff }), { minLength: 64, maxLength: 64 }),
        (n, values) => {
          // Only values below the limit are returned; make sure the sequence has one.
          const src = replay([...values, 0]);
          const r = randomBelow(n, src);
          return Number.isInteger(r) && r >= 0 && r < n;
        },
      ),
    );
  });

  it('refuses a range it cannot draw from', () => {
    for (const bad of [0, -1, 1.5, 2 ** 32 + 1, Number.NaN]) expect(() => randomBelow(bad)).toThrow(RangeError);
  });

  it('is not measurably biased on a small alphabet (chi-square, p < 1e-6 bound)', () => {
    // 3 outcomes, 30 000 draws from crypto.getRandomValues: df = 2, the 1e-6 critical value is 27.6.
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[randomBelow(3)]!++;
    expect(chiSquare(counts)).toBeLessThan(27.6);
  });
});

describe('generatePassword', () => {
  it('has the asked length, only characters of the chosen sets, and one of each (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: PASSWORD_LENGTH.min, max: 64 }), setsArb, (length, sets) => {
        const pw = generatePassword({ length, sets });
        const alphabet = alphabetOf(sets);
        expect(pw).toHaveLength(length);
        for (const c of pw) expect(alphabet).toContain(c);
        for (const s of sets) expect([...CHARACTER_SETS[s]].some((c) => pw.includes(c))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('uses every digit equally often (chi-square over 10 symbols, p < 1e-6 bound)', () => {
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 400; i++)
      for (const c of generatePassword({ length: 100, sets: ['digits'] })) counts[Number(c)]!++;
    // df = 9: the 1e-6 critical value is 46.0.
    expect(chiSquare(counts)).toBeLessThan(46);
  });

  it('refuses lengths out of range and an empty choice of sets', () => {
    expect(() => generatePassword({ length: PASSWORD_LENGTH.min - 1, sets: ['lower'] })).toThrow(RangeError);
    expect(() => generatePassword({ length: PASSWORD_LENGTH.max + 1, sets: ['lower'] })).toThrow(RangeError);
    expect(() => generatePassword({ length: 20, sets: [] })).toThrow(RangeError);
  });
});

describe('generatePassphrase', () => {
  it('joins the asked number of BIP-39 English words (property)', () => {
    const words = new Set(wordlist);
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 24 }), fc.constantFrom('-', ' ', '.', '_'), (count, separator) => {
        const parts = generatePassphrase({ words: count, separator }).split(separator);
        expect(parts).toHaveLength(count);
        for (const w of parts) expect(words.has(w)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});

describe('strength of what is generated', () => {
  it('counts bits from the alphabet size and the list size', () => {
    expect(passwordEntropyBits({ length: 10, sets: ['digits'] })).toBeCloseTo(10 * Math.log2(10));
    expect(passphraseEntropyBits({ words: 6 })).toBe(66);
    expect(rateEntropy(passwordEntropyBits({ length: 8, sets: ['digits'] }))).toBe('Weak');
    expect(rateEntropy(passwordEntropyBits({ length: 24, sets: ['lower', 'upper', 'digits', 'symbols'] }))).toBe(
      'Strong',
    );
  });
});
