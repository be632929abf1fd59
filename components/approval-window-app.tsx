import type { KdfParams } from '../lib/crypto/kdf-params';
import { DEFAULT_KDF } from '../lib/crypto/kdf-params';
import type { HubApi } from '../lib/hub-client/api';
import type { VaultClient } from '../lib/vault/client';
import { ApprovalQueue } from './approval-queue';
import { VaultClientContext } from './client-context';
import { useHubState } from './hub-use-state';
import { LockedScreens } from './locked-screens';
import { useTouch } from './use-touch';
import { useVaultStatus } from './use-vault-status';

interface ApprovalWindowAppProps {
  client: VaultClient;
  hub: HubApi;
  /** Closes the window: called when the queue became empty after a decision made here. */
  onDone: () => void;
  defaultKdf?: KdfParams;
}

function Window({ client, hub, onDone, defaultKdf = DEFAULT_KDF }: ApprovalWindowAppProps) {
  const { status, error, refresh } = useVaultStatus(client);
  const unlocked = status?.state === 'unlocked';
  useTouch(client, unlocked);
  const { state } = useHubState(hub, unlocked);
  const empty = unlocked && state?.unlocked && state.pending.length === 0;
  return (
    <main class="app popup">
      <header class="app-header">
        <h1>Clawkeep approvals</h1>
      </header>
      <p class="muted small-text">Closing this window decides nothing: requests stay pending until they expire.</p>
      {unlocked ? (
        <>
          <ApprovalQueue hub={hub} unlocked={unlocked} onDecided={(remaining) => remaining === 0 && onDone()} />
          {empty ? (
            <p class="muted" role="status">
              Nothing is waiting for your approval.
            </p>
          ) : null}
        </>
      ) : (
        <LockedScreens status={status} error={error} defaultKdf={defaultKdf} refresh={refresh} />
      )}
    </main>
  );
}

/** The approval window (approval.html): the same queue as the popup, or the unlock form while locked. */
export function ApprovalWindowApp(props: ApprovalWindowAppProps) {
  return (
    <VaultClientContext.Provider value={props.client}>
      <Window {...props} />
    </VaultClientContext.Provider>
  );
}
