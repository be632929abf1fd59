import { useEffect } from 'preact/hooks';
import type { VaultClient } from '../../lib/vault/client';

const THROTTLE_MS = 5000;

/** Tells the vault the user is active (keys, clicks, taps) so auto-lock counts idle time only. */
export function useTouch(client: VaultClient, active: boolean): void {
  useEffect(() => {
    if (!active) return;
    let last = 0;
    const onActivity = (): void => {
      const now = Date.now();
      if (now - last < THROTTLE_MS) return;
      last = now;
      try {
        client.touch();
      } catch {
        // A missed touch only makes auto-lock a little early; never break the user's input over it.
      }
    };
    document.addEventListener('keydown', onActivity, true);
    document.addEventListener('pointerdown', onActivity, true);
    return () => {
      document.removeEventListener('keydown', onActivity, true);
      document.removeEventListener('pointerdown', onActivity, true);
    };
  }, [client, active]);
}
