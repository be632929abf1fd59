import { AsyncLocalStorage } from 'node:async_hooks';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { HubStore } from './port';
import { StoreError, toStoreError } from './errors';
import { MIGRATIONS, migrate, schemaVersion, type Migration } from './migrations';
import { CommitBatcher, DEFAULT_BATCH_LIMITS, type BatchLimits } from './commit-batch';
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
  /** Group commit limits (commit-batch.ts); `maxMembers: 1` commits every unit of work on its own. */
  batch?: BatchLimits;
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
  const { file, readonly = false, migrations = MIGRATIONS, batch = DEFAULT_BATCH_LIMITS } = options;
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
  // Reads outside transactions go to a second, read-only connection: under WAL it sees the last committed state
  // and never waits for the writer's open group (commit-batch.ts). An in-memory database has no second view.
  let reader: Database.Database | null = null;
  if (!readonly && file !== ':memory:') {
    try {
      reader = new Database(file, { readonly: true, fileMustExist: true });
      reader.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    } catch (err) {
      reader?.close();
      db.close();
      throw toStoreError(err, 'open the hub database');
    }
  }
  return new SqliteStore(db, reader, batch);
}

/** A transaction in progress on the connection: statements made in its async context run inside it. */
interface TxFrame {
  open: boolean;
  /** Savepoints opened inside it so far (names sp1, sp2, …). */
  savepoints: number;
}

/**
 * The hub's SQLite store: one better-sqlite3 write connection shared by every request of this process, and one
 * read-only connection for reads outside transactions.
 *
 * better-sqlite3 runs each statement to completion synchronously, but a transaction now spans awaits (the port is
 * asynchronous for PostgreSQL's sake). On one connection, BEGIN … COMMIT is connection state: a statement from
 * another request issued while a transaction awaits would land inside it. So the write connection has one
 * first-come, first-served queue (`CommitBatcher`), and the writes that meet in it share commits (group commit,
 * commit-batch.ts): each answer waits for the fsync of the COMMIT that covers it, as before, but one fsync covers
 * the work of a whole event-loop turn. Statements made inside a transaction's async context (AsyncLocalStorage) run
 * directly in it. Reads outside a transaction run at once on the read connection (WAL: the last committed state).
 * Other processes on the same file are kept out by SQLite's own lock (BEGIN IMMEDIATE, busy_timeout).
 */
class SqliteStore extends SqlRepos implements HubStore {
  readonly engine = 'sqlite' as const;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly readStatements = new Map<string, Database.Statement>();
  private readonly queue: CommitBatcher;
  private readonly tx = new AsyncLocalStorage<TxFrame>();

  constructor(
    private readonly db: Database.Database,
    private readonly reader: Database.Database | null,
    batchLimits: BatchLimits,
  ) {
    const executor: SqlExecutor = {
      get: (what, sql, ...params) => this.statement(what, sql, (s) => (s.get(...params) as never) ?? null),
      all: (what, sql, ...params) => this.statement(what, sql, (s) => s.all(...params) as never),
      run: (what, sql, ...params) => this.statement(what, sql, (s) => s.run(...params).changes),
      runEarly: (what, sql, ...params) => this.writeEarly(what, sql, (s) => s.run(...params).changes),
    };
    super(executor);
    this.queue = new CommitBatcher(
      {
        // IMMEDIATE takes the write lock at BEGIN, so a read-then-write transaction cannot fail half-way with
        // SQLITE_BUSY when another process (a CLI on the same file) wrote in between.
        begin: () => this.exec('begin transaction', 'BEGIN IMMEDIATE'),
        commit: () => this.exec('commit', 'COMMIT'),
        rollback: () => this.exec('roll back', 'ROLLBACK'),
        savepoint: () => this.exec('open savepoint', 'SAVEPOINT member'),
        release: () => this.exec('release savepoint', 'RELEASE member'),
        rollbackToSavepoint: () => this.exec('roll back savepoint', 'ROLLBACK TO member'),
        inTransaction: () => this.db.inTransaction,
        lostGroupError: (cause) => toStoreError(cause, 'commit'),
      },
      batchLimits,
    );
  }

  /** Groups committed and the units of work they held (group commit; for tests and the bench). */
  get commitStats(): { groups: number; members: number } {
    return { ...this.queue.stats };
  }

  /** One prepared statement per SQL text and connection, prepared on first use. */
  private prepared(sql: string, on: 'write' | 'read' = 'write'): Database.Statement {
    const [map, db] = on === 'read' ? [this.readStatements, this.reader!] : [this.statements, this.db];
    let s = map.get(sql);
    if (!s) {
      s = db.prepare(sql);
      map.set(sql, s);
    }
    return s;
  }

  /** One write answered once it ran (CommitBatcher.runEarly); inside the caller's transaction, that covers it. */
  private async writeEarly(
    what: string,
    sql: string,
    fn: (s: Database.Statement) => number,
  ): Promise<{ changes: number; committed: Promise<void> }> {
    const guarded = () => {
      try {
        return fn(this.prepared(sql));
      } catch (err) {
        throw toStoreError(err, what);
      }
    };
    if (this.tx.getStore()?.open) return { changes: guarded(), committed: Promise.resolve() };
    const { value, committed } = await this.queue.runEarly(guarded);
    return { changes: value, committed };
  }

  /**
   * Runs one statement: inside the caller's open transaction directly; a read on the read connection; else in the
   * write connection's queue (a write joins or opens a group; a read without a read connection joins an open group).
   */
  private async statement<T>(what: string, sql: string, fn: (s: Database.Statement) => T): Promise<T> {
    const guarded = (on: 'write' | 'read') => () => {
      try {
        return fn(this.prepared(sql, on));
      } catch (err) {
        throw toStoreError(err, what);
      }
    };
    if (this.tx.getStore()?.open) return guarded('write')();
    let readOnly: boolean;
    try {
      readOnly = this.prepared(sql).readonly;
    } catch (err) {
      throw toStoreError(err, what);
    }
    if (readOnly && this.reader) return guarded('read')();
    if (readOnly) {
      const now = this.queue.tryReadNow(guarded('write'));
      if (now.ran) return now.value;
      return this.queue.run('read', guarded('write'));
    }
    return this.queue.run('write', guarded('write'));
  }

  // `newWork` is for PostgreSQL's shared lock; here the queue is first come, first served.
  async transaction<T>(fn: () => Promise<T>, options?: { join?: boolean; newWork?: boolean }): Promise<T> {
    const frame = this.tx.getStore();
    if (frame?.open) return options?.join ? fn() : this.savepoint(frame, fn);
    return this.queue.run('transaction', async () => {
      const inner: TxFrame = { open: true, savepoints: 0 };
      try {
        return await this.tx.run(inner, fn);
      } catch (err) {
        // SQLite's own failures become StoreErrors; anything `fn` threw on purpose (a StoreError, a route's
        // HubError) passes through unchanged (the queue undoes its writes).
        if (err instanceof Database.SqliteError) throw toStoreError(err, 'transaction');
        throw err;
      } finally {
        inner.open = false;
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
    return this.queue.run('exclusive', () => schemaVersion(this.db));
  }

  async compact(): Promise<void> {
    await this.queue.run('exclusive', () => {
      try {
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      } catch (err) {
        throw toStoreError(err, 'checkpoint');
      }
    });
  }

  async close(): Promise<void> {
    // After any transaction in progress: closing under it would roll back work a request is about to acknowledge.
    await this.queue.run('exclusive', () => {
      if (this.reader?.open) this.reader.close();
      if (this.db.open) this.db.close();
    });
  }
}
