import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { ClawkeepError } from '../../../lib/errors';
import {
  decodeStored,
  defineStoredItem,
  readSmallStored,
  readStored,
  StoredValueError,
  writeSmallStored,
  writeStored,
  type StoragePort,
} from '../../../lib/storage/stored-item';

/** chrome.storage.local as the services see it: a map behind get / set / remove, values copied like the browser does. */
function memoryPort(init: Record<string, unknown> = {}) {
  const data: Record<string, unknown> = structuredClone(init);
  const writes: string[] = [];
  const port: StoragePort = {
    get: async (key) => (key in data ? { [key]: structuredClone(data[key]) } : {}),
    set: async (items) => {
      writes.push(...Object.keys(items));
      Object.assign(data, structuredClone(items));
    },
    remove: async (key) => {
      writes.push(key);
      delete data[key];
    },
  };
  return { data, writes, port };
}

/**
 * A made-up item with three versions: v1 a bare string list (as keys were stored before the registry, no `v`),
 * v2 `{v: 2, names}`, v3 `{v: 3, names, limit}`.
 */
const V3 = v.object({ v: v.literal(3), names: v.array(v.string()), limit: v.number() });
const ITEM = defineStoredItem({
  area: 'local',
  key: 'clawkeep.test.names',
  holds: 'test names',
  owner: 'test',
  version: 3,
  schema: V3,
  migrations: {
    1: (old) => ({ v: 2, names: old as string[] }),
    2: (old) => ({ ...(old as object), v: 3, limit: 10 }),
  },
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(StoredValueError);
    expect(err).toBeInstanceOf(ClawkeepError);
    return (err as StoredValueError).code;
  }
  throw new Error('expected a StoredValueError');
}

describe('stored items: versioned reads', () => {
  it('reads the current version as stored', async () => {
    const s = memoryPort({ [ITEM.key]: { v: 3, names: ['a'], limit: 5 } });
    expect(await readStored(s.port, ITEM)).toEqual({ v: 3, names: ['a'], limit: 5 });
  });

  it('migrates a value without a version field (version 1, the shape stored before the registry) through every step', async () => {
    const s = memoryPort({ [ITEM.key]: ['a', 'b'] });
    expect(await readStored(s.port, ITEM)).toEqual({ v: 3, names: ['a', 'b'], limit: 10 });
    // A read never writes: the owner's next write stores the new version.
    expect(s.writes).toEqual([]);
    expect(s.data[ITEM.key]).toEqual(['a', 'b']);
  });

  it('migrates version 2 with the last step only', async () => {
    const s = memoryPort({ [ITEM.key]: { v: 2, names: ['x'] } });
    expect(await readStored(s.port, ITEM)).toEqual({ v: 3, names: ['x'], limit: 10 });
  });

  it('reads nothing stored as undefined (localStorage: null)', async () => {
    expect(await readStored(memoryPort().port, ITEM)).toBeUndefined();
    expect(readSmallStored({ getItem: () => null, setItem: () => {} }, ITEM)).toBeNull();
  });

  it('writes what reads back, and refuses to write a value that fails the schema', async () => {
    const s = memoryPort();
    await writeStored(s.port, ITEM, { v: 3, names: ['n'], limit: 1 });
    expect(await readStored(s.port, ITEM)).toEqual({ v: 3, names: ['n'], limit: 1 });
    expect(await codeOf(writeStored(s.port, ITEM, { v: 3, names: 'n', limit: 1 } as never))).toBe('storage_invalid');
    expect(s.data[ITEM.key]).toEqual({ v: 3, names: ['n'], limit: 1 });
  });
});

