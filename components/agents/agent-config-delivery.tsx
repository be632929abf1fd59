import { useState } from 'preact/hooks';
import type { HubState } from '../../lib/hub-client/api';
import type { HubApi } from '../../lib/ext/hub/hub-api';
import { ErrorAlert, Notice } from '../shared/alert';
import { ago } from './hub-use-state';
import { useAction } from '../shared/use-action';

/**
 * The Agents tab's "Agent configs": pick a vault agent config for a claimed agent and assign it. The background
 * seals it to that agent and re-delivers each edit; this only shows what was delivered and sends the person's choice.
 */
export function AgentConfigDelivery({
  hub,
  state,
  onState,
}: {
  hub: HubApi;
  state: HubState;
  onState: (s: HubState) => void;
}) {
  const { busy, error, run } = useAction();
  const [picked, setPicked] = useState<Record<string, string>>({});
  const [note, setNote] = useState<string | null>(null);
  const agents = state.installations.filter((i) => i.status !== 'revoked' && i.verified);
  const act = async (fn: () => Promise<HubState>, done: (s: HubState) => string) => {
    setNote(null);
    const r = await run(fn);
    if (r.ok) {
      onState(r.value);
      setNote(done(r.value));
    }
  };
  return (
    <section class="card stack" aria-label="Agent configs">
      <h2>Agent configs</h2>
      <p class="muted small-text">
        Give a claimed agent one of your agent configs (model, provider keys, env). It is encrypted to that agent's key
        and signed by this device; the hub only stores ciphertext. Each edit of the config is delivered again as a new
        revision. The agent reads it with <code class="mono">clawkeep agent config --env</code>.
      </p>
      {agents.length === 0 ? <p class="muted">No claimed agents yet.</p> : null}
      {state.agentConfigs.length === 0 ? (
        <p class="muted">No agent configs in the vault yet: add one under Items.</p>
      ) : null}
      <ul class="item-list" aria-label="Agent config assignments">
        {agents.map((agent) => {
          const assigned = state.configAssignments.find((a) => a.installation_id === agent.installation_id);
          const choice = picked[agent.installation_id] ?? assigned?.config_id ?? state.agentConfigs[0]?.id ?? '';
          return (
            <li key={agent.installation_id}>
              <div class="stack">
                <strong>{agent.name}</strong>
                {assigned ? (
                  <span class="small-text" data-testid="config-delivery-status">
                    Delivered revision {assigned.revision} of “{assigned.configName ?? 'a deleted config'}” to{' '}
                    {agent.name} {ago(assigned.delivered_at)}
                    {assigned.outdated ? ' · delivering the edited version…' : ''}
                  </span>
                ) : (
                  <span class="small-text muted">No config assigned.</span>
                )}
                {state.agentConfigs.length > 0 ? (
                  <div class="actions">
                    <label>
                      Config for {agent.name}{' '}
                      <select
                        value={choice}
                        disabled={busy}
                        onChange={(e) =>
                          setPicked({ ...picked, [agent.installation_id]: (e.target as HTMLSelectElement).value })
                        }
                      >
                        {state.agentConfigs.map((c) => (
                          <option key={c.id} value={c.id}>
                            {c.name}
                          </option>
                        ))}
                      </select>
                    </label>
                    <button
                      type="button"
                      class="primary"
                      disabled={busy || !choice}
                      aria-label={`Assign config to ${agent.name}`}
                      onClick={() =>
                        void act(
                          () => hub.assignConfig(choice, agent.installation_id),
                          (s) => {
                            const a = s.configAssignments.find((x) => x.installation_id === agent.installation_id);
                            return a ? `Delivered revision ${a.revision} to ${agent.name}.` : 'Assigned.';
                          },
                        )
                      }
                    >
                      Assign
                    </button>
                    {assigned ? (
                      <button
                        type="button"
                        class="danger-outline"
                        disabled={busy}
                        aria-label={`Unassign config from ${agent.name}`}
                        onClick={() =>
                          void act(
                            () => hub.unassignConfig(agent.installation_id),
                            () => `${agent.name} has no config now.`,
                          )
                        }
                      >
                        Unassign
                      </button>
                    ) : null}
                  </div>
                ) : null}
              </div>
            </li>
          );
        })}
      </ul>
      <ErrorAlert message={error} />
      <Notice>{note}</Notice>
    </section>
  );
}
