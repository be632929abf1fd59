import { render } from 'preact';
import { VaultApp } from '../components/app/vault-app';
import '../components/app/styles.css';
import { createLocalVault } from '../lib/web-vault/local-client';
import { createWorkerKdfRunner, warmWhileLocked } from '../workers/kdf-runner';

// The key lives in this page's memory only: reloading or closing the tab locks the vault.
const kdf = createWorkerKdfRunner();
const { client, devices, sync } = createLocalVault(kdf);
warmWhileLocked(kdf, () => client.status());

const root = document.getElementById('app');
if (root) render(<VaultApp client={client} title="Clawkeep web vault" devices={devices} sync={sync} />, root);
