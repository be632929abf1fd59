import type Database from 'better-sqlite3';
import type { JsonValue } from './port';
import { toStoreError } from './errors';

/**
 * Shared plumbing of the SQLite repositories: one prepared statement per SQL text (prepared on first use, so a
 * read-only store on a file never prepares statements it does not run), and SqliteError → StoreError mapping.
 */
export class Sql {
  private readonly cache = new Map<string, Database.Statement>();

  constructor(readonly db: Database.Database) {}

  stmt(sql: string): Database.Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  /** Runs `fn` and rethrows any failure as a StoreError naming `what`. */
  guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw toStoreError(err, what);
    }
  }

  get<R>(what: string, sql: string, ...params: unknown[]): R | null {
    return this.guard(what, () => (this.stmt(sql).get(...params) as R | undefined) ?? null);
  }

  all<R>(what: string, sql: string, ...params: unknown[]): R[] {
    return this.guard(what, () => this.stmt(sql).all(...params) as R[]);
  }

  /** Returns the number of rows changed. */
  run(what: string, sql: string, ...params: unknown[]): number {
    return this.guard(what, () => this.stmt(sql).run(...params).changes);
  }
}

/** better-sqlite3 returns BLOBs as Buffers; hand out plain Uint8Arrays (a Buffer may share a pooled ArrayBuffer). */
export function bytes(value: Buffer | Uint8Array): Uint8Array {
  return new Uint8Array(value);
}

export function bytesOrNull(value: Buffer | Uint8Array | null): Uint8Array | null {
  return value === null ? null : bytes(value);
}

/** JSON columns: text in, parsed value out. The schema CHECKs json_valid on write. */
export function jsonText(value: JsonValue): string {
  return JSON.stringify(value);
}

export function jsonValue(text: string): JsonValue {
  return JSON.parse(text) as JsonValue;
}
