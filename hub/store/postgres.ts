import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomUUID } from 'node:crypto';
import type { Pool, PoolClient, PoolConfig, QueryResult } from 'pg';
import type { ChangeFeed, ChangeNotice, HubStore, SharedLimits } from './port';
import { StoreError } from './errors';
import { MIGRATIONS, type Migration } from './migrations';
import type { SqlExecutor } from './sql/executor';
import { SqlRepos } from './sql/repos';
import { PriorityGate } from './priority-gate';

/**
 * The hub's PostgreSQL store (issue 16): several hub processes on one database behave as one hub.
 *
 * - Repositories are the shared ones (hub/store/sql/); this file supplies the executor, transactions, migrations
 *   and the change feed.
 * - Every transaction takes one transaction-scoped advisory lock first, so transactions of all processes run one
 *   at a time, exactly like SQLite's BEGIN IMMEDIATE on one file: a route's read-check-write (audit chain append,
 *   execute-at-most-once, claim, pairing) cannot interleave with another process's. (One order is inherent: every
 *   such transaction appends to the one audit chain.) A statement outside any transaction goes straight to the
 *   pool as its own atomic statement, without the lock: the only writes made that way touch rows no transaction
 *   reads to decide (the replay cache's one-statement upsert, hub metadata, pruning), and taking the global lock for
 *   the nonce every signed request spends made all processes queue behind it (measured by bench/hub-load.mjs).
 * - Change notices travel with NOTIFY on a channel per schema; one dedicated connection LISTENs and reconnects.
 *
 * The client is node-postgres (`pg`): maintained, no native build, parameterized queries; the repositories' SQL is
 * plain text shared with SQLite, so no query builder is needed.
 */
