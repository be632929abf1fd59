import { useState } from 'preact/hooks';
import { ErrorAlert, Notice } from '../shared/alert';
import { useVaultClient } from '../app/client-context';
import { TextArea } from '../shared/field';
import { useAction } from '../shared/use-action';

/** The 24 words, numbered, in reading order; printable (the rest of the page is hidden by the print stylesheet). */
function WordList({ words }: { words: string[] }) {
  return (
    <ol class="recovery-words" aria-label="Recovery words">
      {words.map((w, i) => (
        <li key={i}>
          <span class="mono">{w}</span>
        </li>
      ))}
    </ol>
  );
}

/** Typing the words back in, checked against the vault's stored kit (not only against what was shown). */
function VerifyKit({ onVerified, autoFocus }: { onVerified: () => void; autoFocus?: boolean }) {
  const client = useVaultClient();
  const [text, setText] = useState('');
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    if (action.busy) return;
    const result = await action.run(() => client.checkRecoveryKit(text));
    if (result.ok) {
      setText('');
      onVerified();
    }
  };
  return (
    <form class="stack" onSubmit={submit} noValidate>
      <TextArea label="Recovery words" value={text} onInput={setText} rows={4} mono autoFocus={autoFocus} />
      <ErrorAlert message={action.error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={action.busy}>
          Verify recovery kit
        </button>
      </div>
    </form>
  );
}

type Step = { at: 'intro' } | { at: 'show'; words: string[] } | { at: 'verify'; words: string[] } | { at: 'done' };

interface SetupProps {
  /** Regenerating an existing kit: the old words stop working. */
  regenerate?: boolean;
  onDone: () => void;
  /** First run only: leave without a kit (after a warning). */
  onSkip?: () => void;
}

/**
 * Making a kit: generate → show the words once (print or write them down) → type them back → verified.
 * The words live only in this component's state and are dropped as soon as they were verified or abandoned.
 */
export function RecoveryKitSetup({ regenerate = false, onDone, onSkip }: SetupProps) {
  const client = useVaultClient();
  const [step, setStep] = useState<Step>({ at: 'intro' });
  const [skipping, setSkipping] = useState(false);
  const action = useAction();
  const create = async () => {
    const result = await action.run(() => client.createRecoveryKit());
    if (result.ok) setStep({ at: 'show', words: result.value });
  };

  if (step.at === 'show' || step.at === 'verify') {
    return (
      <section class="card stack recovery-kit" aria-labelledby="kit-words-title">
        <h2 id="kit-words-title">Your recovery kit</h2>
        {step.at === 'show' ? (
          <>
            <p>
              Write these 24 words down, in order, on paper, and keep them somewhere safe. Anyone with them can open
              this vault; with them you can open it if you forget your passphrase. They are shown only now.
            </p>
            <WordList words={step.words} />
            <div class="actions no-print">
              <button type="button" onClick={() => window.print()}>
                Print
              </button>
              <button type="button" class="primary" onClick={() => setStep({ at: 'verify', words: step.words })}>
                I wrote them down
              </button>
            </div>
          </>
        ) : (
          <>
            <p>Type the 24 words from your paper to check that it is complete and correct.</p>
            <VerifyKit autoFocus onVerified={() => setStep({ at: 'done' })} />
            <button type="button" onClick={() => setStep({ at: 'show', words: step.words })}>
              Show the words again
            </button>
          </>
        )}
      </section>
    );
  }
  if (step.at === 'done') {
    return (
      <section class="card stack" aria-labelledby="kit-done-title">
        <h2 id="kit-done-title">Recovery kit ready</h2>
        <Notice>Recovery kit verified. Keep the paper safe: it opens this vault.</Notice>
        <div class="actions">
          <button type="button" class="primary" autoFocus onClick={onDone}>
            Done
          </button>
        </div>
      </section>
    );
  }
  return (
    <section class="card stack" aria-labelledby="kit-intro-title">
      <h2 id="kit-intro-title">{regenerate ? 'Regenerate your recovery kit' : 'Create your recovery kit'}</h2>
      <p>
        A recovery kit is 24 words that open this vault if you forget your passphrase. They stay on paper and on this
        device only; the hub never sees them.
      </p>
      {regenerate ? (
        <p class="warning">Your current recovery words stop working as soon as the new kit is made.</p>
      ) : null}
      <ErrorAlert message={action.error} />
      <div class="actions">
        <button type="button" class="primary" disabled={action.busy} onClick={() => void create()}>
          {regenerate ? 'Regenerate recovery kit' : 'Create recovery kit'}
        </button>
        {onSkip && !skipping ? (
          <button type="button" onClick={() => setSkipping(true)}>
            Skip for now
          </button>
        ) : null}
      </div>
      {onSkip && skipping ? (
        <div class="confirm stack" role="group" aria-label="Skip the recovery kit">
          <p class="warning">
            Without a recovery kit, a forgotten passphrase means this vault and everything in it is lost. You can create
            one later in Settings.
          </p>
          <div class="actions">
            <button type="button" class="danger" onClick={onSkip}>
              Skip without a kit
            </button>
            <button type="button" onClick={() => setSkipping(false)}>
              Back
            </button>
          </div>
        </div>
      ) : null}
    </section>
  );
}

/** Settings → "Recovery kit": its state, verifying the paper, regenerating. */
export function RecoveryKitSettings({ createdAt, onChanged }: { createdAt: number | null; onChanged: () => void }) {
  const [making, setMaking] = useState(false);
  const [verified, setVerified] = useState(false);
  if (making) {
    return (
      <RecoveryKitSetup
        regenerate={createdAt !== null}
        onDone={() => {
          setMaking(false);
          onChanged();
        }}
      />
    );
  }
  return (
    <section class="card stack" aria-labelledby="kit-settings-title">
      <h2 id="kit-settings-title">Recovery kit</h2>
      {createdAt === null ? (
        <p class="warning">This vault has no recovery kit: a forgotten passphrase cannot be recovered.</p>
      ) : (
        <p>Created {new Date(createdAt).toLocaleString()}. Only the newest kit works.</p>
      )}
      {createdAt !== null ? (
        <details>
          <summary>Check your paper</summary>
          <VerifyKit onVerified={() => setVerified(true)} />
          <Notice>{verified ? 'These words open this vault.' : null}</Notice>
        </details>
      ) : null}
      <div class="actions">
        <button type="button" onClick={() => setMaking(true)}>
          {createdAt === null ? 'Create recovery kit' : 'Regenerate recovery kit'}
        </button>
      </div>
    </section>
  );
}
