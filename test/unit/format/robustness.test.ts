// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../../lib/bytes';
import { ClawkeepError } from '../../../lib/errors';
import { decodeBackupFile, openBackupFile } from '../../../lib/format/backup-file';
import { openItem } from '../../../lib/format/item-envelope';
import { decodeVaultHeader, openVaultHeader } from '../../../lib/format/vault-header';
import { toStorageError } from '../../../lib/vault/storage-errors';
import backupVectors from '../../vectors/backup-file.json';
import itemVectors from '../../vectors/item-envelope.json';
import headerVectors from '../../vectors/vault-header.json';

/** Deterministic PRNG so a failure reproduces. */
function prng(seed: number) {
  return () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
}

function mutate(bytes: Uint8Array, rand: () => number): Uint8Array {
  const kind = rand();
  if (kind < 0.3) return bytes.subarray(0, Math.floor(rand() * bytes.length));
  if (kind < 0.4)
    return Uint8Array.from([
      ...bytes,
      ...Array.from({ length: 1 + Math.floor(rand() * 8) }, () => Math.floor(rand() * 256)),
    ]);
  const out = bytes.slice();
  const flips = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < flips; i++) out[Math.floor(rand() * out.length)] = Math.floor(rand() * 256);
  return out;
}

/** Only our typed errors may escape a parser or an open; anything else (TypeError, RangeError...) is a bug. */
function onlyTypedErrors(fn: () => unknown): 'ok' | string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(ClawkeepError);
    return (err as ClawkeepError).code;
  }
}

describe('codecs under hostile input', () => {
  const rand = prng(20261123);
  const header = headerVectors.vectors[0]!;
  const item = itemVectors.vectors[0]!;
  const backup = backupVectors.vectors[0]!;

  it('2,000 mutated vault headers: typed errors only, never a successful unwrap', () => {
    for (let i = 0; i < 2000; i++) {
      const bytes = mutate(fromHex(header.bytes), rand);
      const result = onlyTypedErrors(() => openVaultHeader(decodeVaultHeader(bytes), fromHex(header.kek)));
      if (result === 'ok') expect(bytes).toEqual(fromHex(header.bytes));
    }
  });

  it('2,000 mutated item envelopes and backups: typed errors only', () => {
    const ctx = { vaultId: fromHex(item.vaultId), id: item.id, kind: item.kind as 'secret' };
    for (let i = 0; i < 2000; i++) {
      const env = mutate(fromHex(item.bytes), rand);
      if (onlyTypedErrors(() => openItem(fromHex(item.vaultKey), ctx, env)) === 'ok')
        expect(env).toEqual(fromHex(item.bytes));
      const file = mutate(fromHex(backup.bytes), rand);
      if (onlyTypedErrors(() => openBackupFile(decodeBackupFile(file), fromHex(backup.kek))) === 'ok')
        expect(file).toEqual(fromHex(backup.bytes));
    }
  });

  it('maps IndexedDB / Dexie failures onto our codes without their messages', () => {
    expect(toStorageError({ name: 'QuotaExceededError', message: 'raw' })).toMatchObject({ code: 'storage_full' });
    expect(toStorageError({ name: 'AbortError', inner: { name: 'QuotaExceededError' } })).toMatchObject({
      code: 'storage_full',
    });
    expect(toStorageError({ name: 'ConstraintError' })).toMatchObject({ code: 'storage_conflict' });
    const other = toStorageError(new Error('disk said something with a secret in it'));
    expect(other).toMatchObject({ code: 'storage_failed' });
    expect(other.message).not.toContain('secret');
  });
});
