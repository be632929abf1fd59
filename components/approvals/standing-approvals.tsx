import { UsageLine } from './usage-line';
import type { HubState } from '../../lib/hub-client/api';
import type { HubApi } from '../../lib/ext/hub/hub-api';
import { ErrorAlert } from '../shared/alert';
import { useAction } from '../shared/use-action';
import { HttpRulesList } from './http-rules-list';

/** The Agents tab's "Standing approvals": what is approved without asking (exact requests and HTTP rules), and revoking it. */
export function StandingApprovals({
  hub,
  state,
  onState,
}: {
  hub: HubApi;
  state: HubState;
  onState: (s: HubState) => void;
}) {
  const { busy, error, run } = useAction();
  const revoke = (id: string) => run(async () => onState(await hub.revokeStandingApproval(id)));
  return (
    <section class="card stack" aria-label="Standing approvals">
      <h2>Standing approvals</h2>
      <p class="muted small-text">
        Requests approved without asking, while the vault is unlocked. Each covers one agent and one exact request (the
        secret's name and the agent's reason), or for HTTP requests one rule: a method, a host, a path prefix and the
        secrets' places, up to a number of calls a day. Revoke one and the next request it covered asks you again.
      </p>
      {state.standingApprovals.length === 0 && state.httpRules.length === 0 ? (
        <p class="muted">None. Choose "Don't ask again" on a secret or HTTP request to add one.</p>
      ) : null}
      <ul class="item-list" aria-label="Standing approvals list">
        {state.standingApprovals.map((a) => (
          <li key={a.id}>
            <div class="stack">
              <span>
                <strong>{a.agentName}</strong> may read <code class="mono">{a.item}</code>
              </span>
              <span class="small-text notes">Reason: {a.reason || 'none given'}</span>
              <UsageLine created_at={a.created_at} uses={a.uses} last_used_at={a.last_used_at} />
              <div class="actions">
                <button
                  type="button"
                  class="danger-outline"
                  disabled={busy}
                  aria-label={`Revoke standing approval for ${a.item} (${a.agentName})`}
                  onClick={() => void revoke(a.id)}
                >
                  Revoke
                </button>
              </div>
            </div>
          </li>
        ))}
      </ul>
      <HttpRulesList rules={state.httpRules} busy={busy} onRevoke={(id) => void revoke(id)} />
      <ErrorAlert message={error} />
    </section>
  );
}
