import { ClawkeepError, StorageError } from '../errors';

/** Maps Dexie / IndexedDB error names onto our codes so callers never branch on Dexie's names. */
export function toStorageError(err: unknown): ClawkeepError {
  if (err instanceof ClawkeepError) return err;
  const name = (err as { name?: string } | null)?.name ?? '';
  const inner = (err as { inner?: { name?: string } } | null)?.inner?.name ?? '';
  if (name === 'QuotaExceededError' || inner === 'QuotaExceededError') {
    return new StorageError('storage_full', 'The browser has no room left for the vault. Free some disk space.', {
      cause: err,
    });
  }
  if (name === 'ConstraintError' || inner === 'ConstraintError') {
    return new StorageError('storage_conflict', 'The vault changed while saving. Reload and try again.', {
      cause: err,
    });
  }
  return new StorageError('storage_failed', 'The vault storage failed; nothing was changed.', { cause: err });
}

/** Runs a storage operation and rethrows any failure as a typed error. */
export async function guardStorage<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    throw toStorageError(err);
  }
}
