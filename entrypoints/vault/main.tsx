import { render } from 'preact';
import { VaultApp } from '../../components/app/vault-app';
import '../../components/app/styles.css';
import { createExtensionVaultClient } from '../../lib/ext/vault/extension-vault-client';
import { createExtensionHubApi } from '../../lib/ext/hub/hub-page-client';
import { createExtensionJoinApi } from '../../lib/ext/hub/join-page-client';
import { createExtensionOpenClawApi } from '../../lib/ext/openclaw/openclaw-page-client';
import { createExtensionSyncApi } from '../../lib/ext/sync/sync-page-client';
import { requestApiAccess, requestPccsAccess } from '../../lib/ext/hub/host-access';
import { createWorkerKdfRunner } from '../../workers/kdf-runner';

const kdf = createWorkerKdfRunner();
const client = createExtensionVaultClient(kdf);

const root = document.getElementById('app');
if (root) render(<VaultApp client={client} title="Clawkeep vault" hub={createExtensionHubApi()} openclaw={createExtensionOpenClawApi()} requestHostAccess={requestPccsAccess} requestApiAccess={requestApiAccess} sync={createExtensionSyncApi()} join={createExtensionJoinApi(kdf)} />, root);
