import type { KdfParams } from '../../lib/crypto/kdf-params';
import { DEFAULT_KDF } from '../../lib/crypto/kdf-params';
import { useEffect, useState } from 'preact/hooks';
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
  /** Closes the window: called once nothing is waiting (after CLOSE_DELAY_MS), whoever decided. */
  onDone: () => void;
  defaultKdf?: KdfParams;
  /** Asks for an http.request host's permission in the Approve click (ApprovalQueue). */
  requestCallAccess?: (host: string) => Promise<boolean>;
}

/**
 * How long the window stays once nothing is waiting: the person reads the confirmation of a decision made here, and a
 * request arriving meanwhile cancels the close.
 */
export const CLOSE_DELAY_MS = 1500;

function Window({
  client,
  hub,
  openclaw,
  onDone,
  defaultKdf = DEFAULT_KDF,
  requestCallAccess,
}: ApprovalWindowAppProps) {
  const { status, error, refresh } = useVaultStatus(client);
  const unlocked = status?.state === 'unlocked';
  useTouch(client, unlocked);
  const { state } = useHubState(hub, unlocked);
  const [gatewayCount, setGatewayCount] = useState(0);
  const hubCount = state?.pending.length ?? 0;
  const empty = unlocked && state?.unlocked === true && hubCount === 0 && gatewayCount === 0;
  // Issue 15: the window closes once nothing is waiting, whichever surface decided (this window, the popup, another
  // device): the background's pending list is the one source, heard here through the hub service's change events.
  useEffect(() => {
    if (!empty) return;
    const timer = setTimeout(onDone, CLOSE_DELAY_MS);
    return () => clearTimeout(timer);
  }, [empty, onDone]);
  return (
    <main class="app popup approval-window">
      <header class="app-header">
        <h1>Clawkeep approvals</h1>
      </header>
      <p class="muted small-text">Closing this window decides nothing: requests stay pending until they expire.</p>
      {unlocked ? (
        <>
          <ApprovalQueue hub={hub} unlocked={unlocked} requestCallAccess={requestCallAccess} />
          {openclaw ? <OpenClawQueue api={openclaw} unlocked={unlocked} onCount={setGatewayCount} /> : null}
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
