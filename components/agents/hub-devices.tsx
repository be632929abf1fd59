import { useEffect, useState } from 'preact/hooks';
import type { DeviceInfo, DevicePreview } from '../../lib/hub-client/api';
import type { HubApi } from '../../lib/ext/hub/hub-api';
import { ErrorAlert, Notice } from '../shared/alert';
import { Field } from '../shared/field';
import { errorMessage } from '../../lib/errors';

/**
 * Agents tab → "Devices": add a device with the code it shows (the lookup shows its fingerprint and name; one click
 * approves it and hands it the vault key, sealed to it), and the account's devices with "Remove device".
 */
export function HubDevices({ hub }: { hub: HubApi }) {
  const [list, setList] = useState<DeviceInfo[] | null>(null);
  const [code, setCode] = useState('');
  const [preview, setPreview] = useState<DevicePreview | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);

  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    setNote(null);
    try {
      await fn();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    hub.devices().then(setList, (err) => setError(errorMessage(err)));
  }, [hub]);

  return (
    <section class="card stack" aria-label="Devices">
      <h2>Devices</h2>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void run(async () => {
            setPreview(null);
            setPreview(await hub.lookupDevice(code));
          });
        }}
      >
        <Field
          label="Pairing code"
          value={code}
          onInput={setCode}
          required
          hint="Add a device: enter the code the new device shows."
        />
        <div class="actions">
          <button type="submit" disabled={busy}>
            Add a device
          </button>
        </div>
      </form>
      {preview ? (
        <div class="stack" role="group" aria-label="New device">
          <p>
            {preview.name ? <strong>{preview.name}</strong> : 'A new device'} with fingerprint{' '}
            <code class="mono" data-testid="pairing-fingerprint">
              {preview.fingerprint}
            </code>
          </p>
          {preview.keyProblem ? (
            // The box key the vault key would be sealed to is not the one this device key signed: never approvable.
            <p class="alert alert-error" role="alert" data-testid="pairing-key-problem">
              {preview.keyProblem}
            </p>
          ) : (
            <p class="muted">
              Approve only if the new device shows this same fingerprint. It gets this vault's key and can act for your
              account.
            </p>
          )}
          <div class="actions">
            <button
              type="button"
              class="primary"
              disabled={busy || preview.keyProblem !== null}
              onClick={() =>
                void run(async () => {
                  const done = await hub.approveDevice(preview.pairing_id);
                  setNote(`Device ${done.fingerprint} added.`);
                  setPreview(null);
                  setCode('');
                  setList(await hub.devices());
                })
              }
            >
              Approve device
            </button>
            <button
              type="button"
              disabled={busy}
              onClick={() =>
                void run(async () => {
                  await hub.denyDevice(preview.pairing_id);
                  setNote('Device refused.');
                  setPreview(null);
                  setCode('');
                })
              }
            >
              Deny
            </button>
          </div>
        </div>
      ) : null}
      {list ? (
        <ul class="stack" aria-label="Devices of this account">
          {list.map((d) => (
            <li key={d.deviceKeyId} class="stack">
              <div>
                <strong>{d.name ?? (d.isThisDevice ? 'This device' : 'Device')}</strong>{' '}
                <code class="mono">{d.fingerprint}</code>
                {d.isThisDevice ? ' (this device)' : ''}
                <span class="muted small-text"> — added {new Date(d.addedAt).toLocaleString()}</span>
                {d.revokedAt !== null ? (
                  <span class="muted small-text"> — removed {new Date(d.revokedAt).toLocaleString()}</span>
                ) : null}
              </div>
              {d.removalUnverified ? (
                <p class="small-text" role="note">
                  The hub says this device was removed, but shows no removal signed by one of your devices. Clawkeep
                  does not trust that: treat this device as still on the account.
                </p>
              ) : null}
              {d.revokedAt === null && !d.isThisDevice && d.deviceKeyId !== list[0]?.deviceKeyId ? (
                confirming === d.deviceKeyId ? (
                  <div class="confirm" role="group" aria-label="Confirm remove">
                    <span>Remove this device? Its next request to the hub fails.</span>
                    <button
                      type="button"
                      class="danger"
                      disabled={busy}
                      onClick={() =>
                        void run(async () => {
                          setList(await hub.removeDevice(d.deviceKeyId));
                          setConfirming(null);
                          setNote('Device removed.');
                        })
                      }
                    >
                      Yes, remove
                    </button>
                    <button type="button" onClick={() => setConfirming(null)}>
                      Keep it
                    </button>
                  </div>
                ) : (
                  <div class="actions">
                    <button type="button" onClick={() => setConfirming(d.deviceKeyId)}>
                      Remove device
                    </button>
                  </div>
                )
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      <ErrorAlert message={error} />
      <Notice>{note}</Notice>
    </section>
  );
}
