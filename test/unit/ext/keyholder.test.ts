import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { randomBytes } from '../../../lib/bytes';
import { Keyholder, type KeyholderPorts } from '../../../lib/ext/vault/keyholder';
import { ALARMS, KEYHOLDER_SESSION } from '../../../lib/storage/persisted-keys';
import type { VaultEvent } from '../../../lib/vault/client';
import { VaultDb } from '../../../lib/vault/db';
import { VaultService } from '../../../lib/vault/vault-service';
import { FAST_KDF, kekFor, uniqueDbName } from '../vault/helpers';

const AUTOLOCK_ALARM = ALARMS.autolock;
const SESSION_KEY = KEYHOLDER_SESSION.key;

/** In-memory stand-ins for storage.session and alarms: the same contract the browser gives the keyholder. */
function makePorts(session: Map<string, unknown>) {
  const events: VaultEvent[] = [];
  const alarms = new Map<string, number>();
  const ports: KeyholderPorts = {
    session: {
      get: async (key) => (session.has(key) ? { [key]: structuredClone(session.get(key)) } : {}),
      set: async (items) => void Object.entries(items).forEach(([k, v]) => session.set(k, structuredClone(v))),
      remove: async (key) => void session.delete(key),
    },
    alarms: { create: (name, info) => void alarms.set(name, info.when), clear: (name) => void alarms.delete(name) },
    broadcast: (event) => events.push(event),
    now: () => Date.now(),
  };
  return { ports, events, alarms };
}

describe('Keyholder', () => {
  let dbName: string;
  let session: Map<string, unknown>;
  let salt: Uint8Array;

  beforeEach(async () => {
    dbName = uniqueDbName();
    session = new Map();
    salt = randomBytes(16);
  });
  afterEach(() => vi.useRealTimers());

  async function start() {
    const { ports, events, alarms } = makePorts(session);
    const keyholder = new Keyholder(new VaultService(new VaultDb(dbName)), ports);
    return { keyholder, events, alarms };
  }

  it('keeps the key across a worker restart (session storage), and forgets it on lock', async () => {
    const first = await start();
    await first.keyholder.handle('create', { kdf: FAST_KDF, salt, kek: await kekFor('pw', salt) });
    const item = await first.keyholder.handle('save', {
      draft: { kind: 'secret', fields: { name: 'n', value: 'v', notes: '', tags: [], expiresAt: null } },
    });
    expect(session.has(SESSION_KEY)).toBe(true);

    // A new Keyholder over the same session storage = the MV3 worker was stopped and woke up again.
    const second = await start();
    expect(await second.keyholder.handle('status', null)).toMatchObject({ state: 'unlocked' });
    expect(await second.keyholder.handle('get', { id: (item as { id: string }).id })).toMatchObject({
      fields: { value: 'v' },
    });

    await second.keyholder.handle('lock', null);
    expect(session.has(SESSION_KEY)).toBe(false);
    expect(second.events).toContainEqual({ type: 'locked' });
    const third = await start();
    expect(await third.keyholder.handle('status', null)).toMatchObject({ state: 'locked' });
  });

  it('auto-locks after the idle time, schedules an alarm, and activity postpones it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { keyholder, events, alarms } = await start();
    await keyholder.handle('create', { kdf: FAST_KDF, salt, kek: await kekFor('pw', salt) });
    await keyholder.handle('setSettings', { settings: { autoLockSeconds: 60 } });
    expect(alarms.get(AUTOLOCK_ALARM)).toBe(Date.now() + 60_000);

    await vi.advanceTimersByTimeAsync(45_000);
    await keyholder.handle('touch', null);
    await vi.advanceTimersByTimeAsync(45_000);
    expect(await keyholder.handle('status', null)).toMatchObject({ state: 'unlocked' });

    await vi.advanceTimersByTimeAsync(16_000);
    expect(await keyholder.handle('status', null)).toMatchObject({ state: 'locked' });
    expect(events.at(-1)).toEqual({ type: 'locked' });
    expect(session.has(SESSION_KEY)).toBe(false);
    expect(alarms.has(AUTOLOCK_ALARM)).toBe(false);
  });

  it('a worker woken after the idle time has passed comes back locked', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const first = await start();
    await first.keyholder.handle('create', { kdf: FAST_KDF, salt, kek: await kekFor('pw', salt) });
    await first.keyholder.handle('setSettings', { settings: { autoLockSeconds: 60 } });
    vi.setSystemTime(Date.now() + 61_000);
    const second = await start();
    await second.keyholder.checkIdle();
    expect(await second.keyholder.handle('status', null)).toMatchObject({ state: 'locked' });
    expect(session.has(SESSION_KEY)).toBe(false);
  });

  it('"only when the browser closes" never schedules a lock', async () => {
    const { keyholder, alarms } = await start();
    await keyholder.handle('create', { kdf: FAST_KDF, salt, kek: await kekFor('pw', salt) });
    await keyholder.handle('setSettings', { settings: { autoLockSeconds: null } });
    expect(alarms.has(AUTOLOCK_ALARM)).toBe(false);
    await expect(keyholder.handle('setSettings', { settings: { autoLockSeconds: 1 } })).rejects.toMatchObject({
      code: 'settings_invalid',
    });
  });
});
