// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8Decode } from '../../../lib/bytes';
import type { KdfParams } from '../../../lib/crypto/kdf-params';
import { decodeBackupFile, openBackupFile, sealBackupFile } from '../../../lib/format/backup-file';
import { openItem, sealItem } from '../../../lib/format/item-envelope';
import {
  decodeVaultHeader,
  encodeVaultHeader,
  openVaultHeader,
  sealVaultHeader,
} from '../../../lib/format/vault-header';
import backupVectors from '../../vectors/backup-file.json';
import itemVectors from '../../vectors/item-envelope.json';
import headerVectors from '../../vectors/vault-header.json';

const expectCode = (fn: () => unknown, code: string) => {
  try {
    fn();
  } catch (err) {
    expect((err as { code?: string }).code).toBe(code);
    return;
  }
  throw new Error(`expected a ${code} error`);
};

describe('CKVH vault header', () => {
  it.each(headerVectors.vectors)(
    'encodes fixed inputs to fixed bytes and re-encodes byte-exact ($kdf.algorithm)',
    (v) => {
      const sealed = sealVaultHeader({
        vaultId: fromHex(v.vaultId),
        kdf: v.kdf as KdfParams,
        salt: fromHex(v.salt),
        kek: fromHex(v.kek),
        vaultKey: fromHex(v.vaultKey),
        nonce: fromHex(v.nonce),
      });
      expect(toHex(encodeVaultHeader(sealed))).toBe(v.bytes);
      const parsed = decodeVaultHeader(fromHex(v.bytes));
      expect(parsed.kdf).toEqual(v.kdf);
      expect(toHex(encodeVaultHeader(parsed))).toBe(v.bytes);
      expect(toHex(openVaultHeader(parsed, fromHex(v.kek)))).toBe(v.vaultKey);
    },
  );

  const v = headerVectors.vectors[0]!;
  const bytes = fromHex(v.bytes);

  it('wrong KEK -> wrong_passphrase', () => {
    expectCode(() => openVaultHeader(decodeVaultHeader(bytes), new Uint8Array(32)), 'wrong_passphrase');
  });

  it('rejects a wrong tag, an unknown version, truncation and trailing bytes', () => {
    const badTag = bytes.slice();
    badTag[0] = 0x58;
    expectCode(() => decodeVaultHeader(badTag), 'format_invalid');
    const badVersion = bytes.slice();
    badVersion[4] = 2;
    expectCode(() => decodeVaultHeader(badVersion), 'format_unsupported_version');
    for (const n of [0, 3, 5, 30, bytes.length - 1])
      expectCode(() => decodeVaultHeader(bytes.subarray(0, n)), 'format_invalid');
    expectCode(() => decodeVaultHeader(Uint8Array.of(...bytes, 0)), 'format_invalid');
  });

  it('refuses a downgraded KDF before any work, and a tampered salt fails the unwrap', () => {
    const downgraded = bytes.slice();
    // memoryKiB sits at offset 4+1+16+1 = 22 (u32 BE): 65536 -> 1024.
    downgraded.set([0, 0, 4, 0], 22);
    expectCode(() => decodeVaultHeader(downgraded), 'kdf_params_out_of_range');
    const saltOffset = 22 + 4 + 4 + 1 + 1;
    const tampered = bytes.slice();
    tampered[saltOffset]! ^= 1;
    expectCode(() => openVaultHeader(decodeVaultHeader(tampered), fromHex(v.kek)), 'wrong_passphrase');
  });
});

describe('CKIE item envelope', () => {
  it.each(itemVectors.vectors)('fixed bytes for $kind', (v) => {
    const ctx = { vaultId: fromHex(v.vaultId), id: v.id, kind: v.kind as 'secret' | 'agentConfig' };
    expect(toHex(sealItem(fromHex(v.vaultKey), ctx, fromHex(v.plaintext), fromHex(v.nonce)))).toBe(v.bytes);
    expect(toHex(openItem(fromHex(v.vaultKey), ctx, fromHex(v.bytes)))).toBe(v.plaintext);
  });

  it('cannot be moved to another id, kind or vault', () => {
    const v = itemVectors.vectors[0]!;
    const key = fromHex(v.vaultKey);
    const blob = fromHex(v.bytes);
    const vaultId = fromHex(v.vaultId);
    expectCode(
      () => openItem(key, { vaultId, id: itemVectors.vectors[1]!.id, kind: 'secret' }, blob),
      'decrypt_failed',
    );
    expectCode(() => openItem(key, { vaultId, id: v.id, kind: 'agentConfig' }, blob), 'decrypt_failed');
    expectCode(() => openItem(key, { vaultId: new Uint8Array(16), id: v.id, kind: 'secret' }, blob), 'decrypt_failed');
    const badVersion = blob.slice();
    badVersion[4] = 9;
    expectCode(() => openItem(key, { vaultId, id: v.id, kind: 'secret' }, badVersion), 'format_unsupported_version');
  });
});

describe('CKBK backup file', () => {
  const v = backupVectors.vectors[0]!;
  it('fixed bytes, parse, open', () => {
    const bytes = sealBackupFile({
      kdf: v.kdf as KdfParams,
      salt: fromHex(v.salt),
      kek: fromHex(v.kek),
      plaintext: fromHex(v.plaintext),
      nonce: fromHex(v.nonce),
    });
    expect(toHex(bytes)).toBe(v.bytes);
    const parsed = decodeBackupFile(bytes);
    expect(parsed.kdf).toEqual(v.kdf);
    expect(utf8Decode(openBackupFile(parsed, fromHex(v.kek)))).toContain('clawkeep-backup-items');
  });

  it('wrong passphrase key -> wrong_passphrase; not a backup -> format error', () => {
    expectCode(() => openBackupFile(decodeBackupFile(fromHex(v.bytes)), new Uint8Array(32)), 'wrong_passphrase');
    expectCode(() => decodeBackupFile(fromHex(headerVectors.vectors[0]!.bytes)), 'format_invalid');
    expectCode(() => decodeBackupFile(new Uint8Array(0)), 'format_invalid');
  });
});
