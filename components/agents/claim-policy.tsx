import { DAILY_LIMIT_MAX, DAILY_LIMIT_MIN, type Policy } from '../../lib/protocol/approval';
import { INTENT_KIND_NAMES, INTENT_KINDS, needsDevice } from '../../lib/protocol/intent-kinds';
import { Field } from '../shared/field';

/** What the person picked on the claim screen: kinds to be asked about, and the daily limit as typed. */
export interface PolicyChoice {
  ask: Set<string>;
  /** As typed; empty = no limit. */
  dailyLimit: string;
}

/** Everything checked, no limit: the same as the default policy. */
export function defaultPolicyChoice(): PolicyChoice {
  return { ask: new Set(INTENT_KIND_NAMES), dailyLimit: '' };
}

/** The policy to sign, or a message saying what to fix. The background checks it again. */
export function policyFromChoice(choice: PolicyChoice): { policy: Policy } | { error: string } {
  const typed = choice.dailyLimit.trim();
  let dailyLimit: number | null = null;
  if (typed !== '') {
    const n = Number(typed);
    if (!/^\d+$/.test(typed) || n < DAILY_LIMIT_MIN || n > DAILY_LIMIT_MAX) {
      return {
        error: `The daily limit must be a whole number from ${DAILY_LIMIT_MIN} to ${DAILY_LIMIT_MAX}, or empty for no limit.`,
      };
    }
    dailyLimit = n;
  }
  const kinds = INTENT_KIND_NAMES.filter((k) => needsDevice(k) || choice.ask.has(k)).sort();
  return { policy: { approval_required: kinds, daily_limit: dailyLimit } };
}

/** The claim screen's policy: "Ask me before: <kind>" per kind and a daily limit. Signed into the claim. */
export function ClaimPolicyFields({
  value,
  onChange,
  disabled,
}: {
  value: PolicyChoice;
  onChange: (next: PolicyChoice) => void;
  disabled?: boolean;
}) {
  return (
    <fieldset class="stack" aria-label="Policy">
      <legend>Policy</legend>
      {INTENT_KIND_NAMES.map((kind) => {
        const always = needsDevice(kind);
        return (
          <label key={kind}>
            <input
              type="checkbox"
              checked={always || value.ask.has(kind)}
              disabled={disabled || always}
              onChange={(e) => {
                const ask = new Set(value.ask);
                if (e.currentTarget.checked) ask.add(kind);
                else ask.delete(kind);
                onChange({ ...value, ask });
              }}
            />{' '}
            Ask me before: {kind} <span class="muted small-text">({INTENT_KINDS[kind].description.toLowerCase()})</span>
            {always ? (
              <span class="hint">
                {' '}
                {kind === 'http.request'
                  ? 'Always asked (or answered by a rule you set): only this device holds your secrets and makes the call.'
                  : 'Always asked: only this device can open your vault and seal a secret, so the hub cannot hand one out by itself.'}
              </span>
            ) : null}
          </label>
        );
      })}
      <p class="muted small-text">Unchecked kinds are approved by the hub at once, without asking you.</p>
      <Field
        label="Daily limit (requests per day)"
        type="number"
        min={DAILY_LIMIT_MIN}
        max={DAILY_LIMIT_MAX}
        step={1}
        value={value.dailyLimit}
        onInput={(dailyLimit) => onChange({ ...value, dailyLimit })}
        disabled={disabled}
        hint="Empty: no limit. Counts every request in the last 24 hours."
      />
    </fieldset>
  );
}
