import { render } from 'preact';
import { ApprovalWindowApp } from '../../components/approvals/approval-window-app';
import '../../components/app/styles.css';
import { createExtensionVaultClient } from '../../lib/ext/vault/extension-vault-client';
import { createExtensionHubApi } from '../../lib/ext/hub/hub-page-client';
import { createExtensionOpenClawApi } from '../../lib/ext/openclaw/openclaw-page-client';
import { createWorkerKdfRunner } from '../../workers/kdf-runner';

// Unlisted page: the background opens it as a 360 x 620 popup window when a new request arrives.
const root = document.getElementById('app');
if (root) {
  render(
    <ApprovalWindowApp client={createExtensionVaultClient(createWorkerKdfRunner())} hub={createExtensionHubApi()} openclaw={createExtensionOpenClawApi()} onDone={() => window.close()} />,
    root,
  );
}
