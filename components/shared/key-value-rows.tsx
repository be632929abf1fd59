import type { KeyValue } from '../../lib/vault/types';

interface KeyValueRowsProps {
  /** Group label, e.g. "Provider keys". */
  legend: string;
  /** Per-row accessible prefix, e.g. "Provider key" → "Provider key 1 variable". */
  rowLabel: string;
  addLabel: string;
  keyPlaceholder: string;
  rows: KeyValue[];
  onChange: (rows: KeyValue[]) => void;
}

/**
 * Editable KEY = value rows. Accessible names avoid the word "name" so a label query for the item's
 * Name field never matches a row.
 */
export function KeyValueRows({ legend, rowLabel, addLabel, keyPlaceholder, rows, onChange }: KeyValueRowsProps) {
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
          <input
            class="mono"
            aria-label={`${rowLabel} ${i + 1} value`}
            placeholder="value"
            value={row.value}
            spellcheck={false}
            autoComplete="off"
            onInput={(e) => update(i, { value: e.currentTarget.value })}
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
