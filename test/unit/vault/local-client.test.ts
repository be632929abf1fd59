import { afterEach, describe, expect, it, vi } from 'vitest';
import type { VaultEvent } from '../../../lib/vault/client';
import { VaultDb } from '../../../lib/vault/db';
import { createLocalVaultClient } from '../../../lib/web-vault/local-client';
import { FAST_KDF, inProcessKdf, uniqueDbName } from './helpers';

describe('passphrase-level client (web vault)', () => {
  afterEach(() => vi.useRealTimers());

  it('create -> lock -> wrong passphrase -> unlock; reports KDF progress; emits events', async () => {
    const client = createLocalVaultClient(inProcessKdf, new VaultDb(uniqueDbName()));
    const events: VaultEvent[] = [];
    client.subscribe((e) => events.push(e));
    expect((await client.status()).state).toBe('uninitialized');
    const progress: number[] = [];
    await client.create('first passphrase', FAST_KDF, (p) => progress.push(p.elapsedMs));
    expect(progress[0]).toBe(0);
    expect(await client.status()).toMatchObject({ state: 'unlocked', kdf: FAST_KDF });
    await client.save({
      kind: 'secret',
      fields: { name: 'API', value: 'v1', notes: '', tags: [], expiresAt: null, allowedHosts: [] },
    });
    await client.lock();
    await expect(client.unlock('nope')).rejects.toMatchObject({
      code: 'wrong_passphrase',
      message: expect.stringMatching(/Wrong passphrase/),
    });
    await client.unlock('first passphrase');
    expect((await client.list()).map((s) => s.name)).toEqual(['API']);
    expect(events.map((e) => e.type)).toEqual(['unlocked', 'items-changed', 'locked', 'unlocked']);
  });

  it('NFKC: the same passphrase in composed and decomposed form unlocks', async () => {
    const client = createLocalVaultClient(inProcessKdf, new VaultDb(uniqueDbName()));
    await client.create('caf\u00e9 crème', FAST_KDF);
    await client.lock();
    await client.unlock('cafe\u0301 cre\u0300me');
    expect((await client.status()).state).toBe('unlocked');
  });

  it('changePassphrase with a new KDF; backup export/import through passphrases; measureKdf', async () => {
    const client = createLocalVaultClient(inProcessKdf, new VaultDb(uniqueDbName()));
    await client.create('old', FAST_KDF);
    await client.save({
      kind: 'secret',
      fields: { name: 'k', value: 'secret-value', notes: '', tags: [], expiresAt: null, allowedHosts: [] },
    });
    await expect(client.changePassphrase('wrong', 'new', FAST_KDF)).rejects.toMatchObject({ code: 'wrong_passphrase' });
    const argon = { algorithm: 'argon2id' as const, memoryKiB: 16384, iterations: 2, parallelism: 1 };
    await client.changePassphrase('old', 'new', argon);
    await client.lock();
    await expect(client.unlock('old')).rejects.toMatchObject({ code: 'wrong_passphrase' });
    await client.unlock('new');
    expect((await client.status()).kdf).toEqual(argon);

    const file = await client.exportBackup('backup pass');
    await expect(client.importBackup(file, 'bad')).rejects.toMatchObject({ code: 'wrong_passphrase' });
    await expect(client.importBackup(new Uint8Array([1, 2, 3]), 'backup pass')).rejects.toMatchObject({
      code: 'format_invalid',
    });
    // The same items are already here: nothing is added or replaced.
    expect(await client.importBackup(file, 'backup pass')).toMatchObject({ added: 0, replaced: 0, unchanged: 1 });
    expect(await client.measureKdf(FAST_KDF)).toBeGreaterThan(0);
  });

  it('auto-locks the page-held key after the idle time', async () => {
    const client = createLocalVaultClient(inProcessKdf, new VaultDb(uniqueDbName()));
    await client.create('pw', FAST_KDF);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await client.setSettings({ autoLockSeconds: 6 });
    const locked = new Promise<void>((resolve) => client.subscribe((e) => e.type === 'locked' && resolve()));
    await vi.advanceTimersByTimeAsync(6_100);
    await locked;
    expect((await client.status()).state).toBe('locked');
  });
});
