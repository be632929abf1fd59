import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ActivityEntryView, ActivityPage } from '../lib/hub-client/activity';
import type { HubApi } from '../lib/hub-client/api';
import { ErrorAlert } from './alert';
import { errorText } from './hub-use-state';

const when = (ms: number) => new Date(ms).toLocaleString();

/**
 * The vault page's "Activity" tab: what happened with this account's agents, from the hub's hash-chained audit log
 * (GET /v1/audit, signed by this device in the background), newest first, in plain words.
 */
export function HubActivity({ hub }: { hub: HubApi }) {
  const [entries, setEntries] = useState<ActivityEntryView[] | null>(null);
  const [page, setPage] = useState<ActivityPage | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(
    async (before?: number) => {
      setBusy(true);
      setError(null);
      try {
        const next = await hub.activity(before);
        setPage(next);
        setEntries((shown) => (before === undefined ? next.entries : [...(shown ?? []), ...next.entries]));
      } catch (err) {
        setError(errorText(err));
      } finally {
        setBusy(false);
      }
    },
    [hub],
  );
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section class="card stack" aria-label="Activity">
      <div class="actions">
        <h2>Activity</h2>
        <button type="button" disabled={busy} onClick={() => void load()}>
          Refresh
        </button>
      </div>
      {entries === null && !error ? <p class="muted">Loading…</p> : null}
      {entries !== null && entries.length === 0 ? <p class="muted">Nothing yet.</p> : null}
      {entries && entries.length > 0 ? (
        <ol class="item-list" aria-label="Activity entries">
          {entries.map((e) => (
            <li key={e.seq} data-action={e.action}>
              <div class="stack">
                <span>{e.text}</span>
                <span class="muted small-text">
                  <time dateTime={new Date(e.time).toISOString()}>{when(e.time)}</time> · #{e.seq}
                </span>
              </div>
            </li>
          ))}
        </ol>
      ) : null}
      {page?.nextBefore != null ? (
        <div class="actions">
          <button type="button" disabled={busy} onClick={() => void load(page.nextBefore!)}>
            Load more
          </button>
        </div>
      ) : null}
      {page ? (
        <p class="muted small-text" aria-label="Audit chain head">
          Audit chain head #{page.head.seq}: <code class="mono">{page.head.entry_hash}</code>
        </p>
      ) : null}
      <ErrorAlert message={error} />
    </section>
  );
}
