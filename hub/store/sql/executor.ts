import type { JsonValue } from '../port';

/**
 * What the repositories in this folder need from a database: three asynchronous calls over SQL text with `?`
 * placeholders. The repositories are written once against it; each engine (hub/store/sqlite.ts,
 * hub/store/postgres.ts) supplies an executor that routes a call to the transaction in progress, if any.
 *
 * The SQL is the common subset of SQLite and PostgreSQL (ON CONFLICT … DO UPDATE, RETURNING, `||`), so one text serves
 * both; an engine that numbers placeholders ($1, $2) rewrites `?` itself. `what` names the operation in errors.
 *
 * Values: integers are JavaScript numbers (the PostgreSQL executor parses int8 into numbers, every stored integer is a
 * millisecond time or a counter far below 2^53), BLOB/bytea arrive as Buffers or Uint8Arrays, text as strings.
 */
export interface SqlExecutor {
  get<R>(what: string, sql: string, ...params: unknown[]): Promise<R | null>;
  all<R>(what: string, sql: string, ...params: unknown[]): Promise<R[]>;
  /** Returns the number of rows changed. */
  run(what: string, sql: string, ...params: unknown[]): Promise<number>;
  /**
   * Like `run`, but answers once the statement ran, before it is committed where the engine commits later (SQLite's
   * group commit, hub/store/commit-batch.ts); `committed` settles then. Where a statement commits as it runs
   * (PostgreSQL outside a transaction) or inside the caller's own transaction, `committed` is already resolved.
   */
  runEarly(what: string, sql: string, ...params: unknown[]): Promise<{ changes: number; committed: Promise<void> }>;
}

/** Both drivers return binary columns as Buffers; hand out plain Uint8Arrays (a Buffer may share a pooled ArrayBuffer). */
export function bytes(value: Buffer | Uint8Array): Uint8Array {
  return new Uint8Array(value);
}

export function bytesOrNull(value: Buffer | Uint8Array | null): Uint8Array | null {
  return value === null ? null : bytes(value);
}

/** JSON columns: text in, parsed value out. Each schema checks on write that the text is JSON. */
export function jsonText(value: JsonValue): string {
  return JSON.stringify(value);
}

export function jsonValue(text: string): JsonValue {
  return JSON.parse(text) as JsonValue;
}
