import { useEffect, useState } from 'preact/hooks';
import type { DeviceInfo } from '../../lib/hub-client/api';
import type { PageDeviceApi } from '../../lib/web-vault/page-devices';
import { ErrorAlert } from '../shared/alert';
import { errorMessage } from '../../lib/errors';

/** The web vault's "Devices" tab once it joined an account: the account's devices, checked against their chain. */
export function WebDevices({ api }: { api: PageDeviceApi }) {
  const [list, setList] = useState<DeviceInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // A joined-device record this version cannot read (storage_invalid / storage_version_unsupported) is shown, not hidden.
  let joined: ReturnType<PageDeviceApi['joined']> = null;
  let damaged: string | null = null;
  try {
    joined = api.joined();
  } catch (err) {
    damaged = errorMessage(err);
  }
  const load = async () => {
    setBusy(true);
    setError(null);
    try {
      setList(await api.devices());
    } catch (err) {
      setList(null);
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    if (joined) void load();
  }, []);
  if (damaged) return <ErrorAlert message={damaged} />;
  if (!joined) return <p class="muted">This vault was created here, not joined to an account on a hub.</p>;
  return (
    <section class="card stack" aria-label="Devices">
      <h2>Devices</h2>
      <p class="muted small-text">
        Hub {joined.hubUrl}, account <code class="mono">{joined.accountId}</code>
      </p>
      {list ? (
        <ul class="stack" aria-label="Devices of this account">
          {list.map((d) => (
            <li key={d.deviceKeyId}>
              <strong>{d.name ?? 'Device'}</strong> <code class="mono">{d.fingerprint}</code>
              {d.isThisDevice ? ' (this device)' : ''}
              {d.revokedAt !== null ? ' — removed' : ''}
              {d.removalUnverified
                ? ' — the hub says removed, but no device of yours signed a removal (not trusted)'
                : ''}
            </li>
          ))}
        </ul>
      ) : null}
      <ErrorAlert message={error} />
      <div class="actions">
        <button type="button" disabled={busy} onClick={() => void load()}>
          Refresh
        </button>
      </div>
    </section>
  );
}
