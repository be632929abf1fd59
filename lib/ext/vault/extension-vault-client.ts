import type { KdfRunner } from '../../crypto/kdf-runner';
import type { VaultClient } from '../../vault/client';
import { VaultEvents } from '../../vault/events';
import { PassphraseVaultClient } from '../../vault/passphrase-client';
import { createServiceProxy } from '../rpc/service-proxy';
import { VAULT_SERVICE } from './vault-api';

/**
 * The vault for extension pages: every key-level method runs in the background, where the vault key lives (the
 * generated proxy of VAULT_SERVICE); the passphrase → KEK step runs in this page's KDF worker; lock / unlock / change
 * events broadcast by the background reach every open page.
 */
export function createExtensionVaultClient(kdf: KdfRunner): VaultClient {
  const backend = createServiceProxy(VAULT_SERVICE);
  const events = new VaultEvents();
  backend.subscribe((event) => events.emit(event));
  return new PassphraseVaultClient(backend, kdf, events);
}
