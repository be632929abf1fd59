import { AsyncLocalStorage } from 'node:async_hooks';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { HubStore } from './port';
import { StoreError, toStoreError } from './errors';
import { MIGRATIONS, migrate, schemaVersion, type Migration } from './migrations';
import { AsyncMutex } from './async-mutex';
import type { SqlExecutor } from './sql/executor';
import { SqlRepos } from './sql/repos';

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

/** A transaction in progress on the connection: statements made in its async context run inside it. */
interface TxFrame {
  open: boolean;
  /** Savepoints opened inside it so far (names sp1, sp2, …). */
  savepoints: number;
}

/**
 * The hub's SQLite store: one better-sqlite3 connection shared by every request of this process.
 *
 * better-sqlite3 runs each statement to completion synchronously, but a transaction now spans awaits (the port is
 * asynchronous for PostgreSQL's sake). On one connection, BEGIN … COMMIT is connection state: a statement from
 * another request issued while a transaction awaits would land inside it. So the connection has one FIFO lock:
 * a transaction holds it from BEGIN to COMMIT/ROLLBACK, and a statement outside any transaction takes it too (it
 * runs at once when the lock is free, which is the common case). Statements made inside the transaction's async
 * context (AsyncLocalStorage) run directly. Other processes on the same file are kept out by SQLite's own lock
 * (BEGIN IMMEDIATE, busy_timeout).
 */
class SqliteStore extends SqlRepos implements HubStore {
  readonly engine = 'sqlite' as const;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly lock = new AsyncMutex();
  private readonly tx = new AsyncLocalStorage<TxFrame>();

  constructor(private readonly db: Database.Database) {
    const executor: SqlExecutor = {
      get: (what, sql, ...params) => this.statement(what, () => (this.prepared(sql).get(...params) as never) ?? null),
      all: (what, sql, ...params) => this.statement(what, () => this.prepared(sql).all(...params) as never),
      run: (what, sql, ...params) => this.statement(what, () => this.prepared(sql).run(...params).changes),
    };
    super(executor);
  }

  /** One prepared statement per SQL text, prepared on first use (a read-only store never prepares a write). */
  private prepared(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** Runs one statement: inside the caller's open transaction directly, else under the connection lock. */
  private async statement<T>(what: string, fn: () => T): Promise<T> {
    const guarded = () => {
      try {
        return fn();
      } catch (err) {
        throw toStoreError(err, what);
      }
    };
    if (this.tx.getStore()?.open) return guarded();
    if (this.lock.tryAcquire()) {
      try {
        return guarded();
      } finally {
        this.lock.release();
      }
    }
    return this.lock.run(async () => guarded());
  }

  // `newWork` is for PostgreSQL's shared lock; here one process's FIFO mutex is held for microseconds per statement.
  async transaction<T>(fn: () => Promise<T>, options?: { join?: boolean; newWork?: boolean }): Promise<T> {
    const frame = this.tx.getStore();
    if (frame?.open) return options?.join ? fn() : this.savepoint(frame, fn);
    return this.lock.run(async () => {
      // IMMEDIATE takes the write lock at BEGIN, so a read-then-write transaction cannot fail half-way with
      // SQLITE_BUSY when another process (a CLI on the same file) wrote in between.
      this.exec('begin transaction', 'BEGIN IMMEDIATE');
      const inner: TxFrame = { open: true, savepoints: 0 };
      try {
        const result = await this.tx.run(inner, fn);
        inner.open = false;
        this.exec('commit', 'COMMIT');
        return result;
      } catch (err) {
        inner.open = false;
        if (this.db.inTransaction) this.exec('roll back', 'ROLLBACK');
        // SQLite's own failures become StoreErrors; anything `fn` threw on purpose (a StoreError, a route's
        // HubError) passes through unchanged after the rollback.
        if (err instanceof Database.SqliteError) throw toStoreError(err, 'transaction');
        throw err;
      }
    });
  }

  /** A nested transaction: a savepoint, so its failure undoes only its own writes. */
  private async savepoint<T>(frame: TxFrame, fn: () => Promise<T>): Promise<T> {
    const name = `sp${++frame.savepoints}`;
    this.exec('open savepoint', `SAVEPOINT ${name}`);
    try {
      const result = await fn();
      this.exec('release savepoint', `RELEASE ${name}`);
      return result;
    } catch (err) {
      if (this.db.inTransaction) {
        this.exec('roll back savepoint', `ROLLBACK TO ${name}`);
        this.exec('release savepoint', `RELEASE ${name}`);
      }
      if (err instanceof Database.SqliteError) throw toStoreError(err, 'transaction');
      throw err;
    }
  }

  private exec(what: string, sql: string): void {
    try {
      this.db.exec(sql);
    } catch (err) {
      throw toStoreError(err, what);
    }
  }

  async schemaVersion(): Promise<number> {
    return this.lock.run(async () => schemaVersion(this.db));
  }

  async compact(): Promise<void> {
    await this.lock.run(async () => {
      try {
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      } catch (err) {
        throw toStoreError(err, 'checkpoint');
      }
    });
  }

  async close(): Promise<void> {
    // After any transaction in progress: closing under it would roll back work a request is about to acknowledge.
    await this.lock.run(async () => {
      if (this.db.open) this.db.close();
    });
  }
}
