import { useId, useState } from 'preact/hooks';
import type { KeyValue } from '../../lib/vault/types';
import { RevealToggle } from './reveal-toggle';

interface KeyValueRowsProps {
  /** Group label, e.g. "Provider keys". */
  legend: string;
  /** Per-row accessible prefix, e.g. "Provider key" → "Provider key 1 variable". */
  rowLabel: string;
  addLabel: string;
  keyPlaceholder: string;
  rows: KeyValue[];
  onChange: (rows: KeyValue[]) => void;
  /** Values are secrets (provider keys, env vars): shown as dots, one "Reveal" toggle per row. */
  masked?: boolean;
}

/** One row's value input: a password-style input with its reveal toggle when masked, a plain input otherwise. */
function ValueInput({
  label,
  value,
  masked,
  onInput,
}: {
  label: string;
  value: string;
  masked: boolean;
  onInput: (v: string) => void;
}) {
  const id = useId();
  const [revealed, setRevealed] = useState(false);
  const input = (
    <input
      id={id}
      class="mono"
      type={masked && !revealed ? 'password' : 'text'}
      aria-label={label}
      placeholder="value"
      value={value}
      spellcheck={false}
      autoComplete="off"
      onInput={(e) => onInput(e.currentTarget.value)}
    />
  );
  if (!masked) return input;
  return (
    <span class="kv-value">
      {input}
      <RevealToggle
        revealed={revealed}
        onToggle={() => setRevealed(!revealed)}
        what={label.toLowerCase()}
        controls={id}
      />
    </span>
  );
}

/**
 * Editable KEY = value rows. Accessible names avoid the word "name" so a label query for the item's
 * Name field never matches a row.
 */
export function KeyValueRows({
  legend,
  rowLabel,
  addLabel,
  keyPlaceholder,
  rows,
  onChange,
  masked = false,
}: KeyValueRowsProps) {
  const update = (index: number, patch: Partial<KeyValue>): void =>
    onChange(rows.map((row, i) => (i === index ? { ...row, ...patch } : row)));
  const remove = (index: number): void => onChange(rows.filter((_, i) => i !== index));

  return (
    <fieldset class="kv">
      <legend>{legend}</legend>
      {rows.length === 0 ? <p class="muted small-text">None.</p> : null}
      {rows.map((row, i) => (
        <div class="kv-row" key={i}>
          <input
            class="mono"
            aria-label={`${rowLabel} ${i + 1} variable`}
            placeholder={keyPlaceholder}
            value={row.key}
            spellcheck={false}
            autoComplete="off"
            onInput={(e) => update(i, { key: e.currentTarget.value })}
          />
          <ValueInput
            label={`${rowLabel} ${i + 1} value`}
            value={row.value}
            masked={masked}
            onInput={(value) => update(i, { value })}
          />
          <button
            type="button"
            class="small"
            aria-label={`Remove ${rowLabel.toLowerCase()} ${i + 1}`}
            onClick={() => remove(i)}
          >
            Remove
          </button>
        </div>
      ))}
      <button type="button" class="small" onClick={() => onChange([...rows, { key: '', value: '' }])}>
        {addLabel}
      </button>
    </fieldset>
  );
}

/** Drops rows the user left completely empty; half-filled rows are kept so nothing typed is lost. */
export function compactRows(rows: KeyValue[]): KeyValue[] {
  return rows.map((r) => ({ key: r.key.trim(), value: r.value })).filter((r) => r.key !== '' || r.value !== '');
}
