import { render } from 'preact';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { VaultApp } from '../../../components/app/vault-app';
import { deriveKey } from '../../../lib/crypto/kdf';
import { DEFAULT_PBKDF2 } from '../../../lib/crypto/kdf-params';
import type { KdfRunner } from '../../../lib/crypto/kdf-runner';
import type { VaultClient } from '../../../lib/vault/client';
import { VaultDb } from '../../../lib/vault/db';
import { createLocalVaultClient } from '../../../lib/web-vault/local-client';
import { waitFor as waitForIn } from './wait-for';

// The real web-vault client on fake-indexeddb; the KDF runs in-thread with the cheapest allowed parameters.
const directKdf: KdfRunner = { derive: (passphrase, salt, params) => deriveKey(passphrase, salt, params) };
const PASS = 'orbit-lantern-velvet-42';

let root: HTMLElement;
let client: VaultClient;
let dbCount = 0;

const waitFor = <T,>(find: () => T | null | undefined | false, what: string, timeoutMs?: number): Promise<T> =>
  waitForIn(() => root, find, what, timeoutMs);

function byLabel(text: string): HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement | null {
  const label = [...root.querySelectorAll('label')].find((l) => l.textContent?.trim() === text);
  if (label?.htmlFor) return root.ownerDocument.getElementById(label.htmlFor) as HTMLInputElement | null;
  return root.querySelector<HTMLInputElement>(`[aria-label="${text}"]`);
}

function button(name: string): HTMLButtonElement | null {
  return (
    [...root.querySelectorAll('button')].find(
      (b) => (b.getAttribute('aria-label') ?? b.textContent?.trim()) === name,
    ) ?? null
  );
}

function alerts(): string[] {
  return [...root.querySelectorAll('[role="alert"]')].map((a) => a.textContent ?? '');
}

async function fill(label: string, value: string): Promise<void> {
  const el = await waitFor(() => byLabel(label), `field "${label}"`);
  el.value = value;
  el.dispatchEvent(new Event('input', { bubbles: true }));
}

async function click(name: string): Promise<void> {
  const b = await waitFor(() => {
    const found = button(name);
    return found && !found.disabled ? found : null;
  }, `button "${name}"`);
  b.click();
}

beforeEach(() => {
  root = document.createElement('div');
  document.body.append(root);
  client = createLocalVaultClient(directKdf, new VaultDb(`components-test-${Date.now()}-${dbCount++}`));
  render(<VaultApp client={client} title="Clawkeep web vault" defaultKdf={DEFAULT_PBKDF2} />, root);
});

afterEach(() => {
  render(null, root);
  root.remove();
  vi.restoreAllMocks();
});

async function createVault(): Promise<void> {
  await fill('Passphrase', PASS);
  await fill('Repeat passphrase', PASS);
  await click('Create vault');
  await waitFor(() => button('Add secret'), 'the unlocked vault');
}

