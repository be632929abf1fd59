import { useEffect, useState } from 'preact/hooks';
import type { KdfParams } from '../../lib/crypto/kdf-params';
import { DEFAULT_KDF } from '../../lib/crypto/kdf-params';
import type { HubApi } from '../../lib/ext/hub/hub-api';
import type { OpenClawApi } from '../../lib/ext/openclaw/openclaw-api';
import type { VaultClient } from '../../lib/vault/client';
import { ApprovalQueue } from '../approvals/approval-queue';
import { VaultClientContext } from './client-context';
import { autoLockSummary } from '../shared/format';
import { LockButton } from './lock-button';
import { LockedScreens } from '../unlock/locked-screens';
import { OpenClawQueue } from '../openclaw/openclaw-queue';
import { PopupItems } from '../items/popup-items';
import { RecoveryKitSetup } from '../backup/recovery-kit';
import { clearCopiedSecret } from '../shared/clipboard';
import { useTouch } from '../shared/use-touch';
import { useVaultStatus } from '../shared/use-vault-status';

interface PopupAppProps {
  client: VaultClient;
  /** Where "Open vault" goes when no handler is given (rendered as a link). */
  vaultPageUrl?: string;
  /** Opens the vault page (e.g. in a tab, then closes the popup). Takes precedence over vaultPageUrl. */
  onOpenVault?: () => void;
  /** Opens the vault page focused on one item ("Open in vault" next to a search result). */
  onOpenItem?: (id: string) => void;
  defaultKdf?: KdfParams;
  /** The hub (extension only): pending approvals are shown first once the vault is unlocked. */
  hub?: HubApi;
  /** The OpenClaw gateway (extension only): its pending command / plugin approvals join the queue. */
  openclaw?: OpenClawApi;
  /** Asks for an http.request host's permission in the Approve click (extension only; ApprovalQueue). */
  requestCallAccess?: (host: string) => Promise<boolean>;
}

function OpenVault({
  vaultPageUrl,
  onOpenVault,
  primary,
}: Pick<PopupAppProps, 'vaultPageUrl' | 'onOpenVault'> & { primary?: boolean }) {
  const cls = primary ? 'button primary' : 'button';
  if (onOpenVault) {
    return (
      <button type="button" class={primary ? 'primary' : undefined} onClick={onOpenVault}>
        Open vault
      </button>
    );
  }
  if (!vaultPageUrl) return null;
  return (
    <a class={cls} href={vaultPageUrl} target="_blank" rel="noopener">
      Open vault
    </a>
  );
}

function Popup({
  client,
  vaultPageUrl,
  onOpenVault,
  onOpenItem,
  defaultKdf = DEFAULT_KDF,
  hub,
  openclaw,
  requestCallAccess,
}: PopupAppProps) {
  const { status, error, refresh } = useVaultStatus(client);
  const unlocked = status?.state === 'unlocked';
  useTouch(client, unlocked);
  // "Create vault" promises a recovery kit next, here as on the vault page (skippable, with a warning).
  const [offerKit, setOfferKit] = useState(false);
  // A secret copied from the popup should not outlive the unlocked session.
  useEffect(() => {
    if (status && !unlocked) void clearCopiedSecret();
  }, [status, unlocked]);

  return (
    <main class="app popup">
      <header class="app-header">
        <h1>Clawkeep</h1>
        {status ? (
          <span class={`pill ${unlocked ? 'pill-open' : 'pill-locked'}`}>
            {unlocked ? 'Unlocked' : status.state === 'locked' ? 'Locked' : 'No vault yet'}
          </span>
        ) : null}
      </header>
      {hub ? <ApprovalQueue hub={hub} unlocked={unlocked} requestCallAccess={requestCallAccess} /> : null}
      {openclaw ? <OpenClawQueue api={openclaw} unlocked={unlocked} /> : null}
      {unlocked && status && offerKit ? (
        <RecoveryKitSetup
          onDone={() => {
            setOfferKit(false);
            void refresh();
          }}
          onSkip={() => setOfferKit(false)}
        />
      ) : null}
      {unlocked && status ? (
        <section class="stack" aria-label="Vault unlocked">
          {/* The kit offer comes first; search waits until it is done or skipped. */}
          {offerKit ? null : <PopupItems onOpenItem={onOpenItem} />}
          <div class="popup-unlocked-footer stack">
            <p class="muted small-text">{autoLockSummary(status.settings.autoLockSeconds)}.</p>
            <div class="actions">
              <OpenVault vaultPageUrl={vaultPageUrl} onOpenVault={onOpenVault} primary />
              <LockButton onLocked={() => void refresh()} />
            </div>
          </div>
        </section>
      ) : (
        <>
          <LockedScreens
            status={status}
            error={error}
            defaultKdf={defaultKdf}
            refresh={refresh}
            hub={hub}
            onCreated={() => setOfferKit(true)}
          />
          {status ? (
            <footer class="popup-footer">
              <OpenVault vaultPageUrl={vaultPageUrl} onOpenVault={onOpenVault} />
            </footer>
          ) : null}
        </>
      )}
    </main>
  );
}

/** The toolbar popup: create (then the recovery kit), unlock, search and copy, lock, and the way to the vault page. */
export function PopupApp(props: PopupAppProps) {
  return (
    <VaultClientContext.Provider value={props.client}>
      <Popup {...props} />
    </VaultClientContext.Provider>
  );
}
