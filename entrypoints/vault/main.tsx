import { render } from 'preact';
import { VaultApp } from '../../components/app/vault-app';
import '../../components/app/styles.css';
import { createExtensionVaultClient } from '../../lib/ext/vault/extension-vault-client';
import { createServiceProxy } from '../../lib/ext/rpc/service-proxy';
import { createHubPageApi } from '../../lib/ext/hub/hub-page';
import { createExtensionJoinApi } from '../../lib/ext/hub/extension-join';
import { OPENCLAW_SERVICE } from '../../lib/ext/openclaw/openclaw-api';
import { SYNC_SERVICE } from '../../lib/ext/sync/sync-api';
import { requestApiAccess, requestPccsAccess } from '../../lib/ext/hub/host-access';
import { createWorkerKdfRunner, warmWhileLocked } from '../../workers/kdf-runner';
import { itemIdFromFragment } from '../../lib/ext/vault-page-link';
import { readPopupShortcut } from '../../lib/ext/shortcut';

const kdf = createWorkerKdfRunner();
const client = createExtensionVaultClient(kdf);
warmWhileLocked(kdf, () => client.status());
// Saving a hub URL or joining through a hub asks for that hub's host permission first (hub-page.ts).
const hub = createHubPageApi();

// "Open in vault" from the popup: focus that item, then drop the fragment so a reload starts from the list.
const focusItemId = itemIdFromFragment(location.hash);
if (location.hash) history.replaceState(null, '', location.pathname);

const root = document.getElementById('app');
if (root)
  render(
    <VaultApp
      client={client}
      title="Clawkeep vault"
      hub={hub}
      openclaw={createServiceProxy(OPENCLAW_SERVICE)}
      requestHostAccess={requestPccsAccess}
      requestApiAccess={requestApiAccess}
      sync={createServiceProxy(SYNC_SERVICE)}
      join={createExtensionJoinApi(hub, kdf)}
      focusItemId={focusItemId}
      readShortcut={readPopupShortcut}
    />,
    root,
  );
