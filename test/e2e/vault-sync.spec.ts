import path from 'node:path';
import Database from 'better-sqlite3';
import { expect, test } from './hub';
import { hubFiles, setUpVaultAndEnroll } from './hub';
import { expectNoneOf } from './helpers';

const SECRET = { name: 'GitHub token', value: 'ghp_sync_e2e_41d7a9', notes: 'ci only', tags: 'dev' };

test('an enrolled extension syncs its vault to the hub as ciphertext; an edit is pushed as a new revision', async ({
  openVault,
  hub,
}) => {
  const vault = await openVault();
  await setUpVaultAndEnroll(vault, hub, [SECRET]);
  const status = vault.getByRole('status', { name: 'Sync status' });
  await expect(status).toContainText('Synced', { timeout: 20_000 });
  const db = new Database(path.join(hub.dataDir, 'hub.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const rows = () =>
      db.prepare('SELECT item_id, revision, envelope FROM vault_items').all() as {
        item_id: string;
        revision: number;
        envelope: Buffer | null;
      }[];
    await expect.poll(() => rows().length, { timeout: 20_000 }).toBeGreaterThanOrEqual(1);
    const first = rows();

    // Edit the value: the next sync pushes a higher revision of the same item.
    await vault.getByRole('tab', { name: 'Items' }).click();
    await vault
      .getByRole('list', { name: 'Items' })
      .getByRole('button', { name: new RegExp(SECRET.name) })
      .click();
    await vault.getByRole('button', { name: 'Edit' }).click();
    await vault.getByLabel('Value').fill(`${SECRET.value}-rotated`);
    await vault.getByRole('button', { name: 'Save' }).click();
    await vault.getByRole('button', { name: 'Sync now' }).click();
    await expect
      .poll(() => Math.max(...rows().map((r) => r.revision)), { timeout: 20_000 })
      .toBeGreaterThan(Math.max(...first.map((r) => r.revision)));
    await expect(status).not.toContainText('waiting');
    const head = db.prepare('SELECT counter, statement FROM vault_heads').get() as {
      counter: number;
      statement: string;
    };
    expect(head.counter).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(head.statement).statement.items_hash).toMatch(/^[0-9a-f]{64}$/);
  } finally {
    db.close();
  }
  // The hub's files hold ciphertext only.
  const text = [...hubFiles(hub).values()].map((b) => b.toString('latin1')).join('\n');
  expectNoneOf(text, [SECRET.value, `${SECRET.value}-rotated`, SECRET.name, SECRET.notes]);
});
