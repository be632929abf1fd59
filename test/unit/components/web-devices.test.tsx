import { render } from 'preact';
import { describe, expect, it } from 'vitest';
import { WebDevices } from '../../../components/agents/web-devices';
import { WEB_DEVICE } from '../../../lib/storage/persisted-keys';
import type { VaultService } from '../../../lib/vault/vault-service';
import { createPageDeviceApi } from '../../../lib/web-vault/page-devices';
import { freshRootPerTest } from './mount-root';

// The web vault's Devices tab reads the joined-device record (WEB_DEVICE in lib/storage/persisted-keys.ts). A record
// this version cannot read is shown with its typed error, not treated as "never joined" (issue 14 step 4).
let root: HTMLElement;
freshRootPerTest((r) => (root = r));

function apiWith(stored: string | null) {
  const strings = new Map<string, string>(stored === null ? [] : [[WEB_DEVICE.key, stored]]);
  const store = {
    getItem: (k: string) => strings.get(k) ?? null,
    setItem: (k: string, val: string) => void strings.set(k, val),
  };
  return createPageDeviceApi({ service: {} as VaultService, join: async () => {}, kdf: {} as never, store });
}

describe('Devices tab (web vault): the joined-device record', () => {
  it('a vault that never joined says so', () => {
    render(<WebDevices api={apiWith(null)} />, root);
    expect(root.textContent).toContain('not joined to an account');
  });

  it('a record from a newer Clawkeep is shown as that error, naming the key', () => {
    render(<WebDevices api={apiWith(JSON.stringify({ v: 2, hub: 'http://127.0.0.1:8787' }))} />, root);
    expect(root.textContent).toContain(WEB_DEVICE.key);
    expect(root.textContent).toContain('newer Clawkeep');
    expect(root.textContent).not.toContain('not joined to an account');
  });
});
