import { describe, expect, it } from 'vitest';
import { entropyToMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { fromHex, toHex } from '../../../lib/bytes';
import {
  decodeRecoveryWrap,
  encodeRecoveryWrap,
  openRecoveryWrap,
  sealRecoveryWrap,
} from '../../../lib/format/recovery-wrap';
import { createLocalVaultClient } from '../../../lib/web-vault/local-client';
import { generateRecoveryKit, recoveryEntropy, recoveryKek, splitRecoveryWords } from '../../../lib/vault/recovery-kit';
import { VaultDb } from '../../../lib/vault/db';
import vectors from '../../vectors/recovery-kit.json';
import { dumpDatabase, FAST_KDF, inProcessKdf, uniqueDbName } from './helpers';

const codeOf = async (p: Promise<unknown> | (() => unknown)): Promise<string | undefined> => {
  try {
    if (typeof p === 'function') p();
    else await p;
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

describe('recovery kit words and key', () => {
  it.each(vectors.words)('BIP39 reference vector $entropy ↔ words, and the kit key (node:crypto HKDF)', (v) => {
    expect(entropyToMnemonic(fromHex(v.entropy), wordlist)).toBe(v.words);
    const entropy = recoveryEntropy(v.words);
    expect(toHex(entropy)).toBe(v.entropy);
    expect(toHex(recoveryKek(entropy, fromHex(v.salt)))).toBe(v.kek);
  });

  it('accepts what people paste: numbering, newlines, commas, capitals', () => {
    const words = vectors.words[1]!.words.split(' ');
    const pasted = words.map((w, i) => `${i + 1}. ${i % 3 === 0 ? w.toUpperCase() : w}${i % 2 ? '\n' : ','}`).join(' ');
    const numbered = words.map((w, i) => `${i + 1}.${w}`).join('\n');
    expect(splitRecoveryWords(numbered)).toEqual(words);
    expect(toHex(recoveryEntropy(pasted))).toBe(vectors.words[1]!.entropy);
  });

  it('refuses a wrong count, an unknown word, a swapped pair (checksum) with typed errors that do not echo the words', async () => {
    const words = vectors.words[1]!.words.split(' ');
    expect(await codeOf(() => recoveryEntropy(words.slice(0, 23).join(' ')))).toBe('recovery_words_invalid');
    const typo = [...words];
    typo[4] = 'wavy';
    try {
      recoveryEntropy(typo.join(' '));
      throw new Error('accepted');
    } catch (err) {
      expect((err as Error).message).toBe('Word 5 is not a recovery kit word. Check its spelling.');
    }
    const swapped = [...words];
    [swapped[0], swapped[1]] = [swapped[1]!, swapped[0]!];
    try {
      recoveryEntropy(swapped.join(' '));
      throw new Error('accepted');
    } catch (err) {
      expect((err as { code: string }).code).toBe('recovery_words_invalid');
      expect((err as Error).message).not.toMatch(/legal|winner/);
    }
  });

  it('generates 24 valid words with 256 bits of fresh entropy each time', () => {
    const a = generateRecoveryKit();
    const b = generateRecoveryKit();
    expect(a.words).toHaveLength(24);
    expect(toHex(recoveryEntropy(a.words.join(' ')))).toBe(toHex(a.entropy));
    expect(toHex(a.entropy)).not.toBe(toHex(b.entropy));
    expect(toHex(a.salt)).not.toBe(toHex(b.salt));
  });
});

describe('CKRW recovery wrap', () => {
  const w = vectors.wrap;
  const sealed = () =>
    sealRecoveryWrap({
      vaultId: fromHex(w.vaultId),
      kitId: fromHex(w.kitId),
      createdAt: w.createdAt,
      salt: fromHex(w.salt),
      kek: fromHex(w.kek),
      vaultKey: fromHex(w.vaultKey),
      nonce: fromHex(w.nonce),
    });

  it('encodes fixed inputs to fixed bytes, decodes and re-encodes byte-exact, opens to the vault key', () => {
    expect(toHex(encodeRecoveryWrap(sealed()))).toBe(w.bytes);
    const parsed = decodeRecoveryWrap(fromHex(w.bytes));
    expect(parsed.createdAt).toBe(w.createdAt);
    expect(toHex(encodeRecoveryWrap(parsed))).toBe(w.bytes);
    expect(toHex(openRecoveryWrap(parsed, fromHex(w.kek)))).toBe(w.vaultKey);
  });

  it('every flipped byte before the ciphertext end fails to open or to parse; other versions and lengths are refused', () => {
    const bytes = fromHex(w.bytes);
    for (let i = 0; i < bytes.length; i++) {
      const bad = bytes.slice();
      bad[i]! ^= 0x01;
      let opened = false;
      try {
        opened = openRecoveryWrap(decodeRecoveryWrap(bad), fromHex(w.kek)).length === 32;
      } catch (err) {
        expect(['recovery_words_wrong', 'format_invalid', 'format_unsupported_version']).toContain(
          (err as { code: string }).code,
        );
      }
      expect(opened, `byte ${i}`).toBe(false);
    }
    expect(() => decodeRecoveryWrap(bytes.subarray(0, bytes.length - 1))).toThrow(
      expect.objectContaining({ code: 'format_invalid' }),
    );
    expect(() => decodeRecoveryWrap(new Uint8Array([...bytes, 0]))).toThrow(
      expect.objectContaining({ code: 'format_invalid' }),
    );
    const v2 = bytes.slice();
    v2[4] = 2;
    expect(() => decodeRecoveryWrap(v2)).toThrow(expect.objectContaining({ code: 'format_unsupported_version' }));
  });
});

describe('vault recovery (local client over IndexedDB)', () => {
  const setUp = async () => {
    const name = uniqueDbName();
    const vault = createLocalVaultClient(inProcessKdf, new VaultDb(name));
    await vault.create('old passphrase', FAST_KDF);
    const item = await vault.save({
      kind: 'secret',
      fields: {
        name: 'Stripe',
        value: 'sk_live_RECOVERY-TEST',
        notes: '',
        tags: [],
        expiresAt: null,
        allowedHosts: [],
      },
    });
    return { name, vault, item };
  };

  it('a kit made now opens the vault after the passphrase is forgotten and sets a new one; nothing secret is stored in the clear', async () => {
    const { name, vault, item } = await setUp();
    expect((await vault.status()).recoveryKitCreatedAt).toBeNull();
    const words = await vault.createRecoveryKit();
    expect(words).toHaveLength(24);
    expect((await vault.status()).recoveryKitCreatedAt).toEqual(expect.any(Number));
    await vault.checkRecoveryKit(words.join(' '));
    const stored = await dumpDatabase(name);
    for (const word of new Set(words)) expect(stored.includes(` ${word} `)).toBe(false);
    expect(stored).not.toContain(words.join(' '));

    await vault.lock();
    await vault.recoverWithKit(words.join('\n'), 'new passphrase');
    expect((await vault.status()).state).toBe('unlocked');
    expect((await vault.get(item.id)).fields).toMatchObject({ value: 'sk_live_RECOVERY-TEST' });
    await vault.lock();
    expect(await codeOf(vault.unlock('old passphrase'))).toBe('wrong_passphrase');
    await vault.unlock('new passphrase');
    expect((await vault.get(item.id)).fields).toMatchObject({ value: 'sk_live_RECOVERY-TEST' });
  });

  it('a regenerated kit invalidates the old words; wrong or missing kits are typed errors and change nothing', async () => {
    const { vault } = await setUp();
    expect(await codeOf(vault.checkRecoveryKit(vectors.words[0]!.words))).toBe('recovery_missing');
    const first = await vault.createRecoveryKit();
    const second = await vault.createRecoveryKit();
    expect(second.join(' ')).not.toBe(first.join(' '));
    expect(await codeOf(vault.checkRecoveryKit(first.join(' ')))).toBe('recovery_words_wrong');
    await vault.checkRecoveryKit(second.join(' '));
    await vault.lock();
    expect(await codeOf(vault.recoverWithKit(first.join(' '), 'other'))).toBe('recovery_words_wrong');
    expect(await codeOf(vault.recoverWithKit('not the words', 'other'))).toBe('recovery_words_invalid');
    // Nothing changed: the old passphrase still works.
    await vault.unlock('old passphrase');
  });
});
