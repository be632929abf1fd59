import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { VaultClient } from '../../lib/vault/client';

export const VaultClientContext = createContext<VaultClient | null>(null);

/** The vault client given to the app root; a missing provider is a wiring bug, so fail loudly. */
export function useVaultClient(): VaultClient {
  const client = useContext(VaultClientContext);
  if (!client) throw new Error('VaultClientContext is missing: render inside <VaultClientContext.Provider>.');
  return client;
}