export interface PostgresStoreOptions {
  /** `postgres://user@host:port/db` (a password may be in the URL or PGPASSWORD; it is never logged). */
  url: string;
  /** A schema to use instead of `public` (created if missing): tests isolate themselves with it. */
  schema?: string;
  /** Open without migrating; the schema must be exactly the version this hub knows (`clawkeep audit verify`). */
  readonly?: boolean;
  migrations?: readonly Migration[];
  /** Most pooled connections of this process. */
  maxConnections?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** Transactions one process sends towards the database's transaction lock at once (see PostgresStore.txGate). */
const TX_IN_FLIGHT = 2;
/** Classid of our advisory locks ('Ck'); the objid says which lock. */
const LOCK_CLASS = 0x436b;
/** How long to wait before reconnecting the LISTEN connection, growing to the maximum. */
const LISTEN_RETRY_MS = [100, 500, 2000, 5000] as const;
/**
 * NOTIFY payloads must stay under 8000 bytes: notices are split into parts of this many account changes, and an
 * account's change with more intent ids than fit is sent as "the whole account changed" (no ids), which wakes more
 * subscribers than needed but never fewer.
 */
const MAX_NOTICE_CHANGES = 20;
const MAX_NOTICE_IDS = 40;

/** int8 (bigint: times, counters, count(*)) as a JavaScript number: every stored value is far below 2^53. */
const INT8_OID = 20;

interface TxFrame {
  client: PoolClient;
  open: boolean;
  savepoints: number;
}

/** Maps a PostgreSQL error (SQLSTATE in `code`) to a StoreError. Messages name the operation, never a value. */
export function pgStoreError(err: unknown, what: string): StoreError {
  if (err instanceof StoreError) return err;
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : '';
  if (code === '23505') return new StoreError('conflict', `${what}: already exists`, { cause: err });
  if (code === '23503')
    return new StoreError('invalid_reference', `${what}: refers to a row that does not exist`, { cause: err });
  if (code === '23514' || code === '23502' || code === '22P02' || code === '22003' || code === '22001')
    return new StoreError('invalid_value', `${what}: a value was refused by the schema`, { cause: err });
  if (code === '40001' || code === '40P01' || code === '55P03' || code === '57014')
    return new StoreError('busy', `${what}: the database is busy`, { cause: err });
  return new StoreError('storage_failed', `${what}: storage failed`, { cause: err });
}

/** The numbered form of each SQL text, made once: the repositories' texts are constants, so this stays small. */
const numberedTexts = new Map<string, string>();

/** `?` placeholders (the shared SQL) → `$1, $2, …`. The shared SQL has no `?` inside string literals. */
function numbered(sql: string): string {
  let text = numberedTexts.get(sql);
  if (text === undefined) {
    let n = 0;
    text = sql.replace(/\?/g, () => `$${++n}`);
    numberedTexts.set(sql, text);
  }
  return text;
}

/** Two int4 keys from a name (advisory locks take bigint or (int4, int4)). */
function lockId(name: string): number {
  return createHash('sha256').update(name).digest().readInt32BE(0);
}

/**
 * Opens the store, migrating the schema (under an advisory lock, so several processes starting together migrate
 * once). `pg` is loaded here, not at the top, so a hub on SQLite never needs it.
 * @throws StoreError `storage_failed` (cannot connect), `schema_too_new`, `migration_failed`.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<HubStore> {
  const { url, schema = 'public', readonly = false, migrations = MIGRATIONS } = options;
  if (!SCHEMA_NAME.test(schema)) throw new RangeError(`openPostgresStore: bad schema name "${schema}"`);
  const pg = (await import('pg')).default;
  const config: PoolConfig = {
    connectionString: url,
    max: options.maxConnections ?? 10,
    // Fail fast and typed when the database is unreachable, instead of hanging a request.
    connectionTimeoutMillis: 10_000,
    options: `-c search_path=${schema}`,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
        oid === INT8_OID ? (v: string) => Number(v) : (pg.types.getTypeParser(oid, format) as unknown)) as never,
    },
  };
  const pool = new pg.Pool(config);
  // An idle pooled connection that dies (server restart) emits 'error' on the pool; without a listener that is an
  // uncaught exception. The next query gets a fresh connection.
  pool.on('error', () => {});
  try {
    const version = await migratePostgres(pool, schema, readonly ? null : migrations);
    if (readonly && version !== migrations.length) {
      throw new StoreError(
        version > migrations.length ? 'schema_too_new' : 'invalid_state',
        `the database is at schema version ${version}; this hub reads version ${migrations.length}`,
      );
    }
  } catch (err) {
    await pool.end().catch(() => {});
    throw err instanceof StoreError || err instanceof RangeError ? err : pgStoreError(err, 'open the hub database');
  }
  return new PostgresStore(pool, schema, config, pg.Client);
}

/**
 * Applies the migrations not yet applied, each in its own transaction with its version row (PostgreSQL DDL is
 * transactional: a failure leaves the previous version). `migrations` null = only read the version.
 */
async function migratePostgres(pool: Pool, schema: string, migrations: readonly Migration[] | null): Promise<number> {
  const client = await pool.connect();
  try {
    const current = async () =>
      Number(
        (await client.query<{ v: number | null }>('SELECT max(version) AS v FROM clawkeep_schema')).rows[0]?.v ?? 0,
      );
    if (!migrations) return await current();
    migrations.forEach((m, i) => {
      if (m.version !== i + 1) throw new RangeError(`migration #${i} has version ${m.version}, expected ${i + 1}`);
    });
    for (;;) {
      await client.query('BEGIN');
      try {
        // One migrator at a time across processes; the version is read again under the lock.
        await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, lockId(`${schema}/migrate`)]);
        // Under the lock: two processes creating the same schema or table at once would otherwise collide.
        if (schema !== 'public') await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
        await client.query(
          'CREATE TABLE IF NOT EXISTS clawkeep_schema (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)',
        );
        const version = await current();
        if (version > migrations.length) {
          throw new StoreError(
            'schema_too_new',
            `the database is at schema version ${version}, newer than this hub knows (${migrations.length}); upgrade the hub`,
          );
        }
        const next = migrations[version];
        if (!next) {
          await client.query('COMMIT');
          return version;
        }
        try {
          await client.query(next.postgres);
        } catch (err) {
          throw new StoreError(
            'migration_failed',
            `migration ${next.version} (${next.name}) failed and was rolled back`,
            {
              cause: err,
            },
          );
        }
        await client.query('INSERT INTO clawkeep_schema (version, name, applied_at) VALUES ($1, $2, $3)', [
          next.version,
          next.name,
          Date.now(),
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      }
    }
  } finally {
    client.release();
  }
}

class PostgresStore extends SqlRepos implements HubStore {
  readonly engine = 'postgres' as const;
  readonly changeFeed: ChangeFeed;
  readonly sharedLimits: SharedLimits;
  private readonly tx = new AsyncLocalStorage<TxFrame>();
  private readonly txLock: number;
  /**
   * Transactions of this process in flight towards the one lock: two (one holding it, one next, so the lock passes
   * without a gap), the rest wait here, those finishing work before those starting it (PriorityGate). More than
   * two only lengthened the lock's queue, where a decision waited behind every instance's pending creations.
   */
  private readonly txGate = new PriorityGate(TX_IN_FLIGHT);
  private closed = false;

