import { useId } from 'preact/hooks';
import { assertKdfParams, KDF_LIMITS, type KdfParams } from '../../lib/crypto/kdf-params';
import { Field } from '../shared/field';
import { errorMessage } from '../../lib/errors';

/** Form text for KDF parameters: kept as strings so a half-typed number is not rejected mid-edit. */
export interface KdfDraft {
  algorithm: KdfParams['algorithm'];
  memoryMiB: string;
  argonIterations: string;
  parallelism: string;
  pbkdf2Iterations: string;
}

const A = KDF_LIMITS.argon2id;
const P = KDF_LIMITS['pbkdf2-sha256'];

export function draftFromParams(params: KdfParams, fallback?: KdfParams): KdfDraft {
  const argon = params.algorithm === 'argon2id' ? params : fallback?.algorithm === 'argon2id' ? fallback : null;
  const pbkdf2 =
    params.algorithm === 'pbkdf2-sha256' ? params : fallback?.algorithm === 'pbkdf2-sha256' ? fallback : null;
  return {
    algorithm: params.algorithm,
    memoryMiB: String((argon?.memoryKiB ?? 64 * 1024) / 1024),
    argonIterations: String(argon?.iterations ?? 3),
    parallelism: String(argon?.parallelism ?? 4),
    pbkdf2Iterations: String(pbkdf2?.iterations ?? P.iterations.min),
  };
}

function whole(text: string): number {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : Number.NaN;
}

/** Parses and range-checks the draft with the same floors and ceilings the vault enforces. */
export function paramsFromDraft(draft: KdfDraft): { ok: true; params: KdfParams } | { ok: false; error: string } {
  const params: KdfParams =
    draft.algorithm === 'argon2id'
      ? {
          algorithm: 'argon2id',
          memoryKiB: whole(draft.memoryMiB) * 1024,
          iterations: whole(draft.argonIterations),
          parallelism: whole(draft.parallelism),
        }
      : { algorithm: 'pbkdf2-sha256', iterations: whole(draft.pbkdf2Iterations) };
  try {
    return { ok: true, params: assertKdfParams(params) };
  } catch (err) {
    return { ok: false, error: errorMessage(err) };
  }
}

interface KdfFieldsProps {
  draft: KdfDraft;
  onChange: (draft: KdfDraft) => void;
  disabled?: boolean;
}

export function KdfFields({ draft, onChange, disabled }: KdfFieldsProps) {
  const id = useId();
  const set = (patch: Partial<KdfDraft>): void => onChange({ ...draft, ...patch });
  return (
    <div class="kdf-fields">
      <div class="field">
        <label for={id}>Algorithm</label>
        <select
          id={id}
          value={draft.algorithm}
          disabled={disabled}
          onChange={(e) => set({ algorithm: e.currentTarget.value as KdfParams['algorithm'] })}
        >
          <option value="argon2id">Argon2id</option>
          <option value="pbkdf2-sha256">PBKDF2-SHA256</option>
        </select>
        <div class="hint">
          {draft.algorithm === 'argon2id'
            ? 'Memory-hard: the strongest choice against guessing on graphics cards.'
            : 'Fast in every browser; weaker against dedicated cracking hardware.'}
        </div>
      </div>
      {draft.algorithm === 'argon2id' ? (
        <div class="row">
          <RangeField
            label="Memory (MiB)"
            range={{ min: A.memoryKiB.min / 1024, max: A.memoryKiB.max / 1024 }}
            value={draft.memoryMiB}
            onInput={(v) => set({ memoryMiB: v })}
            disabled={disabled}
          />
          <RangeField
            label="Iterations"
            range={A.iterations}
            value={draft.argonIterations}
            onInput={(v) => set({ argonIterations: v })}
            disabled={disabled}
          />
          <RangeField
            label="Parallelism"
            range={A.parallelism}
            value={draft.parallelism}
            onInput={(v) => set({ parallelism: v })}
            disabled={disabled}
          />
        </div>
      ) : (
        <RangeField
          label="Iterations"
          range={P.iterations}
          value={draft.pbkdf2Iterations}
          onInput={(v) => set({ pbkdf2Iterations: v })}
          disabled={disabled}
        />
      )}
    </div>
  );
}

interface RangeFieldProps {
  label: string;
  range: { min: number; max: number };
  value: string;
  onInput: (value: string) => void;
  disabled?: boolean;
}

/** A whole-number input bounded by the same floor and ceiling the vault enforces, with the range as its hint. */
function RangeField({ label, range, value, onInput, disabled }: RangeFieldProps) {
  const fmt = (n: number) => n.toLocaleString('en-US');
  return (
    <Field
      type="number"
      label={label}
      value={value}
      onInput={onInput}
      min={range.min}
      max={range.max}
      step={1}
      disabled={disabled}
      hint={`${fmt(range.min)}–${fmt(range.max)}`}
    />
  );
}
