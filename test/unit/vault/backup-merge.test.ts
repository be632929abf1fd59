import { beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from '../../../lib/bytes';
import { RESERVED_TAG_PREFIX } from '../../../lib/storage/vault-tags';
import { mergeOutcome } from '../../../lib/vault/backup-merge';
import { VaultDb } from '../../../lib/vault/db';
import { VaultService } from '../../../lib/vault/vault-service';
import type { SecretFields, SecretItem } from '../../../lib/vault/types';
import { dumpDatabase, FAST_KDF, kekFor, uniqueDbName } from './helpers';

const fields = (name: string, value: string): SecretFields => ({
  name,
  value,
  notes: '',
  tags: [],
  expiresAt: null,
  allowedHosts: [],
});

describe('backup import merges by revision (issue 15)', () => {
  let name: string;
  let now: number;
  let service: VaultService;
  const backupSalt = randomBytes(16);

  beforeEach(async () => {
    name = uniqueDbName();
    now = Date.parse('2026-11-23T12:00:00Z');
    service = new VaultService(new VaultDb(name), () => now);
    const salt = randomBytes(16);
    await service.create({ kdf: FAST_KDF, salt, kek: await kekFor('vault-pass', salt) });
  });

  const exportNow = async () =>
    service.exportBackup({ kdf: FAST_KDF, salt: backupSalt, kek: await kekFor('backup-pass', backupSalt) });
  const importFile = async (file: Uint8Array) =>
    service.importBackup({ file, kek: await kekFor('backup-pass', backupSalt) });

  it('an item edited since the backup keeps its newer revision; deleted items come back; the report says which', async () => {
    const edited = await service.save({ draft: { kind: 'secret', fields: fields('GitHub token', 'ghp-OLD') } });
    const same = await service.save({ draft: { kind: 'secret', fields: fields('Stripe', 'sk-same') } });
    const gone = await service.save({ draft: { kind: 'secret', fields: fields('Deleted later', 'v') } });
    const backup = await exportNow();

    now += 60_000;
    await service.save({ draft: { id: edited.id, kind: 'secret', fields: fields('GitHub token', 'ghp-NEW') } });
    await service.remove({ id: gone.id });

    const report = await importFile(backup);
    expect(report).toMatchObject({ added: 1, keptNewer: 1, replaced: 0, unchanged: 1, keptConflict: 0 });
    expect(report.items).toEqual(
      expect.arrayContaining([
        { id: edited.id, name: 'GitHub token', kind: 'secret', outcome: 'kept-newer' },
        { id: same.id, name: 'Stripe', kind: 'secret', outcome: 'unchanged' },
        { id: gone.id, name: 'Deleted later', kind: 'secret', outcome: 'added' },
      ]),
    );
    const kept = (await service.get({ id: edited.id })) as SecretItem;
    expect(kept.fields.value).toBe('ghp-NEW');
    expect(kept.revision).toBe(2);
  });

  it('a backup with the newer revision replaces the older item here', async () => {
    const item = await service.save({ draft: { kind: 'secret', fields: fields('API', 'v1') } });
    const older = await exportNow();
    now += 1000;
    await service.save({ draft: { id: item.id, kind: 'secret', fields: fields('API', 'v2') } });
    const newer = await exportNow();

    // Another vault that has only the older state of the item (a device that missed the edit).
    const other = new VaultService(new VaultDb(uniqueDbName()), () => now);
    const salt = randomBytes(16);
    await other.create({ kdf: FAST_KDF, salt, kek: await kekFor('other-pass', salt) });
    const into = async (file: Uint8Array) => other.importBackup({ file, kek: await kekFor('backup-pass', backupSalt) });
    expect(await into(older)).toMatchObject({ added: 1 });
    expect(await into(newer)).toMatchObject({ added: 0, replaced: 1, keptNewer: 0, unchanged: 0 });
    expect(((await other.get({ id: item.id })) as SecretItem).fields.value).toBe('v2');
    expect((await other.get({ id: item.id })).revision).toBe(2);

    // Edited there since: the same backup no longer replaces it.
    await other.save({ draft: { id: item.id, kind: 'secret', fields: fields('API', 'v3-here') } });
    expect(await into(newer)).toMatchObject({ replaced: 0, keptNewer: 1 });
    expect(((await other.get({ id: item.id })) as SecretItem).fields.value).toBe('v3-here');
  });

  it('the outcome rule: revision first, then updatedAt, ties kept; kind mismatch kept', () => {
    const incoming: SecretItem = {
      id: 'a',
      kind: 'secret',
      revision: 3,
      createdAt: 0,
      updatedAt: 50,
      fields: fields('n', 'b'),
    };
    const local = { kind: 'secret' as const, revision: 3, updatedAt: 50, fields: fields('n', 'a') };
    expect(mergeOutcome(undefined, incoming)).toBe('added');
    expect(mergeOutcome({ ...local, fields: incoming.fields }, incoming)).toBe('unchanged');
    expect(mergeOutcome({ ...local, revision: 2 }, incoming)).toBe('replaced');
    expect(mergeOutcome({ ...local, revision: 4, updatedAt: 1 }, incoming)).toBe('kept-newer');
    expect(mergeOutcome({ ...local, updatedAt: 40 }, incoming)).toBe('replaced');
    expect(mergeOutcome({ ...local, updatedAt: 60 }, incoming)).toBe('kept-newer');
    expect(mergeOutcome(local, incoming)).toBe('kept-conflict');
    expect(
      mergeOutcome(
        {
          kind: 'agentConfig',
          revision: 1,
          updatedAt: 0,
          fields: { name: 'n', model: '', providerKeys: [], env: [], json: '' },
        },
        incoming,
      ),
    ).toBe('kept-conflict');
  });

  it('a damaged backup writes nothing, even after items were decided', async () => {
    await service.save({ draft: { kind: 'secret', fields: fields('A', '1') } });
    const file = await exportNow();
    await service.remove({ id: (await service.list())[0]!.id });
    const damaged = file.slice(0, file.length - 3);
    await expect(importFile(damaged)).rejects.toMatchObject({
      code: expect.stringMatching(/format_invalid|wrong_passphrase/),
    });
    expect(await service.list()).toHaveLength(0);
  });
});

describe('importItems (imports from other tools)', () => {
  let name: string;
  let service: VaultService;

  beforeEach(async () => {
    name = uniqueDbName();
    service = new VaultService(new VaultDb(name));
    const salt = randomBytes(16);
    await service.create({ kdf: FAST_KDF, salt, kek: await kekFor('vault-pass', salt) });
  });

  it('adds every item as a new secret, encrypted at rest', async () => {
    expect(
      await service.importItems({ items: [fields('A', 'import-value-1'), fields('B', 'import-value-2')] }),
    ).toEqual({
      added: 2,
    });
    expect((await service.list()).map((s) => [s.name, s.revision])).toEqual([
      ['A', 1],
      ['B', 1],
    ]);
    expect(await dumpDatabase(name)).not.toContain('import-value-1');
  });

  it('one bad item or one reserved clawkeep: tag writes nothing at all', async () => {
    await expect(service.importItems({ items: [fields('A', '1'), fields('', '2')] })).rejects.toMatchObject({
      code: 'item_invalid',
    });
    await expect(
      service.importItems({
        items: [fields('A', '1'), { ...fields('B', '2'), tags: [`${RESERVED_TAG_PREFIX}installations`] }],
      }),
    ).rejects.toMatchObject({ code: 'item_invalid', message: expect.stringMatching(/clawkeep: tag/) });
    await expect(service.importItems({ items: [] })).rejects.toMatchObject({ code: 'item_invalid' });
    expect(await service.list()).toEqual([]);
  });

  it('is refused while locked', async () => {
    await service.lock();
    await expect(service.importItems({ items: [fields('A', '1')] })).rejects.toMatchObject({ code: 'vault_locked' });
  });
});
