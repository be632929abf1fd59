import type { KdfParams } from '../lib/crypto/kdf-params';
import type { VaultStatus } from '../lib/vault/client';
import { ErrorAlert } from './alert';
import { CreateVault } from './create-vault';
import { UnlockForm } from './unlock-form';

interface LockedScreensProps {
  status: VaultStatus | null;
  error: string | null;
  defaultKdf: KdfParams;
  refresh: () => Promise<void>;
}

/** Everything shown before the vault is open: loading, status failure, first run, or unlock. */
export function LockedScreens({ status, error, defaultKdf, refresh }: LockedScreensProps) {
  const done = (): void => void refresh();
  if (!status) {
    if (error) {
      return (
        <div class="card stack">
          <ErrorAlert message={error} />
          <button type="button" onClick={done}>
            Try again
          </button>
        </div>
      );
    }
    return (
      <p class="muted" role="status">
        Loading…
      </p>
    );
  }
  if (status.state === 'uninitialized') return <CreateVault defaultKdf={defaultKdf} onCreated={done} />;
  return <UnlockForm onUnlocked={done} />;
}
