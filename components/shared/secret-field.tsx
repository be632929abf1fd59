import { useId, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { RevealToggle } from './reveal-toggle';

interface SecretTextAreaProps {
  label: string;
  value: string;
  onInput: (value: string) => void;
  rows?: number;
  disabled?: boolean;
  hint?: ComponentChildren;
}

/**
 * A secret value being edited: dots until "Reveal" is pressed, like a password field, so a value does not show on
 * a shared or recorded screen while its item is edited (issue 15). A textarea (not `type=password`) because values
 * can span lines (PEM keys, JSON credentials) and a password input drops line breaks; `-webkit-text-security`
 * masks it in Chromium and Firefox (114+).
 */
export function SecretTextArea({ label, value, onInput, rows = 2, disabled, hint }: SecretTextAreaProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const [revealed, setRevealed] = useState(false);
  return (
    <div class="field">
      <div class="field-label-row">
        <label for={id}>{label}</label>
        <RevealToggle
          revealed={revealed}
          onToggle={() => setRevealed(!revealed)}
          what={label.toLowerCase()}
          controls={id}
        />
      </div>
      <textarea
        id={id}
        rows={rows}
        class={revealed ? 'mono' : 'mono masked-input'}
        data-masked={revealed ? 'false' : 'true'}
        value={value}
        onInput={(e) => onInput(e.currentTarget.value)}
        spellcheck={false}
        autoComplete="off"
        disabled={disabled}
        aria-describedby={hint ? hintId : undefined}
      />
      {hint ? (
        <div class="hint" id={hintId}>
          {hint}
        </div>
      ) : null}
    </div>
  );
}
