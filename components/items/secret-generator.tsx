import { useEffect, useId, useState } from 'preact/hooks';
import {
  CHARACTER_SETS,
  generatePassphrase,
  generatePassword,
  PASSPHRASE_WORDS,
  passphraseEntropyBits,
  PASSWORD_LENGTH,
  passwordEntropyBits,
  rateEntropy,
  type CharacterSet,
  type EntropyRating,
} from '../../lib/crypto/secret-generator';
import { Field } from '../shared/field';

type Style = 'characters' | 'words';

const SET_LABELS: Record<CharacterSet, string> = {
  lower: 'Lowercase (a–z)',
  upper: 'Uppercase (A–Z)',
  digits: 'Digits (0–9)',
  symbols: `Symbols (${CHARACTER_SETS.symbols})`,
};
const SEPARATORS = [
  { value: '-', label: 'Hyphen (-)' },
  { value: ' ', label: 'Space' },
  { value: '.', label: 'Period (.)' },
  { value: '_', label: 'Underscore (_)' },
];
const LEVEL: Record<EntropyRating, 1 | 2 | 3 | 4> = { Weak: 1, Fair: 2, Good: 3, Strong: 4 };

interface Draft {
  style: Style;
  length: string;
  sets: CharacterSet[];
  words: string;
  separator: string;
}

type Candidate = { ok: true; value: string; bits: number } | { ok: false; problem: string };

function whole(text: string, range: { min: number; max: number }): number | null {
  const n = Number(text);
  return Number.isInteger(n) && n >= range.min && n <= range.max ? n : null;
}

/** Draws a new value for the draft, or says what to fix (out-of-range length, no character set). */
function draw(d: Draft): Candidate {
  if (d.style === 'words') {
    const words = whole(d.words, PASSPHRASE_WORDS);
    if (words === null)
      return { ok: false, problem: `Choose ${PASSPHRASE_WORDS.min} to ${PASSPHRASE_WORDS.max} words.` };
    return {
      ok: true,
      value: generatePassphrase({ words, separator: d.separator }),
      bits: passphraseEntropyBits({ words }),
    };
  }
  const length = whole(d.length, PASSWORD_LENGTH);
  if (length === null)
    return { ok: false, problem: `Choose a length from ${PASSWORD_LENGTH.min} to ${PASSWORD_LENGTH.max}.` };
  if (d.sets.length === 0) return { ok: false, problem: 'Choose at least one kind of character.' };
  const options = { length, sets: d.sets };
  return { ok: true, value: generatePassword(options), bits: passwordEntropyBits(options) };
}

/**
 * The secret editor's generator (issue 15): random characters from the chosen sets, or words from the BIP-39 list,
 * with the strength of what it makes (bits of randomness, lib/crypto/secret-generator.ts). "Use this value" puts
 * the value into the editor's Value field; nothing is saved until the editor is.
 */
export function SecretGenerator({ onUse }: { onUse: (value: string) => void }) {
  const id = useId();
  const [draft, setDraft] = useState<Draft>({
    style: 'characters',
    length: String(PASSWORD_LENGTH.default),
    sets: ['lower', 'upper', 'digits', 'symbols'],
    words: String(PASSPHRASE_WORDS.default),
    separator: '-',
  });
  const [candidate, setCandidate] = useState<Candidate>(() => draw(draft));
  useEffect(() => setCandidate(draw(draft)), [draft]);
  const patch = (p: Partial<Draft>): void => setDraft((d) => ({ ...d, ...p }));
  const toggleSet = (set: CharacterSet, on: boolean): void =>
    patch({ sets: on ? [...draft.sets, set] : draft.sets.filter((s) => s !== set) });
  const rating = candidate.ok ? rateEntropy(candidate.bits) : null;

  return (
    <details class="generator">
      <summary>Generate a value</summary>
      <div class="stack" role="group" aria-label="Generator">
        <fieldset class="generator-style">
          <legend>Style</legend>
          {(['characters', 'words'] as const).map((style) => (
            <label key={style} class="inline-choice">
              <input
                type="radio"
                name={`${id}-style`}
                checked={draft.style === style}
                onChange={() => patch({ style })}
              />{' '}
              {style === 'characters' ? 'Random characters' : 'Words (passphrase)'}
            </label>
          ))}
        </fieldset>
        {draft.style === 'characters' ? (
          <>
            <Field
              type="number"
              label="Length"
              value={draft.length}
              onInput={(length) => patch({ length })}
              min={PASSWORD_LENGTH.min}
              max={PASSWORD_LENGTH.max}
            />
            <fieldset>
              <legend>Characters</legend>
              {(Object.keys(SET_LABELS) as CharacterSet[]).map((set) => (
                <label key={set} class="inline-choice">
                  <input
                    type="checkbox"
                    checked={draft.sets.includes(set)}
                    onChange={(e) => toggleSet(set, e.currentTarget.checked)}
                  />{' '}
                  {SET_LABELS[set]}
                </label>
              ))}
            </fieldset>
          </>
        ) : (
          <div class="row">
            <Field
              type="number"
              label="Words"
              value={draft.words}
              onInput={(words) => patch({ words })}
              min={PASSPHRASE_WORDS.min}
              max={PASSPHRASE_WORDS.max}
            />
            <div class="field">
              <label for={`${id}-sep`}>Separator</label>
              <select
                id={`${id}-sep`}
                value={draft.separator}
                onChange={(e) => patch({ separator: e.currentTarget.value })}
              >
                {SEPARATORS.map((s) => (
                  <option key={s.value} value={s.value}>
                    {s.label}
                  </option>
                ))}
              </select>
            </div>
          </div>
        )}
        {candidate.ok ? (
          <>
            <output class="generated mono" aria-label="Generated secret" for={`${id}-regen`}>
              {candidate.value}
            </output>
            <span class={`strength strength-${LEVEL[rating!]}`}>
              <span class="strength-bar" aria-hidden="true">
                {[1, 2, 3, 4].map((n) => (
                  <span key={n} class={n <= LEVEL[rating!] ? 'on' : undefined} />
                ))}
              </span>
              <span>
                Strength: {rating} ({Math.floor(candidate.bits)} bits of randomness)
              </span>
            </span>
          </>
        ) : (
          <p class="warning" role="status">
            {candidate.problem}
          </p>
        )}
        <div class="actions">
          <button
            type="button"
            class="primary"
            disabled={!candidate.ok}
            onClick={() => candidate.ok && onUse(candidate.value)}
          >
            Use this value
          </button>
          <button type="button" id={`${id}-regen`} onClick={() => setCandidate(draw(draft))}>
            Regenerate
          </button>
        </div>
      </div>
    </details>
  );
}
