import { useId } from 'preact/hooks';
import { suggestCandidate, sourceFor, type EnvCandidate } from '../../lib/deploy/env-prefill';
import type { EnvSource, EnvSpec } from '../../lib/deploy/types';

/** Where one env var's value comes from: a vault value (by candidate id) or typed here. */
export type EnvChoice = { kind: 'vault'; candidateId: string } | { kind: 'typed'; value: string };
export type EnvChoices = Record<string, EnvChoice>;

const TYPED = '__typed__';

/** Prefill: the vault value whose name matches, else the previous source, else the manifest default (typed). */
export function initialChoices(spec: EnvSpec[], candidates: EnvCandidate[], previous: EnvSource[] = []): EnvChoices {
  const out: EnvChoices = {};
  for (const entry of spec) {
    const prev = previous.find((s) => s.key === entry.key);
    const prevCandidate = prev && !('literal' in prev) ? candidates.find((c) => sameSource(c, prev)) : undefined;
    if (prevCandidate) out[entry.key] = { kind: 'vault', candidateId: prevCandidate.id };
    else if (prev && 'literal' in prev) out[entry.key] = { kind: 'typed', value: prev.literal };
    else {
      const match = suggestCandidate(entry.key, candidates);
      out[entry.key] = match
        ? { kind: 'vault', candidateId: match.id }
        : { kind: 'typed', value: entry.sensitive ? '' : (entry.default ?? '') };
    }
  }
  return out;
}

function sameSource(c: EnvCandidate, s: Exclude<EnvSource, { literal: string }>): boolean {
  if (c.source.itemId !== s.itemId || c.source.field !== s.field) return false;
  return s.field === 'value' || ('name' in c.source && c.source.name === s.name);
}

/** The sources to record, and the required vars that have none. Empty optional vars are simply not sent. */
export function choicesToSources(
  spec: EnvSpec[],
  choices: EnvChoices,
  candidates: EnvCandidate[],
): { sources: EnvSource[]; missing: string[] } {
  const sources: EnvSource[] = [];
  const missing: string[] = [];
  for (const entry of spec) {
    const choice = choices[entry.key];
    const candidate = choice?.kind === 'vault' ? candidates.find((c) => c.id === choice.candidateId) : undefined;
    if (candidate) sources.push(sourceFor(entry.key, candidate));
    else if (choice?.kind === 'typed' && choice.value !== '') sources.push({ key: entry.key, literal: choice.value });
    else if (entry.required) missing.push(entry.key);
  }
  return { sources, missing };
}

interface EnvFieldsProps {
  spec: EnvSpec[];
  candidates: EnvCandidate[];
  choices: EnvChoices;
  onChange: (next: EnvChoices) => void;
  disabled?: boolean;
}

/** One row per env var the manifest asks for: pick a vault value or type one (secrets are masked). */
export function EnvFields({ spec, candidates, choices, onChange, disabled }: EnvFieldsProps) {
  const id = useId();
  return (
    <div class="stack deploy-env">
      {spec.map((entry, i) => {
        const choice = choices[entry.key] ?? { kind: 'typed', value: '' };
        const set = (next: EnvChoice): void => onChange({ ...choices, [entry.key]: next });
        const selectId = `${id}-src-${i}`;
        const valueId = `${id}-val-${i}`;
        return (
          <fieldset key={entry.key} class="deploy-env-row">
            <legend>
              <code>{entry.key}</code>{' '}
              {entry.required ? <span class="badge">required</span> : <span class="badge">optional</span>}{' '}
              {entry.sensitive ? <span class="badge badge-warn">secret</span> : null}
            </legend>
            {entry.description ? <p class="hint">{entry.description}</p> : null}
            <div class="field">
              <label for={selectId}>Source of {entry.key}</label>
              <select
                id={selectId}
                disabled={disabled}
                value={choice.kind === 'vault' ? choice.candidateId : TYPED}
                onChange={(e) => {
                  const v = e.currentTarget.value;
                  set(
                    v === TYPED
                      ? { kind: 'typed', value: entry.sensitive ? '' : (entry.default ?? '') }
                      : { kind: 'vault', candidateId: v },
                  );
                }}
              >
                {candidates.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.label}
                  </option>
                ))}
                <option value={TYPED}>Type a value</option>
              </select>
            </div>
            {choice.kind === 'typed' ? (
              <div class="field">
                <label for={valueId}>Value of {entry.key}</label>
                <input
                  id={valueId}
                  type={entry.sensitive ? 'password' : 'text'}
                  autoComplete="off"
                  spellcheck={false}
                  disabled={disabled}
                  value={choice.value}
                  placeholder={!entry.sensitive && entry.default ? entry.default : ''}
                  onInput={(e) => set({ kind: 'typed', value: e.currentTarget.value })}
                />
              </div>
            ) : null}
          </fieldset>
        );
      })}
    </div>
  );
}
