import { UsageLine } from './usage-line';
import type { HttpRuleView } from '../../lib/hub-client/api';
import { dailyLimitWords } from '../../lib/hub-client/http-rule-scope';

/**
 * The Agents tab's standing rules for HTTP requests (issue 18): each rule's scope in the words the card used, how
 * much of its daily limit the last 24 hours took, and Revoke (the same revoke as a standing approval).
 */
export function HttpRulesList({
  rules,
  busy,
  onRevoke,
}: {
  rules: HttpRuleView[];
  busy: boolean;
  onRevoke: (id: string) => void;
}) {
  if (rules.length === 0) return null;
  return (
    <ul class="item-list" aria-label="HTTP request rules">
      {rules.map((r) => (
        <li key={r.id}>
          <div class="stack">
            <span>
              <strong>{r.agentName}</strong> may call <span class="mono">{r.call}</span> {r.using} —{' '}
              {dailyLimitWords(r.limit_per_day)}
            </span>
            <span class="small-text">
              {r.usedToday.toLocaleString('en-US')} of {r.limit_per_day.toLocaleString('en-US')} in the last 24 hours
              {r.usedToday >= r.limit_per_day ? ' (limit reached: calls ask you again)' : ''}
            </span>
            <UsageLine created_at={r.created_at} uses={r.uses} last_used_at={r.last_used_at} />
            <div class="actions">
              <button
                type="button"
                class="danger-outline"
                disabled={busy}
                aria-label={`Revoke rule for ${r.method} ${r.host}${r.path_prefix} (${r.agentName})`}
                onClick={() => onRevoke(r.id)}
              >
                Revoke
              </button>
            </div>
          </div>
        </li>
      ))}
    </ul>
  );
}
