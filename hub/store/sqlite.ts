import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { HubStore } from './port';
import { StoreError, toStoreError } from './errors';
import { MIGRATIONS, migrate, schemaVersion, type Migration } from './migrations';
import { Sql } from './sqlite-util';
import { SqliteAccounts, SqliteEnrollment } from './sqlite-people';
import { SqliteAgents, SqliteInstallations } from './sqlite-agents';
import { SqliteIntents, SqliteSealedSecrets } from './sqlite-intents';
import { SqliteAudit, SqliteNonces } from './sqlite-log';
import { SqliteAgentConfigs } from './sqlite-configs';
import { SqliteDevices, SqlitePairings } from './sqlite-devices';
import { SqliteVault } from './sqlite-vault';
import { SqliteWatchTokens } from './sqlite-watch';

/** The database file inside the hub's data directory. */
export const DB_FILE = 'hub.sqlite';

/** How long a writer waits for another connection's lock before failing with `busy`. */
const BUSY_TIMEOUT_MS = 5000;

export interface SqliteStoreOptions {
  /** Path of the database file, or ':memory:' (tests). */
  file: string;
  /**
   * Open read-only and do not migrate (for `clawkeep audit verify`, which must not change what it checks).
   * The schema must then be exactly the version this hub knows.
   */
  readonly?: boolean;
  /** For tests of future migrations; defaults to the shipped list. */
  migrations?: readonly Migration[];
}

/** `dataDir`/hub.sqlite; creates the directory owner-only (0700) if missing. */
export function dbFileIn(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return path.join(dataDir, DB_FILE);
}

/**
 * Opens (creating if needed) the hub's SQLite store and brings its schema up to date.
 *
 * Pragmas, and why:
 * - journal_mode=WAL: readers (audit verify, GETs) do not block the writer.
 * - synchronous=FULL: in WAL mode NORMAL may lose the last commits on power loss; FULL fsyncs the WAL on every
 *   commit, so a write the hub has acknowledged to a client survives a crash. Measured cost: see the report.
 * - foreign_keys=ON: SQLite leaves them off by default, per connection.
 * - secure_delete=ON: deleted content is zeroed, so a purged payload is gone from the file (issue 13 item 13).
 * - busy_timeout: a second process (audit verify, a CLI) waits for the lock instead of failing at once.
 *
 * @throws StoreError `schema_too_new`, `migration_failed`, `storage_failed`.
 */
export function openSqliteStore(options: SqliteStoreOptions): HubStore {
  const { file, readonly = false, migrations = MIGRATIONS } = options;
  if (readonly && (file === ':memory:' || !existsSync(file))) {
    throw new StoreError('not_found', 'no hub database at that path');
  }
  let db: Database.Database;
  try {
    db = new Database(file, { readonly, fileMustExist: readonly });
  } catch (err) {
    throw toStoreError(err, 'open the hub database');
  }
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma('foreign_keys = ON');
    if (readonly) {
      const version = schemaVersion(db);
      if (version !== migrations.length) {
        throw new StoreError(
          version > migrations.length ? 'schema_too_new' : 'invalid_state',
          `the database is at schema version ${version}; this hub reads version ${migrations.length}`,
        );
      }
    } else {
      if (file !== ':memory:') chmodSync(file, 0o600); // -wal and -shm inherit the database file's permissions
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (file !== ':memory:' && mode !== 'wal')
        throw new StoreError('storage_failed', `could not enable WAL (got ${String(mode)})`);
      db.pragma('synchronous = FULL');
      // Deleted content (purged intent payloads, sealed secrets) is overwritten with zeros, not left in free pages.
      db.pragma('secure_delete = ON');
      migrate(db, migrations);
    }
  } catch (err) {
    db.close();
    throw toStoreError(err, 'open the hub database');
  }
  return new SqliteStore(db);
}

class SqliteStore implements HubStore {
  private readonly sql: Sql;
  readonly accounts;
  readonly enrollment;
  readonly agents;
  readonly installations;
  readonly intents;
  readonly sealedSecrets;
  readonly agentConfigs;
  readonly vault;
  readonly nonces;
  readonly audit;
  readonly devices;
  readonly pairings;
  readonly watchTokens;

  constructor(private readonly db: Database.Database) {
    this.sql = new Sql(db);
    this.accounts = new SqliteAccounts(this.sql);
    this.enrollment = new SqliteEnrollment(this.sql);
    this.agents = new SqliteAgents(this.sql);
    this.installations = new SqliteInstallations(this.sql);
    this.intents = new SqliteIntents(this.sql);
    this.sealedSecrets = new SqliteSealedSecrets(this.sql);
    this.agentConfigs = new SqliteAgentConfigs(this.sql);
    this.vault = new SqliteVault(this.sql);
    this.nonces = new SqliteNonces(this.sql);
    this.audit = new SqliteAudit(this.sql);
    this.devices = new SqliteDevices(this.sql);
    this.pairings = new SqlitePairings(this.sql);
    this.watchTokens = new SqliteWatchTokens(this.sql);
  }

  transaction<T>(fn: () => T): T {
    // IMMEDIATE takes the write lock at BEGIN, so a read-then-write transaction cannot fail half-way with
    // SQLITE_BUSY when another connection wrote in between. Inside another transaction this becomes a savepoint.
    const tx = this.db.transaction(() => {
      const result = fn();
      if (result instanceof Promise) throw new TypeError('transaction(fn): fn must be synchronous');
      return result;
    });
    try {
      return tx.immediate();
    } catch (err) {
      // SQLite's own failures (BEGIN/COMMIT busy, disk full) become StoreErrors; anything `fn` threw on purpose
      // (a StoreError, a route's HubError) passes through unchanged after the rollback.
      if (err instanceof Database.SqliteError) throw toStoreError(err, 'transaction');
      throw err;
    }
  }

  schemaVersion(): number {
    return schemaVersion(this.db);
  }

  compact(): void {
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch (err) {
      throw toStoreError(err, 'checkpoint');
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
