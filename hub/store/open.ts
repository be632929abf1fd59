import path from 'node:path';
import type { HubStore } from './port';
import { StoreError } from './errors';
import { dbFileIn, DB_FILE, openSqliteStore } from './sqlite';

/**
 * Where the hub keeps its data, from `--store` (issue 16): `sqlite:DIR` (the embedded default, one process) or
 * `postgres://…` / `postgresql://…` (several hub processes on one database). Parsed once, opened by `openStore`.
 */
export type StoreLocation = { engine: 'sqlite'; dir: string } | { engine: 'postgres'; url: string };

/** @throws StoreError `invalid_value` for anything else (the message never repeats a URL: it may hold a password). */
export function parseStoreLocation(value: string, defaultDir: string): StoreLocation {
  if (value === '') return { engine: 'sqlite', dir: defaultDir };
  if (value.startsWith('sqlite:')) {
    const dir = value.slice('sqlite:'.length);
    if (dir === '') throw new StoreError('invalid_value', '--store sqlite:DIR needs a directory');
    return { engine: 'sqlite', dir: path.resolve(dir) };
  }
  if (/^postgres(ql)?:\/\//.test(value)) {
    try {
      new URL(value);
    } catch {
      throw new StoreError('invalid_value', '--store: not a valid postgres:// URL');
    }
    return { engine: 'postgres', url: value };
  }
  throw new StoreError('invalid_value', '--store must be sqlite:DIR or postgres://USER@HOST:PORT/DATABASE');
}

/** A description safe for logs and messages: never the URL's password. */
export function describeStoreLocation(location: StoreLocation): string {
  if (location.engine === 'sqlite') return `SQLite in ${location.dir}`;
  const u = new URL(location.url);
  return `PostgreSQL at ${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
}

/** Opens (and migrates, unless `readonly`) the store at `location`. PostgreSQL's client is loaded only here. */
export async function openStore(location: StoreLocation, options: { readonly?: boolean } = {}): Promise<HubStore> {
  if (location.engine === 'sqlite') {
    const file = options.readonly ? path.join(location.dir, DB_FILE) : dbFileIn(location.dir);
    return openSqliteStore({ file, readonly: options.readonly });
  }
  const { openPostgresStore } = await import('./postgres');
  return openPostgresStore({ url: location.url, readonly: options.readonly });
}
