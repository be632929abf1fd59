import { useEffect, useState } from 'preact/hooks';
import { DEFAULT_KDF, type KdfParams } from '../../lib/crypto/kdf-params';
import type { HubApi } from '../../lib/ext/hub/hub-api';
import type { OpenClawApi } from '../../lib/ext/openclaw/openclaw-api';
import type { VaultClient, VaultStatus } from '../../lib/vault/client';
import type { AttestRunner } from '../../workers/attest-api';
import { AutoLockSettings } from '../settings/auto-lock-settings';
import { ChangePassphrase } from '../settings/change-passphrase';
import { clearCopiedSecret } from '../shared/clipboard';
import { VaultClientContext } from './client-context';
import { DeployDraft } from '../deploy/deploy-draft';
import { DeployTab } from '../deploy/deploy-tab';
import { ExportBackup } from '../backup/export-backup';
import { HubActivity } from '../agents/hub-activity';
import { HubAgents } from '../agents/hub-agents';
import { ImportBackup } from '../backup/import-backup';
import { ImportOther } from '../backup/import-other';
import { ItemsView } from '../items/items-view';
import { KdfSettings } from '../settings/kdf-settings';
import { LockButton } from './lock-button';
import { LockedScreens } from '../unlock/locked-screens';
import { WebDevices } from '../agents/web-devices';
import type { JoinApi, PageDeviceApi } from '../../lib/web-vault/page-devices';
import { SyncPanel } from '../sync/sync-panel';
import { ShortcutSettings } from '../settings/shortcut-settings';
import type { PopupShortcut } from '../../lib/ext/shortcut';
import type { SyncApi } from '../../lib/sync/sync-service';
import { RecoveryKitSettings, RecoveryKitSetup } from '../backup/recovery-kit';
import { OpenClawSettings } from '../openclaw/openclaw-settings';
import { Tabs, type TabDef } from './tabs';
import { TeeCertificate } from '../tee/tee-certificate';
import { useTouch } from '../shared/use-touch';
import { useVaultStatus } from '../shared/use-vault-status';

type TabId = 'items' | 'backup' | 'settings' | 'tee' | 'deploy' | 'agents' | 'activity' | 'devices';
const TABS: TabDef<TabId>[] = [
  { id: 'items', label: 'Items' },
  { id: 'backup', label: 'Backup' },
  { id: 'settings', label: 'Settings' },
  { id: 'tee', label: 'TEE certificate' },
  { id: 'deploy', label: 'Deploy' },
];

interface VaultAppProps {
  client: VaultClient;
  /** Page heading, e.g. "Clawkeep vault" in the extension, "Clawkeep web vault" on the web. */
  title?: string;
  /** KDF offered when creating a vault. */
  defaultKdf?: KdfParams;
  /** The hub (extension only): adds the "Agents" tab. */
  hub?: HubApi;
  /** The OpenClaw operator connection (extension only): adds "OpenClaw gateway" to Settings. */
  openclaw?: OpenClawApi;
  /** Verifies TEE quotes for the "TEE certificate" tab; default: the page's attest worker. */
  attest?: AttestRunner;
  /** Extension only: asks for the optional host permission of a PCCS before collateral is fetched from it. */
  requestHostAccess?: (url: string) => Promise<boolean>;
  /** Extension only: asks for the optional host permission of a provider API (Phala Cloud) before calling it. */
  requestApiAccess?: (url: string) => Promise<boolean>;
  /** Vault sync with the hub: the status line and conflicts above the tabs. */
  sync?: SyncApi;
  /** Web vault only: join an existing vault by pairing (first run) and the "Devices" tab once joined. */
  devices?: PageDeviceApi;
  /** Extension: "Join an existing vault" on first run (the pairing runs in the background). */
  join?: JoinApi;
  /** Extension: the item "Open in vault" in the popup asked for; Items opens it once unlocked. */
  focusItemId?: string | null;
  /** Extension: reads the keyboard shortcut that opens the popup, shown in Settings. */
  readShortcut?: () => Promise<PopupShortcut>;
}

interface UnlockedVaultProps {
  status: VaultStatus;
  refresh: () => Promise<void>;
  hub?: HubApi;
  openclaw?: OpenClawApi;
  attest?: AttestRunner;
  requestHostAccess?: (url: string) => Promise<boolean>;
  requestApiAccess?: (url: string) => Promise<boolean>;
  devices?: PageDeviceApi;
  focusItemId?: string | null;
  readShortcut?: () => Promise<PopupShortcut>;
}

/** The Devices tab shows once the vault joined an account, and also when that record cannot be read (it shows why). */
function showsDevices(devices: PageDeviceApi | undefined): boolean {
  try {
    return !!devices?.joined();
  } catch {
    return true;
  }
}

