import { beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from '../../../lib/bytes';
import { VaultDb } from '../../../lib/vault/db';
import { VaultService } from '../../../lib/vault/vault-service';
import type { ItemDraft } from '../../../lib/vault/types';
import { createdVault, dumpDatabase, FAST_KDF, kekFor, uniqueDbName } from './helpers';

const PASS = 'orbit-lantern-velvet-42';
const secretDraft: ItemDraft = {
  kind: 'secret',
  fields: {
    name: 'Stripe live key',
    value: 'sk_live_51Hxyz-UNIQUE-VALUE',
    notes: 'billing only',
    tags: ['payments'],
    expiresAt: null,
    allowedHosts: [],
  },
};
const configDraft: ItemDraft = {
  kind: 'agentConfig',
  fields: {
    name: 'research-bot',
    model: 'claude-sonnet',
    providerKeys: [{ key: 'ANTHROPIC_API_KEY', value: 'sk-ant-PROVIDER-SECRET' }],
    env: [{ key: 'REGION', value: 'eu-west-ENVVALUE' }],
    json: '{"maxTokens":4096}',
  },
};

describe('VaultService', () => {
  let name: string;
  let now: number;
  let service: VaultService;
  let salt: Uint8Array;

  beforeEach(async () => {
    now = Date.parse('2026-11-23T12:00:00Z');
    ({ name, service, salt } = await createdVault(PASS, () => now));
  });

  it('creates unlocked, locks, refuses reads while locked, unlocks with the right passphrase only', async () => {
    const saved = await service.save({ draft: secretDraft });
    expect((await service.status()).state).toBe('unlocked');
    await service.lock();
    expect((await service.status()).state).toBe('locked');
    await expect(service.list()).rejects.toMatchObject({ code: 'vault_locked' });
    await expect(service.unlock({ kek: await kekFor('wrong passphrase', salt) })).rejects.toMatchObject({
      code: 'wrong_passphrase',
    });
    expect((await service.status()).state).toBe('locked');
    await service.unlock({ kek: await kekFor(PASS, salt) });
    expect(await service.get({ id: saved.id })).toEqual(saved);
  });

  it('refuses to create a second vault over the first', async () => {
    await expect(service.create({ kdf: FAST_KDF, salt, kek: await kekFor(PASS, salt) })).rejects.toMatchObject({
      code: 'vault_exists',
    });
  });

  it('create, read, update, delete, with revisions and timestamps', async () => {
    const a = await service.save({ draft: secretDraft });
    expect(a.revision).toBe(1);
    now += 1000;
    const b = await service.save({
      draft: { ...secretDraft, id: a.id, fields: { ...secretDraft.fields, value: 'rotated' } },
    });
    expect(b).toMatchObject({ id: a.id, revision: 2, createdAt: a.createdAt, updatedAt: a.updatedAt + 1000 });
    expect((await service.get({ id: a.id })).fields).toMatchObject({ value: 'rotated' });
    await service.remove({ id: a.id });
    await expect(service.get({ id: a.id })).rejects.toMatchObject({ code: 'item_not_found' });
    await expect(service.save({ draft: { ...secretDraft, id: a.id } })).rejects.toMatchObject({
      code: 'item_not_found',
    });
  });

  it('validates drafts with clear, typed errors', async () => {
    await expect(
      service.save({ draft: { ...secretDraft, fields: { ...secretDraft.fields, name: '  ' } } }),
    ).rejects.toMatchObject({ code: 'item_invalid', message: 'Name is required.' });
    await expect(
      service.save({ draft: { ...configDraft, fields: { ...configDraft.fields, json: '{nope' } } }),
    ).rejects.toMatchObject({ code: 'item_invalid' });
    await expect(
      service.save({ draft: { ...configDraft, fields: { ...configDraft.fields, env: [{ key: '1BAD', value: '' }] } } }),
    ).rejects.toMatchObject({ code: 'item_invalid' });
  });

  it('searches decrypted names and tags in memory', async () => {
    await service.save({ draft: secretDraft });
    await service.save({ draft: configDraft });
    expect((await service.search({ query: 'stripe' })).map((s) => s.name)).toEqual(['Stripe live key']);
    expect((await service.search({ query: 'PAYMENTS' })).map((s) => s.name)).toEqual(['Stripe live key']);
    expect((await service.search({ query: 'bot' })).map((s) => s.kind)).toEqual(['agentConfig']);
    expect(await service.search({ query: '' })).toHaveLength(2);
    expect(await service.search({ query: 'nothing-matches' })).toHaveLength(0);
  });

  it('marks expiring and expired secrets', async () => {
    const at = (days: number) => new Date(now + days * 86_400_000).toISOString();
    for (const [name, expiresAt] of [
      ['soon', at(2)],
      ['later', at(30)],
      ['past', at(-1)],
      ['never', null],
    ] as const) {
      await service.save({ draft: { kind: 'secret', fields: { ...secretDraft.fields, name, expiresAt } } });
    }
    const byName = Object.fromEntries((await service.list()).map((s) => [s.name, s.expiry]));
    expect(byName).toEqual({ soon: 'expiring', later: 'valid', past: 'expired', never: 'none' });
  });

  it('stores no plaintext: no name, value, note, tag, env value or passphrase in any IndexedDB record', async () => {
    await service.save({ draft: secretDraft });
    await service.save({ draft: configDraft });
    const raw = await dumpDatabase(name);
    expect(raw.length).toBeGreaterThan(100);
    for (const needle of [
      'Stripe',
      'sk_live_51Hxyz-UNIQUE-VALUE',
      'billing only',
      'payments',
      'research-bot',
      'claude-sonnet',
      'sk-ant-PROVIDER-SECRET',
      'ANTHROPIC_API_KEY',
      'eu-west-ENVVALUE',
      'maxTokens',
      PASS,
    ]) {
      expect(raw).not.toContain(needle);
    }
  });

  it('changing the passphrase rewraps the key only: items stay byte-identical, old passphrase stops working', async () => {
    const item = await service.save({ draft: secretDraft });
    const db = new VaultDb(name);
    const before = await db.items.get(item.id);
    const newSalt = randomBytes(16);
    const argon = { algorithm: 'argon2id' as const, memoryKiB: 16384, iterations: 2, parallelism: 1 };
    await service.rewrap({
      currentKek: await kekFor(PASS, salt),
      kdf: argon,
      salt: newSalt,
      newKek: await kekFor('new-passphrase', newSalt, argon),
    });
    expect(await db.items.get(item.id)).toEqual(before);
    await service.lock();
    await expect(service.unlock({ kek: await kekFor(PASS, salt) })).rejects.toMatchObject({ code: 'wrong_passphrase' });
    await service.unlock({ kek: await kekFor('new-passphrase', newSalt, argon) });
    expect((await service.status()).header?.kdf).toEqual(argon);
    expect((await service.get({ id: item.id })).fields).toEqual(item.fields);
    await expect(
      service.rewrap({ currentKek: await kekFor(PASS, salt), kdf: FAST_KDF, salt, newKek: await kekFor('x', salt) }),
    ).rejects.toMatchObject({ code: 'wrong_passphrase' });
  });

  it('backup: export -> wipe -> import restores identical items; wrong passphrase or damage changes nothing', async () => {
    await service.save({ draft: secretDraft });
    await service.save({ draft: configDraft });
    const original = await Promise.all((await service.list()).map((s) => service.get({ id: s.id })));
    const backupSalt = randomBytes(16);
    const file = await service.exportBackup({
      kdf: FAST_KDF,
      salt: backupSalt,
      kek: await kekFor('backup-pass', backupSalt),
    });
    expect(Buffer.from(file).toString('latin1')).not.toContain('sk_live');

    for (const s of await service.list()) await service.remove({ id: s.id });
    expect(await service.list()).toHaveLength(0);

    await expect(service.importBackup({ file, kek: await kekFor('not-it', backupSalt) })).rejects.toMatchObject({
      code: 'wrong_passphrase',
    });
    const damaged = file.slice();
    damaged[damaged.length - 5]! ^= 1;
    await expect(
      service.importBackup({ file: damaged, kek: await kekFor('backup-pass', backupSalt) }),
    ).rejects.toMatchObject({ code: 'wrong_passphrase' });
    expect(await service.list()).toHaveLength(0);

    expect(await service.importBackup({ file, kek: await kekFor('backup-pass', backupSalt) })).toMatchObject({
      added: 2,
      replaced: 0,
      keptNewer: 0,
      unchanged: 0,
    });
    const restored = await Promise.all((await service.list()).map((s) => service.get({ id: s.id })));
    expect(restored).toEqual(original);
  });

  it('a fresh vault on another device imports the backup under its own key', async () => {
    await service.save({ draft: configDraft });
    const backupSalt = randomBytes(16);
    const file = await service.exportBackup({
      kdf: FAST_KDF,
      salt: backupSalt,
      kek: await kekFor('backup-pass', backupSalt),
    });
    const other = new VaultService(new VaultDb(uniqueDbName()));
    const otherSalt = randomBytes(16);
    await other.create({ kdf: FAST_KDF, salt: otherSalt, kek: await kekFor('other', otherSalt) });
    await other.importBackup({ file, kek: await kekFor('backup-pass', backupSalt) });
    expect((await other.list()).map((s) => s.name)).toEqual(['research-bot']);
  });

  it('wipes KEKs it is handed', async () => {
    const kek = await kekFor(PASS, salt);
    await service.lock();
    await service.unlock({ kek });
    expect(kek.every((b) => b === 0)).toBe(true);
  });

  it('a ciphertext moved onto another record fails to decrypt with a typed error', async () => {
    const a = await service.save({ draft: secretDraft });
    const b = await service.save({ draft: { ...secretDraft, fields: { ...secretDraft.fields, name: 'other' } } });
    const db = new VaultDb(name);
    const recA = (await db.items.get(a.id))!;
    await db.items.update(b.id, { envelope: recA.envelope });
    service.invalidateCache();
    await expect(service.get({ id: b.id })).rejects.toMatchObject({ code: 'decrypt_failed' });
  });
});
