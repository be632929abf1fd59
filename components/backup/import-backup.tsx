import { useId, useRef, useState } from 'preact/hooks';
import { ErrorAlert } from '../shared/alert';
import { useVaultClient } from '../app/client-context';
import { Field } from '../shared/field';
import type { BackupImportReport } from '../../lib/vault/backup-merge';
import { KdfProgressBar } from '../unlock/kdf-progress-bar';
import { BackupImportReportView } from './backup-import-report';
import { useAction } from '../shared/use-action';
import { useKdfProgress } from '../unlock/use-kdf-progress';

/**
 * Merges a backup file into the vault: items edited here since the backup keep their newer revision, and the report
 * says per item what happened. All or nothing, so a wrong passphrase or a damaged file changes nothing.
 */
export function ImportBackup() {
  const client = useVaultClient();
  const fileId = useId();
  const fileInput = useRef<HTMLInputElement>(null);
  const [passphrase, setPassphrase] = useState('');
  const [done, setDone] = useState<BackupImportReport | null>(null);
  const action = useAction();
  const { progress, track } = useKdfProgress();

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (action.busy) return;
    setDone(null);
    const file = fileInput.current?.files?.[0];
    if (!file) return action.setError('Choose a backup file.');
    if (!passphrase) return action.setError('Enter the passphrase of the backup file.');
    const result = await action.run(async () => {
      const bytes = new Uint8Array(await file.arrayBuffer());
      return track((onProgress) => client.importBackup(bytes, passphrase, onProgress));
    });
    if (!result.ok) return;
    setPassphrase('');
    if (fileInput.current) fileInput.current.value = '';
    setDone(result.value);
  };

  return (
    <form class="card stack" onSubmit={submit} aria-labelledby="import-title" noValidate>
      <h2 id="import-title">Import backup</h2>
      <p class="muted">Items changed here since the backup was made keep their newer version.</p>
      <div class="field">
        <label for={fileId}>Backup file</label>
        <input
          id={fileId}
          ref={fileInput}
          type="file"
          accept=".ckbk,application/octet-stream"
          disabled={action.busy}
          onChange={() => setDone(null)}
        />
      </div>
      <Field
        type="password"
        label="Backup passphrase"
        value={passphrase}
        onInput={setPassphrase}
        autoComplete="off"
        disabled={action.busy}
      />
      <ErrorAlert message={action.error} />
      <KdfProgressBar progress={progress} label="Decrypting backup" />
      {done ? <BackupImportReportView report={done} /> : null}
      <button type="submit" class="primary" disabled={action.busy}>
        Import backup
      </button>
    </form>
  );
}
