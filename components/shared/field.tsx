import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

interface FieldProps {
  label: string;
  value: string;
  onInput: (value: string) => void;
  type?: 'text' | 'password' | 'search' | 'date' | 'number';
  autoComplete?: string;
  required?: boolean;
  disabled?: boolean;
  autoFocus?: boolean;
  placeholder?: string;
  min?: number;
  max?: number;
  step?: number | 'any';
  /** Extra text under the input, linked with aria-describedby. */
  hint?: ComponentChildren;
  class?: string;
}

/** One labelled input; the visible label is the accessible name tests and screen readers use. */
export function Field(props: FieldProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  const { label, value, onInput, type = 'text', hint } = props;
  return (
    <div class={`field ${props.class ?? ''}`}>
      <label for={id}>{label}</label>
      <input
        id={id}
        type={type}
        value={value}
        onInput={(e) => onInput(e.currentTarget.value)}
        autoComplete={props.autoComplete ?? 'off'}
        required={props.required}
        disabled={props.disabled}
        autoFocus={props.autoFocus}
        placeholder={props.placeholder}
        min={props.min}
        max={props.max}
        step={props.step}
        spellcheck={false}
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

interface TextAreaProps {
  label: string;
  value: string;
  onInput: (value: string) => void;
  rows?: number;
  mono?: boolean;
  invalid?: boolean;
  autoFocus?: boolean;
  disabled?: boolean;
  hint?: ComponentChildren;
}

export function TextArea(props: TextAreaProps) {
  const id = useId();
  const hintId = `${id}-hint`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <textarea
        id={id}
        rows={props.rows ?? 3}
        class={props.mono ? 'mono' : undefined}
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
        spellcheck={false}
        autoComplete="off"
        autoFocus={props.autoFocus}
        disabled={props.disabled}
        aria-invalid={props.invalid ? 'true' : undefined}
        aria-describedby={props.hint ? hintId : undefined}
      />
      {props.hint ? (
        <div class="hint" id={hintId}>
          {props.hint}
        </div>
      ) : null}
    </div>
  );
}
