import * as v from 'valibot';
import { ClawkeepError } from '../errors';

/**
 * One persisted value, declared once (lib/storage/persisted-keys.ts): where it lives, under which key, which version
 * this code writes, the schema of that version and the migrations from every older one. Reads go through
 * `decodeStored`, writes through `encodeStored`, so a value is checked the same way on both sides.
 *
 * Where the version lives: in the value itself, as its `v` field (`{ v: 2, ... }`). A value without one (an array,
 * a number, an object that never had `v`) is version 1: that is how every key was stored before this registry, so
 * what current users have keeps reading unchanged. A version 2 of such an item therefore writes an object with
 * `v: 2`. Keeping the version inline (rather than in a second `key$` entry, as wxt's storage does) keeps each key
 * one atomic `set`, and the stored shapes of today byte-for-byte.
 *
 * Failures are typed and never a silent reset to defaults (issue 14 step 4): a value written by a newer Clawkeep
 * is `storage_version_unsupported`, a migration that throws or is missing is `storage_migration_failed`, a value
 * that does not match its schema is `storage_invalid`. Messages name the key and what is wrong, never the value.
 */

/** Where a value is kept: chrome.storage.local / .session, or the web vault page's localStorage. */
export type StorageAreaName = 'local' | 'session' | 'localStorage';

/** Turns the value of version n into the value of version n + 1. */
export type Migration = (previous: unknown) => unknown;

export interface StoredItem<T> {
  readonly area: StorageAreaName;
  readonly key: string;
  /** What the value is, for people reading the registry and for error messages ("the hub settings"). */
  readonly holds: string;
  /** The module that reads and writes it. */
  readonly owner: string;
  /** The version this code writes (a positive integer; 1 = the shape stored before the registry). */
  readonly version: number;
  /** The current version's shape. */
  readonly schema: v.GenericSchema<unknown, T>;
  /** `migrations[n]` turns a version-n value into version n + 1, for every n from 1 to version - 1. */
  readonly migrations: Readonly<Record<number, Migration>>;
  /** Only read to move its data elsewhere, then removed; nothing writes it any more. */
  readonly retired: boolean;
}

export type StoredValueErrorCode = 'storage_invalid' | 'storage_version_unsupported' | 'storage_migration_failed';

/** A stored value this code cannot use as it is: the caller shows it, nothing was changed or reset. */
export class StoredValueError extends ClawkeepError {
  declare readonly code: StoredValueErrorCode;
  constructor(
    code: StoredValueErrorCode,
    /** The storage key (not secret). */
    readonly key: string,
    /** The version found in storage (null when it could not be read). */
    readonly version: number | null,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'StoredValueError';
  }
}

/**
 * Declares one persisted item. Checks the declaration itself (a positive integer version, a migration for every
 * older version), so a registry entry with a gap fails when the module loads, not on a user's machine later.
 * @throws RangeError on a malformed declaration (a programming error)
 */
export function defineStoredItem<T>(spec: {
  area: StorageAreaName;
  key: string;
  holds: string;
  owner: string;
  version: number;
  schema: v.GenericSchema<unknown, T>;
  migrations?: Record<number, Migration>;
  retired?: boolean;
}): StoredItem<T> {
  if (!Number.isSafeInteger(spec.version) || spec.version < 1)
    throw new RangeError(`${spec.key}: version must be a positive integer`);
  const migrations = spec.migrations ?? {};
  for (let n = 1; n < spec.version; n++) {
    if (typeof migrations[n] !== 'function')
      throw new RangeError(`${spec.key}: no migration from version ${n} to ${n + 1}`);
  }
  return Object.freeze({ ...spec, migrations: Object.freeze({ ...migrations }), retired: spec.retired ?? false });
}

const isPlainObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * The version a stored value carries: its `v` field when it is an object with one, else 1.
 * @throws StoredValueError `storage_invalid` when `v` is there but not a positive integer
 */
export function storedVersion(item: StoredItem<unknown>, raw: unknown): number {
  if (!isPlainObject(raw) || !('v' in raw)) return 1;
  const version = raw.v;
  if (typeof version === 'number' && Number.isSafeInteger(version) && version >= 1) return version;
  throw new StoredValueError(
    'storage_invalid',
    item.key,
    null,
    `Cannot read the stored ${item.holds} (${item.key}): no valid version number; nothing was changed.`,
  );
}

/** Where a value fails its schema, without the value itself (it may be a key or a token). */
function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  const first = issues[0]!;
  const path = v.getDotPath(first);
  return `${path ? `at ${path}: ` : ''}expected ${first.expected ?? 'a different value'}`;
}

