import { useCallback, useEffect, useState } from 'preact/hooks';
import type { VaultClient, VaultStatus } from '../../lib/vault/client';
import { errorMessage } from '../../lib/errors';
import { useNewestAnswer } from './use-newest-answer';

export interface VaultStatusState {
  status: VaultStatus | null;
  error: string | null;
  refresh: () => Promise<void>;
}

/** Current vault status, kept fresh from client events; a `locked` event takes effect before any round trip. */
export function useVaultStatus(client: VaultClient): VaultStatusState {
  const [status, setStatus] = useState<VaultStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Only the newest request may write: a status fetched just before a lock must not re-show the vault.
  const ask = useNewestAnswer();

  const refresh = useCallback(async () => {
    const isNewest = ask();
    try {
      const next = await client.status();
      if (!isNewest()) return;
      setStatus(next);
      setError(null);
    } catch (err) {
      if (isNewest()) setError(errorMessage(err));
    }
  }, [client, ask]);

  useEffect(() => {
    void refresh();
    const unsubscribe = client.subscribe((event) => {
      if (event.type === 'locked') {
        ask();
        setStatus((s) => (s && s.state === 'unlocked' ? { ...s, state: 'locked' } : s));
      }
      if (event.type !== 'items-changed') void refresh();
    });
    // A popup or background tab may miss events while hidden; re-check when it is shown again.
    const onVisible = (): void => {
      if (document.visibilityState === 'visible') void refresh();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      unsubscribe();
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [client, refresh, ask]);

  return { status, error, refresh };
}
