import { entropyToMnemonic, mnemonicToEntropy } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes, utf8Encode } from '../bytes';
import { ClawkeepError } from '../errors';
import { RECOVERY_SALT_LENGTH } from '../format/recovery-wrap';

/**
 * The recovery kit: 24 BIP39 English words encoding 256 random bits plus an 8-bit checksum (so a mistyped or
 * swapped word is caught on entry, before any key is tried). The words are generated and turned into a key in the
 * page, like the passphrase: the background only ever sees the derived key. 256 bits need no slow KDF; HKDF with
 * a per-kit salt and a domain label makes the key specific to this use.
 */
export const RECOVERY_WORD_COUNT = 24;
const ENTROPY_LENGTH = 32;
const INFO = utf8Encode('clawkeep/v1/recovery-kek');
const WORDS = new Set(wordlist);

const invalid = (message: string) => new ClawkeepError('recovery_words_invalid', message);

/** Fresh words and the salt of a new kit. The caller wipes `entropy` once it derived the key. */
export function generateRecoveryKit(): { words: string[]; entropy: Uint8Array; salt: Uint8Array } {
  const entropy = randomBytes(ENTROPY_LENGTH);
  return { words: entropyToMnemonic(entropy, wordlist).split(' '), entropy, salt: randomBytes(RECOVERY_SALT_LENGTH) };
}

/** Splits what a person typed or pasted (spaces, newlines, commas, numbering like "1." or "12)") into words. */
export function splitRecoveryWords(text: string): string[] {
  return text
    .normalize('NFKD')
    .toLowerCase()
    .split(/[\s,;]+/)
    .map((w) => w.replace(/^\d+[.):]?$/, '').replace(/^\d+[.):]/, ''))
    .filter((w) => w.length > 0);
}

/**
 * The entropy behind the words, after checking count, spelling and checksum.
 * @throws ClawkeepError `recovery_words_invalid` naming what is wrong (never echoing more than the one bad word).
 */
export function recoveryEntropy(text: string): Uint8Array {
  const words = splitRecoveryWords(text);
  if (words.length !== RECOVERY_WORD_COUNT)
    throw invalid(`A recovery kit has ${RECOVERY_WORD_COUNT} words; you entered ${words.length}.`);
  const unknown = words.findIndex((w) => !WORDS.has(w));
  if (unknown >= 0) throw invalid(`Word ${unknown + 1} is not a recovery kit word. Check its spelling.`);
  try {
    return mnemonicToEntropy(words.join(' '), wordlist);
  } catch {
    throw invalid('The words do not add up (checksum mismatch): one is wrong or two are swapped.');
  }
}

/** The key that wraps the vault key for this kit. */
export function recoveryKek(entropy: Uint8Array, salt: Uint8Array): Uint8Array {
  if (entropy.length !== ENTROPY_LENGTH || salt.length !== RECOVERY_SALT_LENGTH)
    throw new RangeError('invalid recovery entropy or salt');
  return hkdf(sha256, entropy, salt, INFO, 32);
}