function UnlockedVault({
  status,
  refresh,
  hub,
  openclaw,
  attest,
  requestHostAccess,
  requestApiAccess,
  devices,
  focusItemId,
  readShortcut,
}: UnlockedVaultProps) {
  const [tab, setTab] = useState<TabId>('items');
  // Opened once: coming back to Items later starts from the list.
  const [focus, setFocus] = useState(focusItemId ?? null);
  // Owned here, not by the Deploy tab: tabs unmount, and the wizard must come back as it was left (issue 15).
  const [deployDraft] = useState(() => new DeployDraft());
  const base = hub
    ? [...TABS, { id: 'agents' as const, label: 'Agents' }, { id: 'activity' as const, label: 'Activity' }]
    : TABS;
  const tabs = showsDevices(devices) ? [...base, { id: 'devices' as const, label: 'Devices' }] : base;
  return (
    <Tabs tabs={tabs} active={tab} onChange={setTab} label="Vault sections">
      {tab === 'items' ? <ItemsView focusItemId={focus} onFocused={() => setFocus(null)} /> : null}
      {tab === 'backup' ? (
        <div class="grid-2">
          <ExportBackup />
          <ImportBackup />
          <ImportOther />
        </div>
      ) : null}
      {tab === 'settings' ? (
        <div class="grid-2">
          <AutoLockSettings settings={status.settings} onSaved={refresh} />
          <KdfSettings current={status.kdf} onSaved={refresh} />
          <ChangePassphrase kdf={status.kdf} />
          <RecoveryKitSettings createdAt={status.recoveryKitCreatedAt} onChanged={() => void refresh()} />
          {openclaw ? <OpenClawSettings api={openclaw} /> : null}
          {readShortcut ? <ShortcutSettings read={readShortcut} /> : null}
        </div>
      ) : null}
      {tab === 'tee' ? <TeeCertificate runner={attest} requestHostAccess={requestHostAccess} /> : null}
      {tab === 'deploy' ? (
        <DeployTab draft={deployDraft} requestApiAccess={requestApiAccess} requestPccsAccess={requestHostAccess} />
      ) : null}
      {tab === 'agents' && hub ? <HubAgents hub={hub} /> : null}
      {tab === 'activity' && hub ? <HubActivity hub={hub} /> : null}
      {tab === 'devices' && devices ? <WebDevices api={devices} /> : null}
    </Tabs>
  );
}

function Vault({
  client,
  title = 'Clawkeep vault',
  defaultKdf = DEFAULT_KDF,
  hub,
  openclaw,
  attest,
  requestHostAccess,
  requestApiAccess,
  sync,
  devices,
  join,
  focusItemId,
  readShortcut,
}: VaultAppProps) {
  const { status, error, refresh } = useVaultStatus(client);
  const unlocked = status?.state === 'unlocked';
  useTouch(client, unlocked);
  // Right after "Create vault" the recovery kit is offered above the items (skippable, with a warning).
  const [offerKit, setOfferKit] = useState(false);

  useEffect(() => {
    document.title = title;
  }, [title]);
  // A secret copied a moment ago should not outlive the unlocked session.
  useEffect(() => {
    if (status && !unlocked) void clearCopiedSecret();
  }, [status, unlocked]);

  return (
    <div class="app vault">
      <header class="app-header">
        <h1>{title}</h1>
        {unlocked ? <LockButton onLocked={() => void refresh()} /> : null}
      </header>
      <main>
        {unlocked && status && offerKit ? (
          <div class="narrow">
            <RecoveryKitSetup
              onDone={() => {
                setOfferKit(false);
                void refresh();
              }}
              onSkip={() => setOfferKit(false)}
            />
          </div>
        ) : null}
        {unlocked && status && sync ? <SyncPanel api={sync} /> : null}
        {unlocked && status ? (
          <UnlockedVault
            status={status}
            refresh={refresh}
            hub={hub}
            openclaw={openclaw}
            attest={attest}
            requestHostAccess={requestHostAccess}
            requestApiAccess={requestApiAccess}
            devices={devices}
            focusItemId={focusItemId}
            readShortcut={readShortcut}
          />
        ) : (
          <div class="narrow">
            <LockedScreens
              status={status}
              error={error}
              defaultKdf={defaultKdf}
              refresh={refresh}
              onCreated={() => setOfferKit(true)}
              join={join ?? devices}
              hub={hub}
            />
          </div>
        )}
      </main>
    </div>
  );
}

/** The full vault page: shared by the extension's vault.html and the standalone web vault. */
export function VaultApp(props: VaultAppProps) {
  return (
    <VaultClientContext.Provider value={props.client}>
      <Vault {...props} />
    </VaultClientContext.Provider>
  );
}
