import { useEffect, useState } from 'preact/hooks';
import type { KdfParams } from '../../lib/crypto/kdf-params';
import type { JoinApi, JoinStatus } from '../../lib/web-vault/page-devices';
import { ErrorAlert } from '../shared/alert';
import { Field } from '../shared/field';
import { PassphraseStrength, passphraseFloorError } from './passphrase-strength';
import { useAction } from '../shared/use-action';
import { errorMessage } from '../../lib/errors';

const POLL_MS = 1500;

/**
 * First run, next to "Create your vault": join an existing vault as a new device. The hub URL → a code and this
 * device's fingerprint to compare on the other device → (after its one-click approval) a passphrase for this device.
 */
export function JoinVault({
  api,
  defaultKdf,
  onJoined,
  onCancel,
}: {
  api: JoinApi;
  defaultKdf: KdfParams;
  onJoined: () => void;
  onCancel: () => void;
}) {
  const [hubUrl, setHubUrl] = useState('http://127.0.0.1:8787');
  const [name, setName] = useState('Web vault');
  const [pairing, setPairing] = useState<{ code: string; fingerprint: string; expiresAt: number } | null>(null);
  const [status, setStatus] = useState<JoinStatus['status']>('pending');
  const [approvedBy, setApprovedBy] = useState<string | null>(null);
  const [passphrase, setPassphrase] = useState('');
  const [repeat, setRepeat] = useState('');
  const action = useAction();

  useEffect(() => {
    if (!pairing || status !== 'pending') return;
    const timer = setInterval(() => {
      api.pollJoin().then(
        (s) => {
          setApprovedBy(s.approvedBy);
          setStatus(s.status);
        },
        (err) => action.setError(errorMessage(err)),
      );
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [pairing, status]);
  useEffect(() => () => api.cancelJoin(), []);

  if (!pairing) {
    return (
      <form
        class="card stack"
        aria-labelledby="join-title"
        onSubmit={(e) => {
          e.preventDefault();
          // Straight from the submit, before any await: in the extension a hub on another machine makes the browser
          // ask for its host permission, and that prompt needs this user gesture (lib/ext/hub/hub-page.ts).
          void action
            .run(() => api.startJoin(hubUrl, name))
            .then((r) => {
              if (r.ok) {
                setStatus('pending');
                setPairing(r.value);
              }
            });
        }}
      >
        <h2 id="join-title">Join an existing vault</h2>
        <p>
          Use the vault you already have on another device. That device approves this one; the hub never sees the vault
          key.
        </p>
        <Field label="Hub URL" value={hubUrl} onInput={setHubUrl} required disabled={action.busy} />
        <Field label="Name of this device" value={name} onInput={setName} disabled={action.busy} />
        <ErrorAlert message={action.error} />
        <div class="actions">
          <button type="submit" class="primary" disabled={action.busy}>
            Get a pairing code
          </button>
          <button type="button" onClick={onCancel}>
            Back
          </button>
        </div>
      </form>
    );
  }
  if (status === 'approved') {
    return (
      <form
        class="card stack"
        aria-labelledby="join-pass-title"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (!passphrase) return action.setError('Enter a passphrase.');
          if (passphrase !== repeat) return action.setError('The passphrases do not match.');
          void passphraseFloorError(passphrase).then((weak) => {
            if (weak) return action.setError(weak);
            void action.run(() => api.finishJoin(passphrase, defaultKdf)).then((r) => r.ok && onJoined());
          });
        }}
      >
        <h2 id="join-pass-title">Choose a passphrase for this device</h2>
        <p>
          Approved by the device with fingerprint{' '}
          <code class="mono" data-testid="approved-by">
            {approvedBy}
          </code>{' '}
          (its Agents tab shows it after "Approving as"). If that is not your device, close this page.
        </p>
        <p>Choose the passphrase that protects the vault here; it can differ from the other device's.</p>
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
        <ErrorAlert message={action.error} />
        <button type="submit" class="primary" disabled={action.busy} aria-busy={action.busy}>
          Join vault
        </button>
      </form>
    );
  }
  return (
    <div class="card stack" aria-labelledby="join-code-title">
      <h2 id="join-code-title">Approve this device</h2>
      {status === 'pending' ? (
        <>
          <p>
            On a device that already has the vault open: Agents → Devices → enter this code, check the fingerprint,
            approve.
          </p>
          <p class="mono big" data-testid="pairing-code">
            {pairing.code}
          </p>
          <p>
            This device's fingerprint:{' '}
            <code class="mono" data-testid="device-fingerprint">
              {pairing.fingerprint}
            </code>
          </p>
          <p class="muted" role="status">
            Waiting for approval…
          </p>
        </>
      ) : (
        <p role="alert">
          {status === 'expired' ? 'The code expired before it was approved.' : 'The pairing was refused.'}
        </p>
      )}
      <ErrorAlert message={action.error} />
      <div class="actions">
        <button
          type="button"
          onClick={() => {
            api.cancelJoin();
            setPairing(null);
          }}
        >
          {status === 'pending' ? 'Cancel' : 'Start again'}
        </button>
      </div>
    </div>
  );
}
