import { useEffect, useState } from 'preact/hooks';
import type { ConflictView, SyncApi, SyncStatus } from '../../lib/sync/sync-service';
import type { VaultItem } from '../../lib/vault/types';
import { ErrorAlert } from '../shared/alert';
import { ago } from '../agents/hub-use-state';
import { useAction } from '../shared/use-action';
import { useNewestAnswer } from '../shared/use-newest-answer';

function statusLine(s: SyncStatus): string {
  const pending = s.pending > 0 ? ` · ${s.pending} change${s.pending === 1 ? '' : 's'} waiting to sync` : '';
  switch (s.state) {
    case 'syncing':
      return `Syncing…${pending}`;
    case 'offline':
      return `Offline: the hub cannot be reached${pending || '. Nothing is lost: edits stay here until it can.'}`;
    case 'error':
      return `Sync stopped${pending}`;
    default:
      return `Synced ${ago(s.lastSyncedAt)}${pending}`;
  }
}

function describe(item: VaultItem | null, reveal: boolean): string {
  if (!item) return 'deleted';
  if (item.kind === 'secret')
    return `${item.fields.name}${reveal ? `: ${item.fields.value}` : ''} (saved ${new Date(item.updatedAt || Date.now()).toLocaleString()})`;
  return `${item.fields.name} (agent config, model ${item.fields.model})`;
}

function Conflict({ c, busy, onKeep }: { c: ConflictView; busy: boolean; onKeep: (keep: 'mine' | 'theirs') => void }) {
  const [reveal, setReveal] = useState(false);
  const name = c.mine?.fields.name ?? c.theirs?.fields.name ?? 'an item';
  return (
    <div class="card stack" role="group" aria-label={`Conflict: ${name}`}>
      <strong>“{name}” was changed on this device and on another one.</strong>
      <dl class="details">
        <dt>This device</dt>
        <dd class="mono small-text">{describe(c.mine, reveal)}</dd>
        <dt>Other device</dt>
        <dd class="mono small-text">{describe(c.theirs, reveal)}</dd>
      </dl>
      <div class="actions">
        <button type="button" onClick={() => setReveal(!reveal)} aria-pressed={reveal}>
          {reveal ? 'Hide values' : 'Show values'}
        </button>
        <button type="button" class="primary" disabled={busy} onClick={() => onKeep('mine')}>
          Keep this device's version
        </button>
        <button type="button" disabled={busy} onClick={() => onKeep('theirs')}>
          Keep the other version
        </button>
      </div>
    </div>
  );
}

/** Above the vault tabs: the sync line (last synced, waiting changes, offline, refusals) and any conflicts to resolve. */
export function SyncPanel({ api }: { api: SyncApi }) {
  const [status, setStatus] = useState<SyncStatus | null>(null);
  const action = useAction();
  // Answers can arrive out of order (a change event's status read still in flight when "Keep" answers): only the
  // answer to the most recent question is shown, and every action asks again after it settled, so an older answer
  // can never put a resolved conflict back on screen.
  const ask = useNewestAnswer();
  const show = async (answer: Promise<SyncStatus>): Promise<void> => {
    const isNewest = ask();
    const s = await answer;
    if (isNewest()) setStatus(s);
  };
  const load = () => void show(api.status()).catch(() => {});
  useEffect(() => {
    load();
    return api.subscribe(load);
  }, [api]);
  if (!status || status.state === 'off') return null;
  return (
    <section class="card stack" aria-label="Sync">
      <div class="row">
        <p role="status" aria-label="Sync status">
          {statusLine(status)}
        </p>
        <button
          type="button"
          disabled={action.busy || status.state === 'syncing'}
          onClick={() =>
            void action.run(async () => {
              await show(api.syncNow());
              load();
            })
          }
        >
          Sync now
        </button>
      </div>
      {status.error && status.state === 'error' ? (
        <p class="alert alert-error" role="alert">
          {status.error.message}
        </p>
      ) : null}
      {status.conflicts.map((c) => (
        <Conflict
          key={c.id}
          c={c}
          busy={action.busy}
          onKeep={(keep) =>
            void action.run(async () => {
              await show(api.resolve(c.id, keep));
              load();
            })
          }
        />
      ))}
      <ErrorAlert message={action.error} />
    </section>
  );
}
