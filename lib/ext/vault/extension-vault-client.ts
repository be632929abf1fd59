import { browser } from 'wxt/browser';
import type { KdfRunner } from '../../crypto/kdf-runner';
import { ClawkeepError, errorFromJSON } from '../../errors';
import type { VaultBackend } from '../../vault/backend';
import type { VaultClient } from '../../vault/client';
import { VaultEvents } from '../../vault/events';
import { PassphraseVaultClient } from '../../vault/passphrase-client';
import {
  decodeWire,
  encodeWire,
  isVaultEventMessage,
  VAULT_METHODS,
  VAULT_RPC_CHANNEL,
  type VaultMethod,
  type VaultRpcResponse,
} from '../rpc/rpc-protocol';

async function call(method: VaultMethod, args: unknown): Promise<unknown> {
  let response: VaultRpcResponse | undefined;
  try {
    response = await browser.runtime.sendMessage({ channel: VAULT_RPC_CHANNEL, method, args: encodeWire(args ?? null) });
  } catch (err) {
    throw new ClawkeepError('rpc_failed', 'Could not reach the Clawkeep background. Reload the extension and try again.', { cause: err });
  }
  if (!response) throw new ClawkeepError('rpc_failed', 'The Clawkeep background did not answer.');
  if (!response.ok) throw errorFromJSON(response.error);
  return decodeWire(response.value);
}

/** A VaultBackend whose every method runs in the background, where the vault key lives. */
function backgroundBackend(): VaultBackend {
  const backend = {} as Record<VaultMethod, (args?: unknown) => Promise<unknown>>;
  for (const method of VAULT_METHODS) backend[method] = (args?: unknown) => call(method, args);
  return backend as unknown as VaultBackend;
}

/** Lock / unlock / change events broadcast by the background reach every open extension page. */
function backgroundEvents(): VaultEvents {
  const events = new VaultEvents();
  browser.runtime.onMessage.addListener((message: unknown) => {
    if (isVaultEventMessage(message)) events.emit(message.event);
  });
  return events;
}

export function createExtensionVaultClient(kdf: KdfRunner): VaultClient {
  return new PassphraseVaultClient(backgroundBackend(), kdf, backgroundEvents());
}
