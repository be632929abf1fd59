import { useState } from 'preact/hooks';
import type { KdfParams } from '../../lib/crypto/kdf-params';
import { ErrorAlert } from '../shared/alert';
import { useVaultClient } from '../app/client-context';
import { Field } from '../shared/field';
import { draftFromParams, KdfFields, paramsFromDraft } from './kdf-fields';
import { KdfProgressBar } from './kdf-progress-bar';
import { PassphraseStrength, passphraseFloorError } from './passphrase-strength';
import { useAction } from '../shared/use-action';
import { useKdfProgress } from './use-kdf-progress';

interface CreateVaultProps {
  defaultKdf: KdfParams;
  onCreated: () => void;
}

/** First run: choose the passphrase (and optionally the KDF) that will protect the new vault. */
export function CreateVault({ defaultKdf, onCreated }: CreateVaultProps) {
  const client = useVaultClient();
  const [passphrase, setPassphrase] = useState('');
  const [repeat, setRepeat] = useState('');
  const [kdf, setKdf] = useState(() => draftFromParams(defaultKdf));
  const action = useAction();
  const { progress, track } = useKdfProgress();

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (action.busy) return;
    if (!passphrase) return action.setError('Enter a passphrase.');
    if (passphrase !== repeat) return action.setError('The passphrases do not match.');
    const weak = await passphraseFloorError(passphrase);
    if (weak) return action.setError(weak);
    const parsed = paramsFromDraft(kdf);
    if (!parsed.ok) return action.setError(parsed.error);
    const result = await action.run(() => track((onProgress) => client.create(passphrase, parsed.params, onProgress)));
    if (result.ok) onCreated();
  };

  return (
    <form class="card stack" onSubmit={submit} aria-labelledby="create-title" noValidate>
      <h2 id="create-title">Create your vault</h2>
      <p>Choose a passphrase. It encrypts everything in the vault and never leaves this device.</p>
      <Field
        type="password"
        label="Passphrase"
        value={passphrase}
        onInput={setPassphrase}
        autoComplete="new-password"
        autoFocus
        disabled={action.busy}
        hint={<PassphraseStrength passphrase={passphrase} />}
      />
      <Field
        type="password"
        label="Repeat passphrase"
        value={repeat}
        onInput={setRepeat}
        autoComplete="new-password"
        disabled={action.busy}
      />
      <p class="warning">
        <strong>Nobody can reset this passphrase</strong> — not us, not the hub. Next you can create a recovery kit (24
        words on paper) that opens the vault if you forget it; without one, a forgotten passphrase means the data is
        lost.
      </p>
      <details>
        <summary>Key derivation (advanced)</summary>
        <KdfFields draft={kdf} onChange={setKdf} disabled={action.busy} />
      </details>
      <ErrorAlert message={action.error} />
      <KdfProgressBar progress={progress} label="Creating vault" />
      <button type="submit" class="primary" disabled={action.busy} aria-busy={action.busy}>
        Create vault
      </button>
    </form>
  );
}
