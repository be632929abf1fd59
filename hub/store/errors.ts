import { ClawkeepError, type StoreErrorCode } from '../../lib/errors';

export type { StoreErrorCode };

/**
 * Typed errors of the hub's storage layer. Callers (routes) branch on `code`, never on the message; messages name
 * what failed but never carry a stored value (the store holds key material, hashes and ciphertext). The codes
 * (`StoreErrorCode`) are documented in lib/errors.ts, which lists every family's codes (lib/ may not import hub/).
 */
export class StoreError extends ClawkeepError {
  declare readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'StoreError';
  }
}

/**
 * Maps a better-sqlite3 `SqliteError` (its `code` is the extended result code name, e.g.
 * `SQLITE_CONSTRAINT_UNIQUE`) to a StoreError. `what` says which operation failed, for the message.
 */
export function toStoreError(err: unknown, what: string): StoreError {
  if (err instanceof StoreError) return err;
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : '';
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new StoreError('conflict', `${what}: already exists`, { cause: err });
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return new StoreError('invalid_reference', `${what}: refers to a row that does not exist`, { cause: err });
  }
  if (
    code === 'SQLITE_CONSTRAINT_CHECK' ||
    code === 'SQLITE_CONSTRAINT_NOTNULL' ||
    code === 'SQLITE_CONSTRAINT_DATATYPE'
  ) {
    return new StoreError('invalid_value', `${what}: a value was refused by the schema`, { cause: err });
  }
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED') {
    return new StoreError('busy', `${what}: the database is busy`, { cause: err });
  }
  return new StoreError('storage_failed', `${what}: storage failed`, { cause: err });
}
