import { render } from 'preact';
import { browser } from 'wxt/browser';
import { PopupApp } from '../../components/app/popup-app';
import '../../components/app/styles.css';
import { createExtensionVaultClient } from '../../lib/ext/vault/extension-vault-client';
import { createServiceProxy } from '../../lib/ext/rpc/service-proxy';
import { createHubPageApi } from '../../lib/ext/hub/hub-page';
import { requestCallAccess } from '../../lib/ext/hub/host-access';
import { OPENCLAW_SERVICE } from '../../lib/ext/openclaw/openclaw-api';
import { createWorkerKdfRunner, warmWhileLocked } from '../../workers/kdf-runner';
import { vaultItemFragment } from '../../lib/ext/vault-page-link';

const kdf = createWorkerKdfRunner();
const client = createExtensionVaultClient(kdf);
warmWhileLocked(kdf, () => client.status());
const vaultPageUrl = browser.runtime.getURL('/vault.html');

/** True only in the toolbar popup; the same page opened in a tab (tests, "pop out") must stay open. */
function isToolbarPopup(): boolean {
  try {
    return browser.extension.getViews({ type: 'popup' }).includes(window);
  } catch {
    return false;
  }
}

async function openVault(itemId?: string): Promise<void> {
  await browser.tabs.create({ url: itemId ? vaultPageUrl + vaultItemFragment(itemId) : vaultPageUrl });
  if (isToolbarPopup()) window.close();
}

const root = document.getElementById('app');
if (root)
  render(
    <PopupApp
      client={client}
      vaultPageUrl={vaultPageUrl}
      onOpenVault={() => void openVault()}
      onOpenItem={(id) => void openVault(id)}
      hub={createHubPageApi()}
      requestCallAccess={requestCallAccess}
      openclaw={createServiceProxy(OPENCLAW_SERVICE)}
    />,
    root,
  );
