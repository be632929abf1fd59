import { useState } from 'preact/hooks';
import type { KdfParams } from '../../lib/crypto/kdf-params';
import { ErrorAlert, Notice } from '../shared/alert';
import { useVaultClient } from '../app/client-context';
import { Field } from '../shared/field';
import { KdfProgressBar } from '../unlock/kdf-progress-bar';
import { NewPassphraseFields } from '../unlock/new-passphrase-fields';
import { passphraseFloorError } from '../unlock/passphrase-strength';
import { useAction } from '../shared/use-action';
import { useKdfProgress } from '../unlock/use-kdf-progress';

/** New passphrase, same KDF. Items are not re-encrypted, only the vault key is re-wrapped. */
export function ChangePassphrase({ kdf }: { kdf: KdfParams | null }) {
  const client = useVaultClient();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [done, setDone] = useState(false);
  const action = useAction();
  const { progress, track } = useKdfProgress();

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (action.busy) return;
    setDone(false);
    if (!kdf) return action.setError('The vault settings could not be read. Reload the page and try again.');
    if (!current) return action.setError('Enter your current passphrase.');
    if (!next) return action.setError('Enter a new passphrase.');
    if (next !== repeat) return action.setError('The new passphrases do not match.');
    const weak = await passphraseFloorError(next);
    if (weak) return action.setError(weak);
    const result = await action.run(() =>
      track((onProgress) => client.changePassphrase(current, next, kdf, onProgress)),
    );
    if (!result.ok) return;
    setCurrent('');
    setNext('');
    setRepeat('');
    setDone(true);
  };

  return (
    <form class="card stack" onSubmit={submit} aria-labelledby="change-pass-title" noValidate>
      <h2 id="change-pass-title">Change passphrase</h2>
      <Field
        type="password"
        label="Current passphrase"
        value={current}
        onInput={setCurrent}
        autoComplete="current-password"
        disabled={action.busy}
      />
      <NewPassphraseFields next={next} repeat={repeat} onNext={setNext} onRepeat={setRepeat} disabled={action.busy} />
      <p class="warning">
        Without a recovery kit, a forgotten passphrase cannot be recovered. Your recovery kit keeps working. Backups
        keep their own passphrase.
      </p>
      <ErrorAlert message={action.error} />
      <KdfProgressBar progress={progress} label="Changing passphrase" />
      <Notice>{done ? 'Passphrase changed.' : null}</Notice>
      <button type="submit" class="primary" disabled={action.busy}>
        Change passphrase
      </button>
    </form>
  );
}
