import { useCallback, useEffect, useState } from 'preact/hooks';
import { utf8Encode } from '../../lib/bytes';
import type { ActivityEntryView, ActivityPage, AuditIntegrity } from '../../lib/hub-client/activity';
import type { HttpCallView } from '../../lib/hub-client/api';
import type { HubApi } from '../../lib/ext/hub/hub-api';
import { ErrorAlert } from '../shared/alert';
import { downloadBytes } from '../shared/download';
import { errorMessage } from '../../lib/errors';

const when = (ms: number) => new Date(ms).toLocaleString();

/** An audit entry recording a request the hub turned away (lib/protocol/audit-actions.ts). */
const isRefusal = (action: string) => action.includes('.refused.');

/**
 * What this device concluded about the hub's signed audit head (issue 13 item 8): a warning when the hub's log does
 * not extend the one this device saw before, a quiet line when it does, and the kept head as a file for
 * `clawkeep audit verify --head` on the hub's machine.
 */
export function AuditIntegrityNote({ integrity }: { integrity: AuditIntegrity }) {
  const kept = integrity.kept;
  const keptSeq = (kept?.statement as { seq?: number } | undefined)?.seq;
  const exportHead = () => {
    if (!kept) return;
    downloadBytes(utf8Encode(JSON.stringify(kept, null, 2) + '\n'), `clawkeep-audit-head-${keptSeq ?? 'kept'}.json`);
  };
  return (
    <div class="stack">
      {integrity.status === 'rewritten' ? (
        <p class="alert alert-error" role="alert" aria-label="Audit log warning">
          The hub's activity log was rewritten since{' '}
          {integrity.since !== undefined ? when(integrity.since) : 'this device first looked'}: {integrity.reason}{' '}
          {keptSeq !== undefined ? `This device keeps the last log it verified (${keptSeq} entries). ` : ''}
          Export it and run <code class="mono">clawkeep audit verify --data DIR --head FILE</code> on the hub's machine.
        </p>
      ) : (
        <p class="muted small-text" aria-label="Audit log check">
          {integrity.status === 'first'
            ? 'The hub signed its log; this device will check that later logs extend it.'
            : 'The hub signed its log, and it extends the one this device saw before.'}
        </p>
      )}
      {kept ? (
        <div class="actions">
          <button type="button" onClick={exportHead}>
            Export signed head
          </button>
        </div>
      ) : null}
    </div>
  );
}

/**
 * The vault page's "Activity" tab: what happened with this account's agents, from the hub's hash-chained audit log
 * (GET /v1/audit, signed by this device in the background), newest first, in plain words.
 */
export function HubActivity({ hub }: { hub: HubApi }) {
  const [entries, setEntries] = useState<ActivityEntryView[] | null>(null);
  const [page, setPage] = useState<ActivityPage | null>(null);
  const [integrity, setIntegrity] = useState<AuditIntegrity | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [calls, setCalls] = useState<HttpCallView[]>([]);

  const load = useCallback(
    async (before?: number) => {
      setBusy(true);
      setError(null);
      try {
        // The calls come from this device's vault, the entries from the hub: one failing never hides the other.
        if (before === undefined)
          void Promise.resolve()
            .then(() => hub.state())
            .then((s) => setCalls(s.httpCalls))
            .catch(() => {});
        const next = await hub.activity(before);
        setPage(next);
        if (next.integrity) setIntegrity(next.integrity);
        setEntries((shown) => (before === undefined ? next.entries : [...(shown ?? []), ...next.entries]));
      } catch (err) {
        setError(errorMessage(err));
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
      {integrity ? <AuditIntegrityNote integrity={integrity} /> : null}
      {entries === null && !error ? <p class="muted">Loading…</p> : null}
      {entries !== null && entries.length === 0 ? <p class="muted">Nothing yet.</p> : null}
      {entries && entries.length > 0 ? (
        <ol class="item-list" aria-label="Activity entries">
          {entries.map((e) => (
            <li key={e.seq} data-action={e.action}>
              <div class="stack">
                {/* Refused attempts stand out from what happened (issue 15): someone was turned away. */}
                <span class={isRefusal(e.action) ? 'activity-refused' : undefined}>{e.text}</span>
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
        <p class="muted small-text" aria-label="Audit chain head" style={{ overflowWrap: 'anywhere' }}>
          Audit chain head #{page.head.seq}: <code class="mono">{page.head.entry_hash}</code>
        </p>
      ) : null}
      {calls.length > 0 ? <HttpCalls calls={calls} /> : null}
      <ErrorAlert message={error} />
    </section>
  );
}

/**
 * The calls this device made for agents (issue 18 "Audit"; lib/ext/approvals/http-call-log.ts): agent, method, host,
 * path, status, size, and whether a secret was cut from the answer. Never a header value, a query or a body.
 */
function HttpCalls({ calls }: { calls: HttpCallView[] }) {
  return (
    <section class="stack" aria-label="Calls made for your agents">
      <h3>Calls made for your agents</h3>
      <ol class="item-list" aria-label="Calls">
        {calls.map((c) => (
          <li key={c.intent_id}>
            <div class="stack">
              <span style={{ overflowWrap: 'anywhere' }}>
                {c.agentName}: {c.method} {c.host}
                {c.path} →{' '}
                {c.outcome === 'failed'
                  ? 'no answer'
                  : c.redirected
                    ? 'a redirect, not followed'
                    : `${c.status}, ${c.bytes} bytes`}
                {c.by === 'rule' ? ' (by a standing rule)' : ''}
              </span>
              {c.redacted.length > 0 || c.withheld ? (
                <span class="activity-refused small-text">
                  {c.withheld
                    ? 'The answer was withheld from the agent: your secret could not be cut out of it for certain.'
                    : `Your secret was in the answer (${c.redacted.join(', ')}) and was cut out before the agent got it.`}
                </span>
              ) : null}
              <span class="muted small-text">
                <time dateTime={new Date(c.time).toISOString()}>{when(c.time)}</time>
              </span>
            </div>
          </li>
        ))}
      </ol>
    </section>
  );
}
