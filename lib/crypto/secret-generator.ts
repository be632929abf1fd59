import { wordlist } from '@scure/bip39/wordlists/english.js';

/**
 * Random secrets for the secret editor's generator (issue 15): characters from chosen sets, or words.
 *
 * Every choice is uniform: {@link randomBelow} draws 32-bit values from `crypto.getRandomValues` and rejects the
 * top slice that would make `value % n` favour small indices (no modulo bias). Words come from BIP-39's English
 * list, already shipped for the recovery kit: 2048 words, picked so that no word is a prefix of another's first
 * four letters and none is easily confused, so a generated passphrase is easy to read back and type.
 */

/** Fills a buffer with random 32-bit values; `crypto.getRandomValues` unless a test injects another. */
export type RandomSource = (buffer: Uint32Array) => void;

const cryptoSource: RandomSource = (buffer) => {
  crypto.getRandomValues(buffer);
};

const TWO_32 = 2 ** 32;

/** A uniform integer in [0, n), n between 1 and 2^32; values at or above the largest multiple of n are redrawn. */
export function randomBelow(n: number, source: RandomSource = cryptoSource): number {
  if (!Number.isInteger(n) || n < 1 || n > TWO_32)
    throw new RangeError('randomBelow: n must be an integer in [1, 2^32]');
  const limit = TWO_32 - (TWO_32 % n);
  const buffer = new Uint32Array(1);
  try {
    for (;;) {
      source(buffer);
      const value = buffer[0]!;
      if (value < limit) return value % n;
    }
  } finally {
    buffer.fill(0);
  }
}

/** The character sets offered. Symbols leave out quotes, backslash, `$`, `#` and space: the value often ends up in a shell or a .env file. */
export const CHARACTER_SETS = {
  lower: 'abcdefghijklmnopqrstuvwxyz',
  upper: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  digits: '0123456789',
  symbols: '!%&*+-./:=?@^_~',
} as const;

export type CharacterSet = keyof typeof CHARACTER_SETS;

export const PASSWORD_LENGTH = { min: 8, max: 128, default: 24 } as const;
export const PASSPHRASE_WORDS = { min: 4, max: 24, default: 6 } as const;

export interface PasswordOptions {
  length: number;
  sets: readonly CharacterSet[];
}

export interface PassphraseOptions {
  words: number;
  separator: string;
}

function checkRange(what: string, value: number, range: { min: number; max: number }): void {
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new RangeError(`${what} must be a whole number from ${range.min} to ${range.max}`);
  }
}

/** The alphabet of the chosen sets, each set once, in a fixed order. */
export function alphabetOf(sets: readonly CharacterSet[]): string {
  return (Object.keys(CHARACTER_SETS) as CharacterSet[])
    .filter((s) => sets.includes(s))
    .map((s) => CHARACTER_SETS[s])
    .join('');
}

/**
 * A password of `length` characters drawn uniformly from the chosen sets, containing at least one character of
 * each set. A draw missing a set is thrown away whole (not patched), so every valid password stays equally likely.
 */
export function generatePassword(options: PasswordOptions, source: RandomSource = cryptoSource): string {
  checkRange('The length', options.length, PASSWORD_LENGTH);
  const sets = [...new Set(options.sets)];
  if (sets.length === 0) throw new RangeError('Choose at least one character set');
  const alphabet = alphabetOf(sets);
  for (;;) {
    let out = '';
    for (let i = 0; i < options.length; i++) out += alphabet[randomBelow(alphabet.length, source)];
    if (sets.every((s) => [...CHARACTER_SETS[s]].some((c) => out.includes(c)))) return out;
  }
}

/** `words` words from the BIP-39 English list joined by `separator`. */
export function generatePassphrase(options: PassphraseOptions, source: RandomSource = cryptoSource): string {
  checkRange('The number of words', options.words, PASSPHRASE_WORDS);
  const words: string[] = [];
  for (let i = 0; i < options.words; i++) words.push(wordlist[randomBelow(wordlist.length, source)]!);
  return words.join(options.separator);
}

/** Bits of entropy of a generated password (an upper bound: the at-least-one-of-each rule removes a little). */
export function passwordEntropyBits(options: PasswordOptions): number {
  return options.length * Math.log2(alphabetOf(options.sets).length || 1);
}

/** Bits of entropy of a generated passphrase: 11 per word (2048 words). */
export function passphraseEntropyBits(options: Pick<PassphraseOptions, 'words'>): number {
  return options.words * Math.log2(wordlist.length);
}

export type EntropyRating = 'Weak' | 'Fair' | 'Good' | 'Strong';

/**
 * How strong `bits` of real randomness are against offline guessing: under 50 bits is within reach of a large
 * cracking rig; 80 bits and more is out of reach; API tokens are usually 128 bits or more.
 */
export function rateEntropy(bits: number): EntropyRating {
  if (bits < 50) return 'Weak';
  if (bits < 64) return 'Fair';
  if (bits < 80) return 'Good';
  return 'Strong';
}
