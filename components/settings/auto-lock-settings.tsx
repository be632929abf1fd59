import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { VaultSettings } from '../../lib/vault/types';
import { ErrorAlert, Notice } from '../shared/alert';
import { useVaultClient } from '../app/client-context';
import { Field } from '../shared/field';
import { autoLockSummary } from '../shared/format';
import { useAction } from '../shared/use-action';

const PRESETS: { value: string; label: string; seconds: number | null }[] = [
  { value: '60', label: '1 minute', seconds: 60 },
  { value: '300', label: '5 minutes', seconds: 300 },
  { value: '900', label: '15 minutes (default)', seconds: 900 },
  { value: '1800', label: '30 minutes', seconds: 1800 },
  { value: '3600', label: '1 hour', seconds: 3600 },
  { value: '14400', label: '4 hours', seconds: 14400 },
  { value: 'browser', label: 'Only when the browser closes', seconds: null },
];
const CUSTOM = 'custom';
const MIN_MINUTES = 0.1;
const MAX_MINUTES = 7 * 24 * 60;
const DEBOUNCE_MS = 600;

function choiceFor(seconds: number | null): string {
  return PRESETS.find((p) => p.seconds === seconds)?.value ?? CUSTOM;
}

function parseMinutes(text: string): number | null {
  const minutes = Number(text.trim());
  if (!text.trim() || !Number.isFinite(minutes) || minutes < MIN_MINUTES || minutes > MAX_MINUTES) return null;
  return minutes;
}

/** Auto-lock choice; saves as soon as it changes so there is no separate Save button to miss. */
export function AutoLockSettings({ settings, onSaved }: { settings: VaultSettings; onSaved: () => Promise<void> }) {
  const client = useVaultClient();
  const selectId = useId();
  const saved = settings.autoLockSeconds;
  const [choice, setChoice] = useState(() => choiceFor(saved));
  const [custom, setCustom] = useState(() => (saved !== null && choiceFor(saved) === CUSTOM ? String(saved / 60) : ''));
  const [note, setNote] = useState<string | null>(null);
  const action = useAction();
  const debounce = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    setChoice(choiceFor(saved));
    if (saved !== null && choiceFor(saved) === CUSTOM) setCustom(String(Math.round((saved / 60) * 1000) / 1000));
  }, [saved]);
  useEffect(
    () => () => {
      if (debounce.current) clearTimeout(debounce.current);
    },
    [],
  );

  const save = async (autoLockSeconds: number | null): Promise<void> => {
    if (debounce.current) clearTimeout(debounce.current);
    setNote(null);
    if (autoLockSeconds === saved) return;
    const result = await action.run(() => client.setSettings({ ...settings, autoLockSeconds }));
    if (!result.ok) return;
    setNote('Saved.');
    await onSaved();
  };

  const saveCustom = (text: string): void => {
    const minutes = parseMinutes(text);
    if (minutes === null) {
      action.setError(`Enter between ${MIN_MINUTES} and ${MAX_MINUTES} minutes.`);
      return;
    }
    action.setError(null);
    void save(Math.max(1, Math.round(minutes * 60)));
  };

  const onSelect = (value: string): void => {
    setChoice(value);
    if (value === CUSTOM) {
      if (custom) saveCustom(custom);
      return;
    }
    const preset = PRESETS.find((p) => p.value === value);
    if (preset) void save(preset.seconds);
  };

  const onCustomInput = (text: string): void => {
    setCustom(text);
    setChoice(CUSTOM);
    if (debounce.current) clearTimeout(debounce.current);
    // Save after a pause in typing, so "0.1" is not first saved as "0".
    debounce.current = setTimeout(() => saveCustom(text), DEBOUNCE_MS);
  };

  return (
    <form
      class="card stack"
      aria-labelledby="autolock-title"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (choice === CUSTOM) saveCustom(custom);
      }}
    >
      <h2 id="autolock-title">Auto-lock</h2>
      <div class="row">
        <div class="field">
          <label for={selectId}>Lock after</label>
          <select id={selectId} value={choice} onChange={(e) => onSelect(e.currentTarget.value)} disabled={action.busy}>
            {PRESETS.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
            <option value={CUSTOM}>Custom</option>
          </select>
        </div>
        <Field
          type="number"
          label="Custom (minutes)"
          value={custom}
          onInput={onCustomInput}
          min={MIN_MINUTES}
          max={MAX_MINUTES}
          step="any"
        />
      </div>
      <p class="summary">{autoLockSummary(saved)}</p>
      <ErrorAlert message={action.error} />
      <Notice>{note}</Notice>
    </form>
  );
}
