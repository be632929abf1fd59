import { useEffect, useState } from 'preact/hooks';
import { DEFAULT_ARGON2ID, DEFAULT_PBKDF2, describeKdf, type KdfParams } from '../../lib/crypto/kdf-params';
import { ErrorAlert, Notice } from '../shared/alert';
import { useVaultClient } from '../app/client-context';
import { Field } from '../shared/field';
import { draftFromParams, KdfFields, paramsFromDraft } from '../unlock/kdf-fields';
import { KdfProgressBar } from '../unlock/kdf-progress-bar';
import { useAction } from '../shared/use-action';
import { useKdfProgress } from '../unlock/use-kdf-progress';

/** Pick the key derivation, see what unlock will cost on this device, then re-protect the vault key with it. */
export function KdfSettings({ current, onSaved }: { current: KdfParams | null; onSaved: () => Promise<void> }) {
  const client = useVaultClient();
  const base = current ?? DEFAULT_ARGON2ID;
  const [draft, setDraft] = useState(() =>
    draftFromParams(base, base.algorithm === 'argon2id' ? DEFAULT_PBKDF2 : DEFAULT_ARGON2ID),
  );
  const [passphrase, setPassphrase] = useState('');
  const [note, setNote] = useState<string | null>(null);
  const measure = useAction();
  const save = useAction();
  const { progress, track } = useKdfProgress();
  const busy = measure.busy || save.busy;

  // A measurement describes the parameters it ran with; editing them makes it stale.
  useEffect(() => setNote(null), [draft]);

  const parse = (): KdfParams | null => {
    const parsed = paramsFromDraft(draft);
    if (parsed.ok) return parsed.params;
    measure.setError(parsed.error);
    return null;
  };

  const runMeasure = async (): Promise<void> => {
    if (busy) return;
    save.setError(null);
    const params = parse();
    if (!params) return;
    const result = await measure.run(() => track(() => client.measureKdf(params)));
    if (result.ok) setNote(`Unlock will take about ${Math.round(result.value)} ms`);
  };

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (busy) return;
    measure.setError(null);
    const params = parse();
    if (!params) return;
    if (!passphrase) return save.setError('Enter your current passphrase to apply the new settings.');
    const result = await save.run(() =>
      track((onProgress) => client.changePassphrase(passphrase, passphrase, params, onProgress)),
    );
    if (!result.ok) return;
    setPassphrase('');
    setNote(`Saved: ${describeKdf(params)}.`);
    await onSaved();
  };

  return (
    <form class="card stack" onSubmit={submit} aria-labelledby="kdf-title" noValidate>
      <h2 id="kdf-title">Key derivation</h2>
      <p class="muted">
        Currently: {current ? describeKdf(current) : 'unknown'}. Slower settings make guessing your passphrase harder
        and unlocking slower.
      </p>
      <KdfFields draft={draft} onChange={setDraft} disabled={busy} />
      <div class="actions">
        <button type="button" onClick={runMeasure} disabled={busy}>
          Measure
        </button>
      </div>
      <Field
        type="password"
        label="Confirm with current passphrase"
        value={passphrase}
        onInput={setPassphrase}
        autoComplete="current-password"
        disabled={busy}
      />
      <ErrorAlert message={measure.error ?? save.error} />
      <KdfProgressBar progress={progress} label={measure.busy ? 'Measuring' : 'Applying'} />
      <Notice>{note}</Notice>
      <button type="submit" class="primary" disabled={busy}>
        Save KDF settings
      </button>
    </form>
  );
}
