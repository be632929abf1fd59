import { useState } from 'preact/hooks';
import { ErrorAlert, Notice } from '../shared/alert';
import { useVaultClient } from '../app/client-context';
import { downloadBytes } from '../shared/download';
import { Field } from '../shared/field';
import { todayStamp } from '../shared/format';
import { KdfProgressBar } from '../unlock/kdf-progress-bar';
import { PassphraseStrength } from '../unlock/passphrase-strength';
import { useAction } from '../shared/use-action';
import { useKdfProgress } from '../unlock/use-kdf-progress';

/** Writes every item into one file protected by its own passphrase (it may differ from the vault's). */
export function ExportBackup() {
  const client = useVaultClient();
  const [passphrase, setPassphrase] = useState('');
  const [repeat, setRepeat] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const action = useAction();
  const { progress, track } = useKdfProgress();

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (action.busy) return;
    setDone(null);
    if (!passphrase) return action.setError('Choose a passphrase for the backup file.');
    if (passphrase !== repeat) return action.setError('The backup passphrases do not match.');
    const result = await action.run(() => track((onProgress) => client.exportBackup(passphrase, onProgress)));
    if (!result.ok) return;
    const fileName = `clawkeep-backup-${todayStamp()}.ckbk`;
    downloadBytes(result.value, fileName);
    setPassphrase('');
    setRepeat('');
    setDone(`Backup saved as ${fileName}. Keep its passphrase: without it the file cannot be opened.`);
  };

  return (
    <form class="card stack" onSubmit={submit} aria-labelledby="export-title" noValidate>
      <h2 id="export-title">Export backup</h2>
      <p class="muted">One encrypted file with every item. Store it somewhere other than this device.</p>
      <Field
        type="password"
        label="New backup passphrase"
        value={passphrase}
        onInput={setPassphrase}
        autoComplete="new-password"
        disabled={action.busy}
        hint={<PassphraseStrength passphrase={passphrase} />}
      />
      <Field
        type="password"
        label="Repeat new backup passphrase"
        value={repeat}
        onInput={setRepeat}
        autoComplete="new-password"
        disabled={action.busy}
      />
      <ErrorAlert message={action.error} />
      <KdfProgressBar progress={progress} label="Encrypting backup" />
      <Notice>{done}</Notice>
      <button type="submit" class="primary" disabled={action.busy}>
        Export backup
      </button>
    </form>
  );
}
