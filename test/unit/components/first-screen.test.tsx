import { render } from 'preact';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VaultClientContext } from '../../../components/app/client-context';
import { PopupItems } from '../../../components/items/popup-items';
import { deriveKey } from '../../../lib/crypto/kdf';
import { DEFAULT_PBKDF2 } from '../../../lib/crypto/kdf-params';
import type { KdfRunner } from '../../../lib/crypto/kdf-runner';
import type { VaultClient } from '../../../lib/vault/client';
import { VaultDb } from '../../../lib/vault/db';
import { FIRST_SCREEN_ITEMS } from '../../../lib/vault/item-search';
import { createLocalVaultClient } from '../../../lib/web-vault/local-client';
import { waitFor as waitForIn } from './wait-for';

// The first screen while the whole list decrypts (use-item-search.ts), on the real web-vault client. The whole
// list's answer is held back here (the real answer, released when the test says), so what the page shows before it
// arrives can be checked: the most recently changed items, said to be partial; a search waits for every item.

const PASS = 'orbit-lantern-velvet-42';
const COUNT = FIRST_SCREEN_ITEMS * 2;
const directKdf: KdfRunner = { derive: (passphrase, salt, params) => deriveKey(passphrase, salt, params) };
const pad = (n: number) => `Bulk ${String(n).padStart(3, '0')}`;

let root: HTMLElement;
let release: () => void;
const waitFor = <T,>(find: () => T | null | undefined | false, what: string): Promise<T> =>
  waitForIn(() => root, find, what);
const rows = () => [...root.querySelectorAll('ul[aria-label="Items"] > li')];

beforeEach(async () => {
  const real = createLocalVaultClient(directKdf, new VaultDb(`first-screen-${Date.now()}-${Math.random()}`));
  await real.create(PASS, DEFAULT_PBKDF2);
  // Saved in name order, a few ms apart: the last names are the most recently changed.
  for (let n = 1; n <= COUNT; n++) {
    await real.save({
      kind: 'secret',
      fields: { name: pad(n), value: 'v', notes: '', tags: [], expiresAt: null, allowedHosts: [] },
    });
    await new Promise((r) => setTimeout(r, 2));
  }
  const held = new Promise<void>((resolve) => (release = resolve));
  const client: VaultClient = Object.assign(Object.create(real) as VaultClient, {
    list: async () => {
      await held;
      return real.list();
    },
  });
  root = document.createElement('div');
  document.body.append(root);
  render(
    <VaultClientContext.Provider value={client}>
      <PopupItems />
    </VaultClientContext.Provider>,
    root,
  );
}, 30_000);

afterEach(() => {
  release();
  render(null, root);
  root.remove();
});

describe('the first screen of items', () => {
  it('shows the newest items at once, says the list is loading, then shows every item by name', async () => {
    await waitFor(() => root.querySelector('[role="status"]')?.textContent?.includes('loading all'), 'the status');
    expect(root.querySelector('ul[aria-label="Items"]')?.getAttribute('aria-busy')).toBe('true');
    expect(rows()[0]!.getAttribute('aria-setsize')).toBe(String(FIRST_SCREEN_ITEMS));
    expect(rows()[0]!.textContent).toContain(pad(COUNT)); // newest first

    release();
    await waitFor(() => rows()[0]?.getAttribute('aria-setsize') === String(COUNT), 'the whole list');
    expect(rows()[0]!.textContent).toContain(pad(1));
    expect(root.querySelector('[role="status"]')).toBeNull();
  });

  it('a search typed before the whole list arrived waits for it, then covers every item', async () => {
    await waitFor(() => root.querySelector('[aria-busy="true"]'), 'the first screen');
    const search = root.querySelector<HTMLInputElement>('input[type="search"]')!;
    search.value = pad(1); // the oldest item: not on the first screen
    search.dispatchEvent(new Event('input', { bubbles: true }));
    await waitFor(() => root.textContent?.includes('Loading…'), 'the search waiting');
    expect(rows()).toHaveLength(0);
    release();
    await waitFor(() => rows().length === 1 && rows()[0]!.textContent?.includes(pad(1)), 'the oldest item found');
  });
});