describe('VaultApp with the local client', () => {
  it('creates a vault, refusing mismatched passphrases first', async () => {
    await waitFor(() => root.textContent?.includes('Create your vault'), 'the create screen');
    expect(root.textContent).toContain('without one, a forgotten passphrase means the data is lost');
    await fill('Passphrase', PASS);
    await fill('Repeat passphrase', 'something else');
    await click('Create vault');
    await waitFor(() => alerts().includes('The passphrases do not match.'), 'the mismatch alert');
    await createVault();
    expect((await client.status()).state).toBe('unlocked');
    expect(button('Lock now')).toBeTruthy();
  }, 20_000);

  it('adds a secret, shows it masked, reveals and copies it, searches and deletes it', async () => {
    await createVault();
    await click('Add secret');
    await fill('Name', 'Stripe live key');
    await fill('Value', 'sk_live_UNIQUE');
    await fill('Tags (comma-separated)', 'payments, prod');
    await click('Save');
    await waitFor(() => root.querySelector('#detail-title')?.textContent === 'Stripe live key', 'the detail view');
    expect(root.querySelector('.item-pane')?.textContent).not.toContain('sk_live_UNIQUE');
    expect(root.querySelector('.item-list')?.textContent).toContain('payments');

    await click('Reveal');
    await waitFor(() => root.textContent?.includes('sk_live_UNIQUE'), 'the revealed value');

    const writeText = vi.fn(async (_text: string) => undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText, readText: vi.fn() }, configurable: true });
    await click('Copy');
    await waitFor(() => root.textContent?.includes('Copied — clears in 30 s'), 'the copy notice');
    expect(writeText).toHaveBeenCalledWith('sk_live_UNIQUE');

    await fill('Search', 'nothing-like-this');
    await waitFor(() => root.textContent?.includes('Nothing matches'), 'an empty search');
    await fill('Search', 'payments');
    await waitFor(() => root.querySelector('.item-list')?.textContent?.includes('Stripe live key'), 'a tag search hit');

    await click('Delete');
    await click('Yes, delete');
    await waitFor(
      () => (root.querySelector('.item-list') ? null : root.textContent?.includes('Nothing matches')),
      'the item gone',
    );
    expect(await client.list()).toHaveLength(0);
  }, 20_000);

  it('rejects invalid agent-config JSON and saves provider keys', async () => {
    await createVault();
    await click('Add agent config');
    await fill('Name', 'research-bot');
    await fill('Model', 'claude-sonnet');
    await click('Add provider key');
    await fill('Provider key 1 variable', 'ANTHROPIC_API_KEY');
    await fill('Provider key 1 value', 'sk-ant-SECRET');
    await fill('JSON', '{not json');
    await click('Save');
    await waitFor(() => alerts().some((a) => a.startsWith('The JSON is not valid')), 'the JSON alert');
    await fill('JSON', '{"maxTokens": 4096}');
    await click('Save');
    await waitFor(() => root.querySelector('#detail-title')?.textContent === 'research-bot', 'the detail view');
    const [summary] = await client.list();
    const item = await client.get(summary!.id);
    expect(item.kind === 'agentConfig' && item.fields.providerKeys).toEqual([
      { key: 'ANTHROPIC_API_KEY', value: 'sk-ant-SECRET' },
    ]);
  }, 20_000);

  it('a vault larger than its first screen: the whole list sorted by name after unlock; search reaches every item', async () => {
    const count = 150; // more than FIRST_SCREEN_ITEMS (use-item-search.ts)
    const pad = (n: number) => `Bulk ${String(n).padStart(3, '0')}`;
    await createVault();
    await client.importItems(
      Array.from({ length: count }, (_, i) => ({
        name: pad(count - i),
        value: 'v',
        notes: '',
        tags: [],
        expiresAt: null,
        allowedHosts: [],
      })),
    );
    await click('Lock now');
    await fill('Passphrase', PASS);
    await click('Unlock');
    const rows = () => [...root.querySelectorAll('ul[aria-label="Items"] > li')];
    await waitFor(
      () => rows()[0]?.getAttribute('aria-setsize') === String(count) && !root.querySelector('[aria-busy="true"]'),
      'the whole list',
    );
    expect(rows()[0]!.textContent).toContain(pad(1));
    await fill('Search', pad(count));
    await waitFor(() => rows().length === 1 && rows()[0]!.textContent?.includes(pad(count)), 'the last item found');
    (rows()[0]!.querySelector('button') as HTMLButtonElement).click();
    await waitFor(() => root.querySelector('#detail-title')?.textContent === pad(count), 'the last item opened');
  }, 30_000);

  it('locks, shows the wrong-passphrase error, then unlocks', async () => {
    await createVault();
    await click('Lock now');
    await waitFor(() => root.textContent?.includes('Vault locked'), 'the unlock screen');
    await fill('Passphrase', 'not the passphrase');
    await click('Unlock');
    await waitFor(() => alerts().some((a) => a.includes('Wrong passphrase')), 'the wrong-passphrase alert');
    expect((await client.status()).state).toBe('locked');
    await fill('Passphrase', PASS);
    await click('Unlock');
    await waitFor(() => button('Add secret'), 'the unlocked vault');
  }, 20_000);

  it('switches to the unlock screen when the client locks from elsewhere', async () => {
    await createVault();
    await client.lock();
    await waitFor(() => root.textContent?.includes('Vault locked'), 'the unlock screen');
    expect(button('Add secret')).toBeNull();
  }, 20_000);

  it('saves a custom auto-lock of 0.1 minutes and summarises it', async () => {
    await createVault();
    await click('Settings');
    await waitFor(() => root.textContent?.includes('Locks after 15 minutes idle'), 'the default summary');
    await fill('Custom (minutes)', '0.1');
    await waitFor(
      () => root.textContent?.includes('Locks after 0.1 minutes idle and whenever the browser closes'),
      'the custom summary',
    );
    expect((await client.status()).settings.autoLockSeconds).toBe(6);
  }, 20_000);
});
