import { beforeEach, describe, expect, it } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { browser } from 'wxt/browser';
import { startBackgroundVault } from '../../../lib/ext/vault/background-vault';
import { decodeWire, encodeWire } from '../../../lib/ext/rpc/wire';
import { VAULT_RPC_CHANNEL } from '../../../lib/ext/vault/vault-api';

describe('background vault messaging', () => {
  beforeEach(() => fakeBrowser.reset());

  it('refuses requests that do not come from an extension page of ours', async () => {
    startBackgroundVault();
    // The fake browser delivers an empty sender: exactly what an untrusted context must not get through with.
    const response = await browser.runtime.sendMessage({ channel: VAULT_RPC_CHANNEL, method: 'status', args: null });
    expect(response).toEqual({
      ok: false,
      error: { code: 'forbidden', message: 'Only Clawkeep pages may use the vault.' },
    });
  });

  it('ignores messages on other channels', async () => {
    startBackgroundVault();
    await expect(browser.runtime.sendMessage({ channel: 'something-else' })).resolves.toBeUndefined();
  });

  it('bytes survive the JSON wire encoding, nested anywhere', () => {
    const value = {
      kek: Uint8Array.of(0, 1, 255),
      nested: [{ salt: new Uint8Array(16).fill(7) }],
      n: 3,
      s: 'x',
      z: null,
    };
    const wire = JSON.parse(JSON.stringify(encodeWire(value)));
    expect(decodeWire(wire)).toEqual(value);
  });
});
