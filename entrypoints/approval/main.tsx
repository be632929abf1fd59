import { render } from 'preact';
import { ApprovalWindowApp } from '../../components/approvals/approval-window-app';
import '../../components/app/styles.css';
import { createExtensionVaultClient } from '../../lib/ext/vault/extension-vault-client';
import { createServiceProxy } from '../../lib/ext/rpc/service-proxy';
import { createHubPageApi } from '../../lib/ext/hub/hub-page';
import { requestCallAccess } from '../../lib/ext/hub/host-access';
import { OPENCLAW_SERVICE } from '../../lib/ext/openclaw/openclaw-api';
import { createWorkerKdfRunner, warmWhileLocked } from '../../workers/kdf-runner';

// Unlisted page: the background opens it as a 360 x 620 popup window when a new request arrives.
const kdf = createWorkerKdfRunner();
const client = createExtensionVaultClient(kdf);
warmWhileLocked(kdf, () => client.status());

const root = document.getElementById('app');
if (root) {
  render(
    <ApprovalWindowApp
      client={client}
      hub={createHubPageApi()}
      openclaw={createServiceProxy(OPENCLAW_SERVICE)}
      onDone={() => window.close()}
      requestCallAccess={requestCallAccess}
    />,
    root,
  );
}
