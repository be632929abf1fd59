import { useState } from 'preact/hooks';
import type { KdfParams } from '../../lib/crypto/kdf-params';
import type { VaultStatus } from '../../lib/vault/client';
import { ErrorAlert } from '../shared/alert';
import { CreateVault } from './create-vault';
import { JoinVault } from './join-vault';
import type { JoinApi } from '../../lib/web-vault/page-devices';
import { RecoverVault } from './recover-vault';
import { UnlockForm } from './unlock-form';
import { useWaiting } from './use-waiting';
import type { HubApi } from '../../lib/ext/hub/hub-api';

interface LockedScreensProps {
  status: VaultStatus | null;
  error: string | null;
  defaultKdf: KdfParams;
  refresh: () => Promise<void>;
  /** Called once after a new vault was created (the vault page then offers the recovery kit). */
  onCreated?: () => void;
  /** Web vault: offers "Join an existing vault" next to "Create your vault". */
  join?: JoinApi;
  /** Extension: the hub, to say how many agent requests wait while locked (issue 15). */
  hub?: HubApi;
}

/** Everything shown before the vault is open: loading, status failure, first run, or unlock. */
export function LockedScreens({ status, error, defaultKdf, refresh, onCreated, join, hub }: LockedScreensProps) {
  const waiting = useWaiting(hub);
  const [recovering, setRecovering] = useState(false);
  const [joining, setJoining] = useState(false);
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
  if (status.state === 'uninitialized') {
    if (join && joining)
      return <JoinVault api={join} defaultKdf={defaultKdf} onJoined={done} onCancel={() => setJoining(false)} />;
    return (
      <div class="stack">
        <CreateVault
          defaultKdf={defaultKdf}
          onCreated={() => {
            onCreated?.();
            done();
          }}
        />
        {join ? (
          <button type="button" class="link" onClick={() => setJoining(true)}>
            Join an existing vault
          </button>
        ) : null}
      </div>
    );
  }
  if (recovering) {
    return (
      <RecoverVault
        hasKit={status.recoveryKitCreatedAt !== null}
        onRecovered={() => {
          setRecovering(false);
          done();
        }}
        onCancel={() => setRecovering(false)}
      />
    );
  }
  return (
    <div class="stack">
      <UnlockForm onUnlocked={done} waiting={waiting} />
      <button type="button" class="link" onClick={() => setRecovering(true)}>
        Forgot your passphrase?
      </button>
    </div>
  );
}
