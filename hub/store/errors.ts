/**
 * Typed errors of the hub's storage layer. Callers (routes) branch on `code`, never on the message; messages name
 * what failed but never carry a stored value (the store holds key material, hashes and ciphertext).
 */
export type StoreErrorCode =
  /** The row the operation needs does not exist. */
  | 'not_found'
  /** A unique key is taken: same id, same public key, same idempotency key... */
  | 'conflict'
  /** The row exists but is not in a state that allows the operation (e.g. deciding an intent twice). */
  | 'invalid_state'
  /** A foreign key points nowhere (installation for an unknown agent, ...). */
  | 'invalid_reference'
  /** A CHECK constraint refused a value (wrong key length, unknown status, invalid JSON). */
  | 'invalid_value'
  /** Another connection held the write lock for longer than busy_timeout. */
  | 'busy'
  /** The database was written by a newer hub; this one must not touch it. */
  | 'schema_too_new'
  /** A migration failed and was rolled back. */
  | 'migration_failed'
  /** Anything else SQLite reported (disk full, I/O error, corrupt file). */
  | 'storage_failed';

export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
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
  if (code === 'SQLITE_CONSTRAINT_CHECK' || code === 'SQLITE_CONSTRAINT_NOTNULL' || code === 'SQLITE_CONSTRAINT_DATATYPE') {
    return new StoreError('invalid_value', `${what}: a value was refused by the schema`, { cause: err });
  }
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED') {
    return new StoreError('busy', `${what}: the database is busy`, { cause: err });
  }
  return new StoreError('storage_failed', `${what}: storage failed`, { cause: err });
}