  constructor(
    private readonly pool: Pool,
    schema: string,
    listenConfig: PoolConfig,
    ClientClass: typeof import('pg').Client,
  ) {
    const executor: SqlExecutor = {
      get: async (what, sql, ...params) => (await this.query<never>(what, sql, params)).rows[0] ?? null,
      all: async (what, sql, ...params) => (await this.query<never>(what, sql, params)).rows,
      run: async (what, sql, ...params) => (await this.query(what, sql, params)).rowCount ?? 0,
      // Outside a transaction a statement commits as it runs; inside one, the caller's COMMIT covers it.
      runEarly: async (what, sql, ...params) => ({
        changes: (await this.query(what, sql, params)).rowCount ?? 0,
        committed: Promise.resolve(),
      }),
    };
    super(executor);
    this.txLock = lockId(`${schema}/transactions`);
    this.changeFeed = new PgChangeFeed(pool, `clawkeep_changes_${schema}`, listenConfig, ClientClass);
    this.sharedLimits = new PgSharedLimits(pool);
  }

  private async query<R extends object>(what: string, sql: string, params: unknown[]): Promise<QueryResult<R>> {
    const frame = this.tx.getStore();
    const text = numbered(sql);
    try {
      if (frame?.open) return await frame.client.query<R>(text, params);
      return await this.pool.query<R>(text, params);
    } catch (err) {
      throw pgStoreError(err, what);
    }
  }

  async transaction<T>(fn: () => Promise<T>, options?: { join?: boolean; newWork?: boolean }): Promise<T> {
    const outer = this.tx.getStore();
    if (outer?.open) return options?.join ? fn() : this.savepoint(outer, fn);
    return await this.txGate.run(options?.newWork === true, () => this.outerTransaction(fn));
  }

  private async outerTransaction<T>(fn: () => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw pgStoreError(err, 'begin transaction');
    }
    const frame: TxFrame = { client, open: true, savepoints: 0 };
    let broken = false;
    try {
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_CLASS, this.txLock]);
      } catch (err) {
        throw pgStoreError(err, 'begin transaction');
      }
      const result = await this.tx.run(frame, fn);
      frame.open = false;
      try {
        await client.query('COMMIT');
      } catch (err) {
        throw pgStoreError(err, 'commit');
      }
      return result;
    } catch (err) {
      frame.open = false;
      try {
        await client.query('ROLLBACK');
      } catch {
        broken = true; // the connection is unusable: drop it rather than return it to the pool
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  private async savepoint<T>(frame: TxFrame, fn: () => Promise<T>): Promise<T> {
    const name = `sp${++frame.savepoints}`;
    await frame.client.query(`SAVEPOINT ${name}`);
    try {
      const result = await fn();
      await frame.client.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (err) {
      await frame.client.query(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => {});
      throw err;
    }
  }

  async schemaVersion(): Promise<number> {
    const r = await this.pool.query<{ v: number | null }>('SELECT max(version) AS v FROM clawkeep_schema');
    return Number(r.rows[0]?.v ?? 0);
  }

  async compact(): Promise<void> {
    // Nothing to do: autovacuum reclaims dead rows (see HubStore.compact).
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await (this.changeFeed as PgChangeFeed).close();
    await this.pool.end();
  }
}

/**
 * Token buckets every hub process shares (hub/rate-limit.ts SharedRateLimiter). One statement per request: the
 * upsert refills both buckets for the time passed and takes a token only when both have one, so racing processes
 * cannot both take the last token (the row lock orders them). No transaction lock: nothing else reads the table.
 */
class PgSharedLimits implements SharedLimits {
  constructor(private readonly pool: Pool) {}

  async consume(
    bucket: string,
    limit: { burst: number; sustained: number; perSeconds: number },
    now: number,
  ): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }> {
    const periodMs = limit.perSeconds * 1000;
    const params = [bucket, limit.burst, limit.sustained, now, limit.burst / periodMs, limit.sustained / periodMs];
    // $5/$6: tokens per millisecond. A clock behind the stored one refills nothing (GREATEST(0, …)).
    const refilledBurst = 'LEAST($2::float8, b.burst_tokens + GREATEST(0, $4::bigint - b.updated_at) * $5::float8)';
    const refilledSustained =
      'LEAST($3::float8, b.sustained_tokens + GREATEST(0, $4::bigint - b.updated_at) * $6::float8)';
    try {
      const taken = await this.pool.query(
        `INSERT INTO rate_buckets AS b (bucket, burst_tokens, sustained_tokens, updated_at)
         VALUES ($1, $2::float8 - 1, $3::float8 - 1, $4::bigint)
         ON CONFLICT (bucket) DO UPDATE SET
           burst_tokens = ${refilledBurst} - 1,
           sustained_tokens = ${refilledSustained} - 1,
           updated_at = GREATEST(b.updated_at, $4::bigint)
         WHERE ${refilledBurst} >= 1 AND ${refilledSustained} >= 1`,
        params,
      );
      if ((taken.rowCount ?? 0) === 1) return { allowed: true };
      const row = await this.pool.query<{ burst: number; sustained: number }>(
        `SELECT ${refilledBurst} AS burst, ${refilledSustained} AS sustained FROM rate_buckets b WHERE bucket = $1`,
        params,
      );
      const { burst: b = 0, sustained: s = 0 } = row.rows[0] ?? {};
      const waitBurst = b >= 1 ? 0 : ((1 - b) * limit.perSeconds) / limit.burst;
      const waitSustained = s >= 1 ? 0 : ((1 - s) * limit.perSeconds) / limit.sustained;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(Math.max(waitBurst, waitSustained))) };
    } catch (err) {
      throw pgStoreError(err, 'rate limit');
    }
  }

  async prune(now: number): Promise<number> {
    // A bucket untouched for a day is full again under every limit the hub sets (the longest period is an hour).
    try {
      return (
        (await this.pool.query('DELETE FROM rate_buckets WHERE updated_at < $1', [now - 24 * 3600_000])).rowCount ?? 0
      );
    } catch (err) {
      throw pgStoreError(err, 'prune rate limits');
    }
  }
}

