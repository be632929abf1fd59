import type { KdfParams } from '../../lib/crypto/kdf-params';
import { DEFAULT_KDF } from '../../lib/crypto/kdf-params';
import { useState } from 'preact/hooks';
import type { HubApi } from '../../lib/ext/hub/hub-api';
import type { OpenClawApi } from '../../lib/ext/openclaw/openclaw-api';
import type { VaultClient } from '../../lib/vault/client';
import { ApprovalQueue } from './approval-queue';
import { VaultClientContext } from '../app/client-context';
import { useHubState } from '../agents/hub-use-state';
import { LockedScreens } from '../unlock/locked-screens';
import { OpenClawQueue } from '../openclaw/openclaw-queue';
import { useTouch } from '../shared/use-touch';
import { useVaultStatus } from '../shared/use-vault-status';

interface ApprovalWindowAppProps {
  client: VaultClient;
  hub: HubApi;
  /** The OpenClaw gateway's command / plugin approvals (extension only), shown after the hub's requests. */
  openclaw?: OpenClawApi;
  /** Closes the window: called when the queue became empty after a decision made here. */
  onDone: () => void;
  defaultKdf?: KdfParams;
}

function Window({ client, hub, openclaw, onDone, defaultKdf = DEFAULT_KDF }: ApprovalWindowAppProps) {
  const { status, error, refresh } = useVaultStatus(client);
  const unlocked = status?.state === 'unlocked';
  useTouch(client, unlocked);
  const { state } = useHubState(hub, unlocked);
  const [gatewayCount, setGatewayCount] = useState(0);
  const hubCount = state?.pending.length ?? 0;
  const empty = unlocked && state?.unlocked && hubCount === 0 && gatewayCount === 0;
  return (
    <main class="app popup">
      <header class="app-header">
        <h1>Clawkeep approvals</h1>
      </header>
      <p class="muted small-text">Closing this window decides nothing: requests stay pending until they expire.</p>
      {unlocked ? (
        <>
          <ApprovalQueue
            hub={hub}
            unlocked={unlocked}
            onDecided={(remaining) => remaining === 0 && gatewayCount === 0 && onDone()}
          />
          {openclaw ? (
            <OpenClawQueue
              api={openclaw}
              unlocked={unlocked}
              onCount={setGatewayCount}
              onDecided={(remaining) => remaining === 0 && hubCount === 0 && onDone()}
            />
          ) : null}
          {empty ? (
            <p class="muted" role="status">
              Nothing is waiting for your approval.
            </p>
          ) : null}
        </>
      ) : (
        <LockedScreens status={status} error={error} defaultKdf={defaultKdf} refresh={refresh} hub={hub} />
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
