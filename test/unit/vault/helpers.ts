import { randomBytes, utf8Encode } from '../../../lib/bytes';
import { deriveKey } from '../../../lib/crypto/kdf';
import type { KdfParams } from '../../../lib/crypto/kdf-params';
import type { KdfRunner } from '../../../lib/crypto/kdf-runner';
import { VaultDb } from '../../../lib/vault/db';
import { VaultService } from '../../../lib/vault/vault-service';

/** The cheapest parameters the floors allow, so tests exercise the real KDF quickly. */
export const FAST_KDF: KdfParams = { algorithm: 'pbkdf2-sha256', iterations: 600_000 };

/** Runs the real KDF in-process (no Worker in Node). */
export const inProcessKdf: KdfRunner = { derive: (passphrase, salt, params) => deriveKey(passphrase, salt, params) };

export async function kekFor(passphrase: string, salt: Uint8Array, kdf: KdfParams = FAST_KDF): Promise<Uint8Array> {
  return deriveKey(utf8Encode(passphrase), salt, kdf);
}

let counter = 0;
export const uniqueDbName = () => `clawkeep-test-${Date.now()}-${counter++}`;

/** A new vault in a fresh database, created with `passphrase` and FAST_KDF, unlocked; `now` is its clock. */
export async function createdVault(
  passphrase: string,
  now: () => number,
): Promise<{ name: string; service: VaultService; salt: Uint8Array }> {
  const name = uniqueDbName();
  const service = new VaultService(new VaultDb(name), now);
  const salt = randomBytes(16);
  await service.create({ kdf: FAST_KDF, salt, kek: await kekFor(passphrase, salt) });
  return { name, service, salt };
}

/** Every byte of every record in an IndexedDB database, as latin1 text plus the raw values, for leak scans. */
export async function dumpDatabase(name: string): Promise<string> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(name);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  const chunks: string[] = [];
  for (const store of Array.from(db.objectStoreNames)) {
    const rows = await new Promise<unknown[]>((resolve, reject) => {
      const req = db.transaction(store).objectStore(store).getAll();
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    for (const row of rows) {
      chunks.push(JSON.stringify(row, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v)));
    }
  }
  db.close();
  return chunks.join('\n');
}
