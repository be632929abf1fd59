import { useMemo, useState } from 'preact/hooks';
import type { PendingIntentView } from '../../lib/hub-client/api';
import {
  dailyLimitProblem,
  dailyLimitWords,
  httpRuleScope,
  httpRuleParts,
  pathPrefixProblem,
  RULE_LIMIT_DEFAULT,
  RULE_LIMIT_MAX,
  RULE_LIMIT_MIN,
  type HttpRuleScope,
} from '../../lib/hub-client/http-rule-scope';
import type { ArmedActions } from '../shared/use-armed-action';

/** What the person chose for the rule; the background checks it again against the request before signing. */
export interface HttpRuleChoice {
  path_prefix: string;
  limit_per_day: number;
}

function scopeOf(view: PendingIntentView): HttpRuleScope | null {
  try {
    return httpRuleScope(view.intent.payload);
  } catch {
    return null;
  }
}

/**
 * "Don't ask again" for an http.request (issue 18): a rule, not one payload, so the card first says its scope in
 * words and lets the person narrow the path prefix and set the daily limit. Opening the choice approves nothing;
 * only its own button does, and that button is armed like Approve (input-arming.ts). The parent keys this on the
 * intent id, so another card starts again from the request's own path and the default limit.
 */
export function HttpRuleOptions({
  view,
  disabled,
  armed,
  onAlways,
}: {
  view: PendingIntentView;
  /** As Approve: busy, expired, blocked or a high risk not acknowledged. */
  disabled: boolean;
  armed: ArmedActions;
  onAlways: (rule: HttpRuleChoice) => void;
}) {
  const scope = useMemo(() => scopeOf(view), [view]);
  const [open, setOpen] = useState(false);
  const [prefix, setPrefix] = useState(scope?.path ?? '/');
  const [limitText, setLimitText] = useState(String(RULE_LIMIT_DEFAULT));
  if (!scope) return null;
  if (!open)
    return (
      <button type="button" class="link" disabled={disabled} aria-expanded={false} onClick={() => setOpen(true)}>
        Don't ask again…
      </button>
    );
  // Digits only: Number('') is 0 and Number('1e3') is 1000, neither what the person typed.
  const limit = /^[0-9]{1,6}$/.test(limitText.trim()) ? Number(limitText.trim()) : NaN;
  const problem = pathPrefixProblem(prefix, scope.path) ?? dailyLimitProblem(limit);
  const limitShown = Number.isNaN(limit) ? `up to ${limitText.trim() || '…'} calls a day` : dailyLimitWords(limit);
  const words = httpRuleParts({ ...scope, path_prefix: prefix });
  return (
    <div class="http-rule-options stack" role="group" aria-label="Don't ask again for calls like this">
      <p class="http-rule-words" id="http-rule-words">
        Don't ask again for <strong class="mono">{words.call}</strong> {words.using} — {limitShown}.
      </p>
      <div class="row">
        <div class="field http-rule-prefix">
          <label for="http-rule-prefix">Path prefix</label>
          <input
            id="http-rule-prefix"
            class="mono"
            value={prefix}
            spellcheck={false}
            autocomplete="off"
            aria-invalid={pathPrefixProblem(prefix, scope.path) !== null}
            aria-describedby="http-rule-problem"
            onInput={(e) => setPrefix(e.currentTarget.value)}
          />
        </div>
        <div class="field http-rule-limit">
          <label for="http-rule-limit">Calls a day</label>
          <input
            id="http-rule-limit"
            type="number"
            inputMode="numeric"
            min={RULE_LIMIT_MIN}
            max={RULE_LIMIT_MAX}
            step={1}
            value={limitText}
            aria-invalid={dailyLimitProblem(limit) !== null}
            aria-describedby="http-rule-problem"
            onInput={(e) => setLimitText(e.currentTarget.value)}
          />
        </div>
      </div>
      {problem ? (
        <p class="alert alert-error small-text" id="http-rule-problem" role="alert">
          {problem}
        </p>
      ) : (
        <p class="muted small-text" id="http-rule-problem">
          Any query, body and other headers. Outside this rule, or past the limit in 24 hours, you are asked again.
          Revoke it in the Agents tab.
        </p>
      )}
      <div class="actions">
        <button
          type="button"
          class="primary small"
          disabled={disabled || problem !== null}
          aria-describedby="http-rule-words"
          {...armed.bind('always', () => onAlways({ path_prefix: prefix, limit_per_day: limit }))}
        >
          Approve and don't ask again
        </button>
        <button type="button" class="link" onClick={() => setOpen(false)}>
          Cancel
        </button>
      </div>
    </div>
  );
}