/**
 * The current-version value of what was stored under `item.key`, or undefined when nothing is stored.
 * Older versions are migrated in memory (the stored value is rewritten by the owner's next write, not here: a read
 * never writes).
 * @throws StoredValueError `storage_version_unsupported` | `storage_migration_failed` | `storage_invalid`
 */
export function decodeStored<T>(item: StoredItem<T>, raw: unknown): T | undefined {
  if (raw === undefined) return undefined;
  const found = storedVersion(item, raw);
  if (found > item.version) {
    throw new StoredValueError(
      'storage_version_unsupported',
      item.key,
      found,
      `Cannot read the stored ${item.holds} (${item.key}): version ${found} was written by a newer Clawkeep (this one reads up to ${item.version}). Update Clawkeep; nothing was changed.`,
    );
  }
  let value: unknown = raw;
  for (let n = found; n < item.version; n++) {
    try {
      value = item.migrations[n]!(value);
    } catch (err) {
      throw new StoredValueError(
        'storage_migration_failed',
        item.key,
        found,
        `Cannot read the stored ${item.holds} (${item.key}): the migration from version ${n} to ${n + 1} failed; nothing was changed.`,
        { cause: err },
      );
    }
  }
  const parsed = v.safeParse(item.schema, value);
  if (!parsed.success) {
    throw new StoredValueError(
      'storage_invalid',
      item.key,
      found,
      `Cannot read the stored ${item.holds} (${item.key}): damaged, ${describeIssues(parsed.issues)}; nothing was changed.`,
    );
  }
  return parsed.output;
}

/**
 * Checks `value` against the current schema before it is written, so what is written always reads back.
 * @throws StoredValueError `storage_invalid` (a caller writing a wrong shape), TypeError for a retired item
 */
export function encodeStored<T>(item: StoredItem<T>, value: T): T {
  if (item.retired) throw new TypeError(`${item.key} is retired: it is only read to migrate it`);
  const parsed = v.safeParse(item.schema, value);
  if (!parsed.success)
    throw new StoredValueError(
      'storage_invalid',
      item.key,
      item.version,
      `Refusing to store invalid ${item.holds} (${describeIssues(parsed.issues)}).`,
    );
  return value;
}

/** A chrome.storage area as the services see it (browser.storage.local / .session, or an in-memory map in tests). */
export interface StoragePort {
  get(key: string): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
  remove(key: string): Promise<void>;
}

export interface ReadOptions {
  /**
   * 'absent': a failing storage API call (the browser's get rejecting) reads as nothing stored. This is about the
   * API only; a stored value that is damaged or too new always throws its typed error.
   */
  apiFailure?: 'throw' | 'absent';
}

/**
 * Reads and decodes one item from a chrome.storage area.
 * @throws StoredValueError (see decodeStored); the storage API's own error unless `apiFailure: 'absent'`
 */
export async function readStored<T>(
  port: StoragePort,
  item: StoredItem<T>,
  options: ReadOptions = {},
): Promise<T | undefined> {
  let stored: Record<string, unknown>;
  try {
    stored = await port.get(item.key);
  } catch (err) {
    if (options.apiFailure === 'absent') return undefined;
    throw err;
  }
  return decodeStored(item, stored[item.key]);
}

/** Validates and writes one item to a chrome.storage area. */
export async function writeStored<T>(port: StoragePort, item: StoredItem<T>, value: T): Promise<void> {
  await port.set({ [item.key]: encodeStored(item, value) });
}

/** Removes one item from a chrome.storage area. */
export async function removeStored(port: StoragePort, item: StoredItem<unknown>): Promise<void> {
  await port.remove(item.key);
}

/** The page's localStorage (or a map in tests): string values, so items are stored as JSON. */
export interface SmallStringStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * Reads and decodes one item from localStorage; null when nothing is stored.
 * @throws StoredValueError `storage_invalid` for text that is not JSON, else as decodeStored
 */
export function readSmallStored<T>(store: SmallStringStore, item: StoredItem<T>): T | null {
  const text = store.getItem(item.key);
  if (text === null) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new StoredValueError(
      'storage_invalid',
      item.key,
      null,
      `Cannot read the stored ${item.holds} (${item.key}): not valid JSON; nothing was changed.`,
    );
  }
  return decodeStored(item, raw) ?? null;
}

/** Validates and writes one item to localStorage as JSON. */
export function writeSmallStored<T>(store: SmallStringStore, item: StoredItem<T>, value: T): void {
  store.setItem(item.key, JSON.stringify(encodeStored(item, value)));
}
