import { useId } from 'preact/hooks';
import { assertKdfParams, KDF_LIMITS, type KdfParams } from '../lib/crypto/kdf-params';
import { messageOf } from './format';
import { Field } from './field';

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
  const pbkdf2 = params.algorithm === 'pbkdf2-sha256' ? params : fallback?.algorithm === 'pbkdf2-sha256' ? fallback : null;
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
    return { ok: false, error: messageOf(err) };
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
          <Field
            type="number"
            label="Memory (MiB)"
            value={draft.memoryMiB}
            onInput={(v) => set({ memoryMiB: v })}
            min={A.memoryKiB.min / 1024}
            max={A.memoryKiB.max / 1024}
            step={1}
            disabled={disabled}
            hint={`${A.memoryKiB.min / 1024}–${A.memoryKiB.max / 1024}`}
          />
          <Field
            type="number"
            label="Iterations"
            value={draft.argonIterations}
            onInput={(v) => set({ argonIterations: v })}
            min={A.iterations.min}
            max={A.iterations.max}
            step={1}
            disabled={disabled}
            hint={`${A.iterations.min}–${A.iterations.max}`}
          />
          <Field
            type="number"
            label="Parallelism"
            value={draft.parallelism}
            onInput={(v) => set({ parallelism: v })}
            min={A.parallelism.min}
            max={A.parallelism.max}
            step={1}
            disabled={disabled}
            hint={`${A.parallelism.min}–${A.parallelism.max}`}
          />
        </div>
      ) : (
        <Field
          type="number"
          label="Iterations"
          value={draft.pbkdf2Iterations}
          onInput={(v) => set({ pbkdf2Iterations: v })}
          min={P.iterations.min}
          max={P.iterations.max}
          step={1}
          disabled={disabled}
          hint={`${P.iterations.min.toLocaleString('en-US')}–${P.iterations.max.toLocaleString('en-US')}`}
        />
      )}
    </div>
  );
}