describe('stored items: typed failures, never a silent reset', () => {
  it('refuses a value written by a newer version, naming the key and both versions, and changes nothing', async () => {
    const newer = { v: 4, names: ['a'], limit: 1, extra: true };
    const s = memoryPort({ [ITEM.key]: newer });
    const err = await readStored(s.port, ITEM).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoredValueError);
    expect((err as StoredValueError).code).toBe('storage_version_unsupported');
    expect((err as StoredValueError).key).toBe(ITEM.key);
    expect((err as StoredValueError).version).toBe(4);
    expect((err as Error).message).toContain('clawkeep.test.names');
    expect((err as Error).message).toContain('version 4');
    expect((err as Error).message).toContain('up to 3');
    expect(s.data[ITEM.key]).toEqual(newer);
    expect(s.writes).toEqual([]);
  });

  it('refuses a current-version value that fails the schema, without echoing the value', async () => {
    const secretish = 'sk-live-DO-NOT-ECHO';
    const s = memoryPort({ [ITEM.key]: { v: 3, names: [secretish, 7], limit: 1 } });
    const err = (await readStored(s.port, ITEM).catch((e: unknown) => e)) as StoredValueError;
    expect(err.code).toBe('storage_invalid');
    expect(err.message).toContain('names.1');
    expect(err.message).not.toContain(secretish);
    expect(s.writes).toEqual([]);
  });

  it('refuses a version field that is not a positive integer', async () => {
    for (const bad of [0, -1, 1.5, '3', null]) {
      expect(await codeOf(readStored(memoryPort({ [ITEM.key]: { v: bad, names: [], limit: 1 } }).port, ITEM))).toBe(
        'storage_invalid',
      );
    }
  });

  it('refuses an old value the migration cannot turn into the current shape', async () => {
    // Version 1 must be a string list: a number migrates to {v: 2, names: 5}, which fails the v3 schema.
    expect(await codeOf(readStored(memoryPort({ [ITEM.key]: 5 }).port, ITEM))).toBe('storage_invalid');
  });

  it('reports a migration that throws as storage_migration_failed, with the cause kept', async () => {
    const boom = new Error('boom');
    const item = defineStoredItem({
      area: 'session',
      key: 'clawkeep.test.boom',
      holds: 'boom',
      owner: 'test',
      version: 2,
      schema: v.object({ v: v.literal(2) }),
      migrations: {
        1: () => {
          throw boom;
        },
      },
    });
    const err = (await readStored(memoryPort({ [item.key]: [] }).port, item).catch(
      (e: unknown) => e,
    )) as StoredValueError;
    expect(err.code).toBe('storage_migration_failed');
    expect(err.version).toBe(1);
    expect(err.cause).toBe(boom);
    expect(err.message).toContain('from version 1 to 2');
  });

  it("apiFailure 'absent' covers a failing storage API only: damaged data still throws", async () => {
    const failing: StoragePort = {
      get: () => Promise.reject(new Error('quota')),
      set: async () => {},
      remove: async () => {},
    };
    expect(await readStored(failing, ITEM, { apiFailure: 'absent' })).toBeUndefined();
    await expect(readStored(failing, ITEM)).rejects.toThrow('quota');
    expect(await codeOf(readStored(memoryPort({ [ITEM.key]: { v: 9 } }).port, ITEM, { apiFailure: 'absent' }))).toBe(
      'storage_version_unsupported',
    );
  });

  it('the errors cross a message channel as {code, message}', () => {
    let err: unknown;
    try {
      decodeStored(ITEM, { v: 4 });
    } catch (e) {
      err = e;
    }
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      code: 'storage_version_unsupported',
      message: (err as Error).message,
    });
  });
});

describe('stored items: localStorage (JSON text)', () => {
  function memoryStrings(init: Record<string, string> = {}) {
    const m = new Map(Object.entries(init));
    return {
      m,
      store: { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, val: string) => void m.set(k, val) },
    };
  }

  it('round-trips through JSON and migrates like the other areas', () => {
    const s = memoryStrings({ [ITEM.key]: '["a"]' });
    expect(readSmallStored(s.store, ITEM)).toEqual({ v: 3, names: ['a'], limit: 10 });
    writeSmallStored(s.store, ITEM, { v: 3, names: ['b'], limit: 2 });
    expect(s.m.get(ITEM.key)).toBe('{"v":3,"names":["b"],"limit":2}');
  });

  it('refuses text that is not JSON, and leaves it in place', () => {
    const s = memoryStrings({ [ITEM.key]: '{not json' });
    expect(() => readSmallStored(s.store, ITEM)).toThrow(StoredValueError);
    expect(s.m.get(ITEM.key)).toBe('{not json');
  });
});

describe('defineStoredItem: declarations are checked when the module loads', () => {
  const base = { area: 'local' as const, key: 'clawkeep.test.decl', holds: 'x', owner: 'test', schema: v.unknown() };

  it('needs a migration from every older version', () => {
    expect(() => defineStoredItem({ ...base, version: 3, migrations: { 1: (x) => x } })).toThrow(RangeError);
    expect(() => defineStoredItem({ ...base, version: 2 })).toThrow('no migration from version 1 to 2');
  });

  it('needs a positive integer version', () => {
    for (const version of [0, 1.5, -2, Number.NaN])
      expect(() => defineStoredItem({ ...base, version })).toThrow(RangeError);
  });

  it('a retired item is read-only', async () => {
    const retired = defineStoredItem({ ...base, version: 1, retired: true });
    await expect(writeStored(memoryPort().port, retired, 1)).rejects.toThrow(TypeError);
  });
});
