import { expect, type Page } from '@playwright/test';

export const PASSPHRASE = 'tangerine-orbit-velvet-42';

const SHOTS = process.env.CLAWKEEP_SCREENSHOTS;

/** A full-page screenshot into $CLAWKEEP_SCREENSHOTS (none when it is unset), for looking at a layout by eye. */
export async function shot(page: Page, name: string): Promise<void> {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

export interface SecretInput {
  name: string;
  value: string;
  notes: string;
  tags: string;
}

export interface AgentConfigInput {
  name: string;
  model: string;
  providerKey: { key: string; value: string };
  env: { key: string; value: string };
}

/**
 * How a test's vault derives its key. 'defaults': what the form proposes (Argon2id 64 MiB, 3 passes), for the tests
 * whose subject is creating, locking and unlocking a vault. 'floor': the lowest Argon2id the vault accepts
 * (KDF_LIMITS: 16 MiB, 2 passes, 1 lane), chosen in the form's "Key derivation (advanced)" fields as a person could,
 * for tests whose subject is something else: at 64 MiB each derivation costs seconds of CPU, and under CI load a
 * few of them in one test were most of its time.
 */
export type TestKdf = 'defaults' | 'floor';

/** First run: both passphrase fields, then Enter (keyboard first). Waits until the vault reports unlocked. */
export async function createVault(page: Page, passphrase = PASSPHRASE, kdf: TestKdf = 'defaults'): Promise<void> {
  if (kdf === 'floor') await chooseFloorKdf(page);
  await page.getByLabel('Passphrase', { exact: true }).fill(passphrase);
  await page.getByLabel('Repeat passphrase').fill(passphrase);
  await page.getByLabel('Repeat passphrase').press('Enter');
}

/** Opens "Key derivation (advanced)" in the create form and enters the floor of KDF_LIMITS.argon2id. */
async function chooseFloorKdf(page: Page): Promise<void> {
  await page.getByText('Key derivation (advanced)').click();
  await expect(page.getByLabel('Algorithm')).toHaveValue('argon2id');
  await page.getByLabel('Memory (MiB)').fill('16');
  await page.getByLabel('Iterations').fill('2');
  await page.getByLabel('Parallelism').fill('1');
}

export async function unlock(page: Page, passphrase: string): Promise<void> {
  await page.getByLabel('Passphrase', { exact: true }).fill(passphrase);
  await page.getByLabel('Passphrase', { exact: true }).press('Enter');
}

export async function addSecret(page: Page, s: SecretInput): Promise<void> {
  await page.getByRole('button', { name: 'Add secret' }).click();
  await page.getByLabel('Name').fill(s.name);
  await page.getByLabel('Value').fill(s.value);
  await page.getByLabel('Notes').fill(s.notes);
  await page.getByLabel('Tags (comma-separated)').fill(s.tags);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(
    page.getByRole('list', { name: 'Items' }).getByRole('button', { name: new RegExp(s.name) }),
  ).toBeVisible();
}

export async function addAgentConfig(page: Page, c: AgentConfigInput): Promise<void> {
  await page.getByRole('button', { name: 'Add agent config' }).click();
  await page.getByLabel('Name').fill(c.name);
  await page.getByLabel('Model').fill(c.model);
  await page.getByRole('button', { name: 'Add provider key' }).click();
  await page.getByLabel('Provider key 1 variable').fill(c.providerKey.key);
  await page.getByLabel('Provider key 1 value').fill(c.providerKey.value);
  await page.getByRole('button', { name: 'Add env var' }).click();
  await page.getByLabel('Env var 1 variable').fill(c.env.key);
  await page.getByLabel('Env var 1 value').fill(c.env.value);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(
    page.getByRole('list', { name: 'Items' }).getByRole('button', { name: new RegExp(c.name) }),
  ).toBeVisible();
}

/** Opens an item from the list and reveals its values; asserts what a user would read. */
export async function expectSecretIntact(page: Page, s: SecretInput): Promise<void> {
  await page
    .getByRole('list', { name: 'Items' })
    .getByRole('button', { name: new RegExp(s.name) })
    .click();
  await page.getByRole('button', { name: 'Reveal' }).click();
  await expect(page.getByText(s.value, { exact: true })).toBeVisible();
  await expect(page.getByText(s.notes, { exact: true })).toBeVisible();
}

export async function expectAgentConfigIntact(page: Page, c: AgentConfigInput): Promise<void> {
  await page
    .getByRole('list', { name: 'Items' })
    .getByRole('button', { name: new RegExp(c.name) })
    .click();
  await expect(page.getByText(c.model, { exact: true })).toBeVisible();
  await page.getByRole('button', { name: `Reveal ${c.providerKey.key}` }).click();
  await expect(page.getByText(c.providerKey.value, { exact: true })).toBeVisible();
  await page.getByRole('button', { name: `Reveal ${c.env.key}` }).click();
  await expect(page.getByText(c.env.value, { exact: true })).toBeVisible();
}

/**
 * Every record of every IndexedDB database of the page's origin, rendered as text: byte arrays as latin1 (so UTF-8
 * plaintext would show up verbatim) and as UTF-16 code units, everything else as JSON.
 */
export async function dumpIndexedDb(page: Page): Promise<{ databases: string[]; records: number; text: string }> {
  return page.evaluate(async () => {
    const toText = (v: unknown): unknown => {
      if (v instanceof Uint8Array || v instanceof ArrayBuffer) {
        const bytes = v instanceof Uint8Array ? v : new Uint8Array(v);
        let latin1 = '';
        for (const b of bytes) latin1 += String.fromCharCode(b);
        let utf16 = '';
        for (let i = 0; i + 1 < bytes.length; i += 2) utf16 += String.fromCharCode(bytes[i]! | (bytes[i + 1]! << 8));
        return `${latin1}\n${utf16}`;
      }
      return v;
    };
    const open = (name: string) =>
      new Promise<IDBDatabase>((resolve, reject) => {
        const req = indexedDB.open(name);
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
    const dbs = await indexedDB.databases();
    const parts: string[] = [];
    let records = 0;
    for (const info of dbs) {
      const db = await open(info.name!);
      for (const store of Array.from(db.objectStoreNames)) {
        const rows = await new Promise<unknown[]>((resolve, reject) => {
          const req = db.transaction(store).objectStore(store).getAll();
          req.onsuccess = () => resolve(req.result);
          req.onerror = () => reject(req.error);
        });
        records += rows.length;
        for (const row of rows) parts.push(JSON.stringify(row, (_k, v) => toText(v)));
      }
      db.close();
    }
    return { databases: dbs.map((d) => d.name!), records, text: parts.join('\n') };
  });
}

export function expectNoneOf(text: string, needles: string[]): void {
  for (const needle of needles)
    expect(text.includes(needle), `found "${needle.slice(0, 4)}…" in raw storage`).toBe(false);
}
