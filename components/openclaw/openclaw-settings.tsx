import { useEffect, useState } from 'preact/hooks';
import { DEFAULT_GATEWAY_URL } from '../../lib/ext/openclaw/openclaw-config';
import type { OpenClawApi, OpenClawState } from '../../lib/ext/openclaw/openclaw-api';
import { ErrorAlert } from '../shared/alert';
import { Field } from '../shared/field';
import { statusLine, useOpenClawState } from './openclaw-use-state';
import { errorMessage } from '../../lib/errors';

/**
 * Settings → "OpenClaw gateway": the gateway address and token (stored encrypted in the vault), Connect /
 * Disconnect, and the connection status with the one command to run on the gateway host when it refuses us.
 */
export function OpenClawSettings({ api }: { api: OpenClawApi }) {
  const { state, setState, error: loadError } = useOpenClawState(api);
  const [url, setUrl] = useState(DEFAULT_GATEWAY_URL);
  const [token, setToken] = useState('');
  const [allAgents, setAllAgents] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const storedUrl = state?.url ?? null;
  const storedAllAgents = state?.allAgents === true;
  useEffect(() => {
    if (storedUrl) setUrl(storedUrl);
  }, [storedUrl]);
  useEffect(() => setAllAgents(storedAllAgents), [storedAllAgents]);

  const run = async (fn: () => Promise<OpenClawState>) => {
    setBusy(true);
    setError(null);
    try {
      setState(await fn());
      setToken('');
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card stack" aria-label="OpenClaw gateway">
      <h2>OpenClaw gateway</h2>
      <p class="muted small-text">
        Clawkeep connects as an operator to approve your agents' commands. It asks only for operator.approvals unless
        you let it approve every agent below. Use wss:// for a gateway on another machine; plain ws:// is accepted only
        for this computer.
      </p>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void run(() => api.save(url, token, allAgents));
        }}
      >
        <Field label="Gateway address" value={url} onInput={setUrl} placeholder={DEFAULT_GATEWAY_URL} />
        <Field
          label="Gateway token"
          type="password"
          value={token}
          onInput={setToken}
          autoComplete="off"
          hint={
            state?.configured
              ? 'Stored encrypted in the vault. Leave empty to keep it.'
              : 'gateway.auth.token on the gateway host. Stored encrypted in the vault.'
          }
        />
        <label>
          <input type="checkbox" checked={allAgents} onChange={(e) => setAllAgents(e.currentTarget.checked)} /> Approve
          every agent's commands (asks for <code class="mono">operator.admin</code>)
          <span class="hint">
            {' '}
            Without it the gateway shows Clawkeep only the runs this device started. operator.admin can also run
            commands and change the gateway's settings: allow it only on your own gateway.
          </span>
        </label>
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            {state?.configured ? 'Save and connect' : 'Connect'}
          </button>
          {state?.configured ? (
            <>
              <button type="button" disabled={busy} onClick={() => void run(() => api.connect())}>
                Reconnect
              </button>
              <button
                type="button"
                disabled={busy || state.status === 'off'}
                onClick={() => void run(() => api.disconnect())}
              >
                Disconnect
              </button>
              <button type="button" class="danger-outline" disabled={busy} onClick={() => void run(() => api.forget())}>
                Forget gateway
              </button>
            </>
          ) : null}
        </div>
      </form>
      {state ? (
        <div role="status" aria-label="OpenClaw status" class="stack">
          <p>
            <strong>{statusLine(state)}</strong>
          </p>
          {state.problem && state.status !== 'connected' ? <p class="notes">{state.problem.action}</p> : null}
          {state.problem?.code === 'PAIRING_REQUIRED' && state.status !== 'connected' ? (
            <p class="muted small-text">
              Clawkeep checks again every 10 seconds and connects once the device is approved.
            </p>
          ) : null}
          {state.deviceId ? (
            <p class="muted small-text">
              Device <code class="mono">{state.deviceId.slice(0, 16)}…</code> · origin{' '}
              <code class="mono">{state.origin}</code>
            </p>
          ) : null}
        </div>
      ) : null}
      <ErrorAlert message={error ?? loadError} />
    </section>
  );
}
