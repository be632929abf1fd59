import { useRef, useState } from 'preact/hooks';
import { ErrorAlert } from '../shared/alert';
import { useVaultClient } from '../app/client-context';
import { Field } from '../shared/field';
import { KdfProgressBar } from './kdf-progress-bar';
import { useAction } from '../shared/use-action';
import { useKdfProgress } from './use-kdf-progress';
import { waitingSentence } from './use-waiting';

/**
 * The locked screen: one passphrase field; Enter unlocks. `waiting`: agent requests the locked watcher counted
 * (issue 15), said right above the field so the person knows why to unlock.
 */
export function UnlockForm({ onUnlocked, waiting = 0 }: { onUnlocked: () => void; waiting?: number }) {
  const client = useVaultClient();
  const [passphrase, setPassphrase] = useState('');
  const action = useAction();
  const { progress, track } = useKdfProgress();
  const formRef = useRef<HTMLFormElement>(null);

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (action.busy) return;
    if (!passphrase) return action.setError('Enter your passphrase.');
    const result = await action.run(() => track((onProgress) => client.unlock(passphrase, onProgress)));
    if (result.ok) {
      setPassphrase('');
      onUnlocked();
    } else {
      // Keep the text so a typo can be fixed, but select it so retyping replaces it.
      formRef.current?.querySelector<HTMLInputElement>('input[type="password"]')?.select();
    }
  };

  return (
    <form ref={formRef} class="card stack" onSubmit={submit} aria-labelledby="unlock-title" noValidate>
      <h2 id="unlock-title">Vault locked</h2>
      {waiting > 0 ? (
        <p class="waiting-notice" role="status">
          {waitingSentence(waiting)}
        </p>
      ) : null}
      <Field
        type="password"
        label="Passphrase"
        value={passphrase}
        onInput={setPassphrase}
        autoComplete="current-password"
        autoFocus
        disabled={action.busy}
      />
      <ErrorAlert message={action.error} />
      <KdfProgressBar progress={progress} label="Unlocking" />
      <button type="submit" class="primary" disabled={action.busy} aria-busy={action.busy}>
        Unlock
      </button>
    </form>
  );
}
