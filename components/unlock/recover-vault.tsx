import { useState } from 'preact/hooks';
import { ErrorAlert } from '../shared/alert';
import { useVaultClient } from '../app/client-context';
import { TextArea } from '../shared/field';
import { KdfProgressBar } from './kdf-progress-bar';
import { NewPassphraseFields } from './new-passphrase-fields';
import { passphraseFloorError } from './passphrase-strength';
import { useAction } from '../shared/use-action';
import { useKdfProgress } from './use-kdf-progress';

/** Forgotten passphrase: the recovery kit's words open the vault, which then gets a new passphrase. */
export function RecoverVault({
  hasKit,
  onRecovered,
  onCancel,
}: {
  hasKit: boolean;
  onRecovered: () => void;
  onCancel: () => void;
}) {
  const client = useVaultClient();
  const [words, setWords] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const action = useAction();
  const { progress, track } = useKdfProgress();

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (action.busy) return;
    if (!words.trim()) return action.setError('Enter the 24 words of your recovery kit.');
    if (!next) return action.setError('Choose a new passphrase.');
    if (next !== repeat) return action.setError('The new passphrases do not match.');
    const weak = await passphraseFloorError(next);
    if (weak) return action.setError(weak);
    const result = await action.run(() => track((onProgress) => client.recoverWithKit(words, next, onProgress)));
    if (result.ok) onRecovered();
  };

  return (
    <form class="card stack" onSubmit={submit} aria-labelledby="recover-title" noValidate>
      <h2 id="recover-title">Recover with your recovery kit</h2>
      {hasKit ? (
        <p>
          Enter the 24 words of your newest recovery kit and choose a new passphrase. Everything in the vault stays as
          it is.
        </p>
      ) : (
        <p class="warning">This vault has no recovery kit. Without the passphrase it cannot be opened.</p>
      )}
      <TextArea
        label="Recovery words"
        value={words}
        onInput={setWords}
        rows={4}
        mono
        autoFocus
        disabled={action.busy || !hasKit}
      />
      <NewPassphraseFields
        next={next}
        repeat={repeat}
        onNext={setNext}
        onRepeat={setRepeat}
        disabled={action.busy || !hasKit}
      />
      <ErrorAlert message={action.error} />
      <KdfProgressBar progress={progress} label="Recovering vault" />
      <div class="actions">
        <button type="submit" class="primary" disabled={action.busy || !hasKit}>
          Recover vault
        </button>
        <button type="button" onClick={onCancel} disabled={action.busy}>
          Back to unlock
        </button>
      </div>
    </form>
  );
}