/**
 * NOTIFY/LISTEN between hub processes. Each process tags its notices with a random id and ignores its own (its
 * local subscribers were told directly). The LISTEN connection is opened on the first subscriber and reopened with
 * backoff when lost; after a reconnect subscribers get 'resync' (a notice may have been missed meanwhile).
 */
class PgChangeFeed implements ChangeFeed {
  private readonly origin = randomUUID();
  private readonly listeners = new Set<(notice: ChangeNotice | 'resync') => void>();
  private client: import('pg').Client | null = null;
  private connecting: Promise<void> | null = null;
  private retry = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly pool: Pool,
    private readonly channel: string,
    private readonly config: PoolConfig,
    private readonly ClientClass: typeof import('pg').Client,
  ) {}

  async publish(notice: ChangeNotice): Promise<void> {
    if (notice.kind === 'changed')
      notice = {
        kind: 'changed',
        changes: notice.changes.map((c) => (c.intentIds.length > MAX_NOTICE_IDS ? { ...c, intentIds: [] } : c)),
      };
    const parts =
      notice.kind === 'changed'
        ? chunk(notice.changes, MAX_NOTICE_CHANGES).map((changes) => ({ ...notice, changes }))
        : [notice];
    for (const part of parts) {
      await this.pool.query('SELECT pg_notify($1, $2)', [this.channel, JSON.stringify({ o: this.origin, n: part })]);
    }
  }

  subscribe(listener: (notice: ChangeNotice | 'resync') => void): () => void {
    this.listeners.add(listener);
    void this.ready();
    return () => this.listeners.delete(listener);
  }

  /** Resolves once LISTEN is in place (or the attempt failed and a retry is scheduled). */
  ready(): Promise<void> {
    if (this.client || this.closed) return Promise.resolve();
    return (this.connecting ??= this.connect().finally(() => (this.connecting = null)));
  }

  private async connect(): Promise<void> {
    const client = new this.ClientClass({
      connectionString: this.config.connectionString,
      options: this.config.options,
      connectionTimeoutMillis: 10_000,
    });
    const lost = () => {
      if (this.client !== client) return;
      this.client = null;
      client.removeAllListeners('notification');
      void client.end().catch(() => {});
      this.scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch {
      client.removeAllListeners();
      client.on('error', () => {});
      void client.end().catch(() => {});
      this.scheduleReconnect();
      return;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    client.on('notification', (msg) => {
      if (msg.channel !== this.channel || !msg.payload) return;
      let parsed: { o?: unknown; n?: ChangeNotice };
      try {
        parsed = JSON.parse(msg.payload) as typeof parsed;
      } catch {
        return; // not ours: someone else NOTIFYing on the channel
      }
      if (parsed.o === this.origin || !parsed.n) return;
      this.emit(parsed.n);
    });
    const wasReconnect = this.retry > 0;
    this.client = client;
    this.retry = 0;
    if (wasReconnect) this.emit('resync');
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer) return;
    const delay = LISTEN_RETRY_MS[Math.min(this.retry, LISTEN_RETRY_MS.length - 1)]!;
    this.retry++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.ready();
    }, delay);
    this.retryTimer.unref();
  }

  private emit(notice: ChangeNotice | 'resync'): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(notice);
      } catch {
        // A subscriber's failure is its own.
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = null;
    await this.connecting?.catch(() => {});
    if (client) await client.end().catch(() => {});
  }
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out.length > 0 ? out : [[]];
}
