import { render } from 'preact';
import { VaultApp } from '../../components/vault-app';
import '../../components/styles.css';
import { createExtensionVaultClient } from '../../lib/ext/extension-vault-client';
import { createExtensionHubApi } from '../../lib/ext/hub-page-client';
import { createExtensionJoinApi } from '../../lib/ext/join-page-client';
import { createExtensionOpenClawApi } from '../../lib/ext/openclaw-page-client';
import { createExtensionSyncApi } from '../../lib/ext/sync-page-client';
import { requestApiAccess, requestPccsAccess } from '../../lib/ext/host-access';
import { createWorkerKdfRunner } from '../../workers/kdf-runner';

const kdf = createWorkerKdfRunner();
const client = createExtensionVaultClient(kdf);

const root = document.getElementById('app');
if (root) render(<VaultApp client={client} title="Clawkeep vault" hub={createExtensionHubApi()} openclaw={createExtensionOpenClawApi()} requestHostAccess={requestPccsAccess} requestApiAccess={requestApiAccess} sync={createExtensionSyncApi()} join={createExtensionJoinApi(kdf)} />, root);
