/**
 * What an import from another tool turns into before anything is written: one candidate per Clawkeep secret item,
 * with where it came from in the file (for the preview) and the fields it will be saved with.
 */
import { ClawkeepError } from '../errors';
import { isReservedTag } from '../storage/vault-tags';
import { normalizeSecretFields } from '../vault/item-codec';
import type { SecretFields } from '../vault/types';
import { ImportError } from './errors';

/** Largest import file read at all: a whole password-manager export is well under this. */
export const IMPORT_MAX_BYTES = 5 * 1024 * 1024;
/** Most items one import may add (the vault decrypts every item on each list). */
export const IMPORT_MAX_ITEMS = 5000;

export type ImportFormat = 'bitwarden-json' | 'csv' | 'dotenv';

export const FORMAT_LABELS: Record<ImportFormat, string> = {
  'bitwarden-json': 'Bitwarden JSON export',
  csv: 'CSV (name, value, notes)',
  dotenv: '.env file',
};

/** One item the import will add. */
export interface ImportCandidate {
  /** Where it comes from, for the preview: "login “GitHub”", "line 4", "row 3". Never a value. */
  source: string;
  /** What it becomes, in words: "the password", "the TOTP seed", "the note text". */
  becomes: string;
  fields: SecretFields;
}

/** An entry of the file that will not become an item, and why (shown in the preview). */
export interface SkippedEntry {
  source: string;
  reason: string;
}

/** The whole preview: nothing is written until the person confirms it. */
export interface ImportPlan {
  format: ImportFormat;
  candidates: ImportCandidate[];
  skipped: SkippedEntry[];
  /** Things the person should know that do not stop the import (a dropped reserved tag, a repeated .env key). */
  notes: string[];
}

/**
 * Tags an import may carry: trimmed, non-empty, and never in Clawkeep's reserved `clawkeep:` namespace
 * (lib/storage/vault-tags.ts), whatever the file says; a dropped tag is reported through `dropped`.
 */
export function importableTags(raw: readonly string[], dropped: (tag: string) => void): string[] {
  const out: string[] = [];
  for (const t of raw) {
    const tag = t.trim();
    if (tag === '') continue;
    if (isReservedTag(tag.toLowerCase())) {
      dropped(tag);
      continue;
    }
    if (!out.includes(tag)) out.push(tag);
  }
  return out;
}

/**
 * Builds one candidate, checked against the same limits a save applies (lib/vault/item-codec.ts), so a preview
 * never promises an item the vault would refuse. The error names the entry, never its value.
 */
export function candidate(
  source: string,
  becomes: string,
  fields: { name: string; value: string; notes: string; tags: string[] },
): ImportCandidate {
  try {
    return { source, becomes, fields: normalizeSecretFields({ ...fields, expiresAt: null }) };
  } catch (err) {
    if (err instanceof ClawkeepError) throw new ImportError('import_unsupported', `${source}: ${err.message}`);
    throw err;
  }
}

/** Refuses a plan that would add nothing or too much. */
export function finishPlan(plan: ImportPlan): ImportPlan {
  if (plan.candidates.length > IMPORT_MAX_ITEMS)
    throw new ImportError(
      'import_too_large',
      `The file lists ${plan.candidates.length} items; one import adds at most ${IMPORT_MAX_ITEMS}.`,
    );
  if (plan.candidates.length === 0)
    throw new ImportError(
      'import_empty',
      plan.skipped.length ? 'Nothing in this file can be imported (see the skipped entries).' : 'The file is empty.',
    );
  return plan;
}
