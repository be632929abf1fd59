import { utf8Decode, utf8Encode } from '../bytes';
import { ClawkeepError } from '../errors';
import { normalizeAllowedHosts } from './secret-hosts';
import type { AgentConfigFields, ItemDraft, ItemKind, KeyValue, SecretFields, VaultSettings } from './types';

/** Limits keep one item from bloating every list decrypt; generous for real secrets and configs. */
const MAX_NAME = 200;
const MAX_TEXT = 64 * 1024;
const MAX_TAGS = 32;
const MAX_PAIRS = 200;
const ENV_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

function invalid(message: string): ClawkeepError {
  return new ClawkeepError('item_invalid', message);
}

function text(value: unknown, label: string, max: number, required = false): string {
  if (typeof value !== 'string') throw invalid(`${label} must be text.`);
  if (value.length > max) throw invalid(`${label} is too long (at most ${max} characters).`);
  if (required && value.trim() === '') throw invalid(`${label} is required.`);
  return value;
}

function pairs(value: unknown, label: string): KeyValue[] {
  if (!Array.isArray(value) || value.length > MAX_PAIRS)
    throw invalid(`${label} must be a list of at most ${MAX_PAIRS} entries.`);
  const seen = new Set<string>();
  return value.map((entry) => {
    const key = text((entry as KeyValue)?.key, `${label} name`, MAX_NAME, true).trim();
    if (!ENV_KEY_PATTERN.test(key))
      throw invalid(`${label} name "${key}" must start with a letter or _ and use only letters, digits and _.`);
    if (seen.has(key)) throw invalid(`${label} name "${key}" appears twice.`);
    seen.add(key);
    return { key, value: text((entry as KeyValue)?.value, `${label} value`, MAX_TEXT) };
  });
}

function expiry(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw invalid('Expiry must be a date.');
  return new Date(value).toISOString();
}

export function normalizeSecretFields(raw: unknown): SecretFields {
  const f = (raw ?? {}) as Record<string, unknown>;
  const tags = f.tags ?? [];
  if (!Array.isArray(tags) || tags.length > MAX_TAGS) throw invalid(`Tags must be a list of at most ${MAX_TAGS}.`);
  return {
    name: text(f.name, 'Name', MAX_NAME, true).trim(),
    value: text(f.value, 'Value', MAX_TEXT),
    notes: text(f.notes ?? '', 'Notes', MAX_TEXT),
    tags: [...new Set(tags.map((t) => text(t, 'Tag', MAX_NAME).trim()).filter((t) => t !== ''))],
    expiresAt: expiry(f.expiresAt),
    // Absent in items written before issue 18 and in every import: [] = never sent in a call (fail closed).
    allowedHosts: normalizeAllowedHosts(f.allowedHosts),
  };
}

export function normalizeAgentConfigFields(raw: unknown): AgentConfigFields {
  const f = (raw ?? {}) as Record<string, unknown>;
  const json = text(f.json ?? '', 'JSON', MAX_TEXT);
  if (json.trim() !== '') {
    try {
      JSON.parse(json);
    } catch {
      throw invalid('The JSON field is not valid JSON.');
    }
  }
  return {
    name: text(f.name, 'Agent name', MAX_NAME, true).trim(),
    model: text(f.model ?? '', 'Model', MAX_NAME).trim(),
    providerKeys: pairs(f.providerKeys ?? [], 'Provider key'),
    env: pairs(f.env ?? [], 'Env var'),
    json,
  };
}

/** Validates and canonicalises what the user submitted; throws `item_invalid` with a message fit to show. */
export function normalizeDraft(draft: ItemDraft): ItemDraft {
  if (draft.kind === 'secret') return { id: draft.id, kind: 'secret', fields: normalizeSecretFields(draft.fields) };
  if (draft.kind === 'agentConfig')
    return { id: draft.id, kind: 'agentConfig', fields: normalizeAgentConfigFields(draft.fields) };
  throw invalid('Unknown item kind.');
}

export function encodeFields(fields: SecretFields | AgentConfigFields): Uint8Array {
  return utf8Encode(JSON.stringify(fields));
}

export function decodeFields(kind: ItemKind, bytes: Uint8Array): SecretFields | AgentConfigFields {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8Decode(bytes));
  } catch {
    throw invalid('A vault item could not be read.');
  }
  return kind === 'secret' ? normalizeSecretFields(parsed) : normalizeAgentConfigFields(parsed);
}

/** What a list row shows of an item (ItemSummary); an agent config has no tags and no expiry. */
export interface SummaryFields {
  name: string;
  tags: readonly string[];
  expiresAt: string | null;
}

/**
 * The fields a list row needs, from an item's decrypted bytes, checked for the shape the row uses only. The bytes
 * passed their AEAD tag just before (openItem) and were validated and canonicalised when written (normalizeDraft,
 * normalizeSecretFields), so the list does not run every field's validation again for each of 10,000 items; opening
 * the item (`get`, decodeFields) still does.
 */
export function decodeSummaryFields(kind: ItemKind, bytes: Uint8Array): SummaryFields {
  let parsed: Record<string, unknown> | null;
  try {
    parsed = JSON.parse(utf8Decode(bytes)) as Record<string, unknown> | null;
  } catch {
    throw invalid('A vault item could not be read.');
  }
  const name = parsed?.name;
  if (typeof name !== 'string') throw invalid('A vault item could not be read.');
  if (kind !== 'secret') return { name, tags: [], expiresAt: null };
  // Absent fields read as normalizeSecretFields reads them (no tags, no expiry).
  const tags = parsed!.tags ?? [];
  const expiresAt = parsed!.expiresAt ?? null;
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string'))
    throw invalid('A vault item could not be read.');
  if (expiresAt !== null && typeof expiresAt !== 'string') throw invalid('A vault item could not be read.');
  return { name, tags, expiresAt: expiresAt === '' ? null : expiresAt };
}

/** Auto-lock: null (browser close / Lock now only) or 6 s .. 7 days of idle time. */
export function normalizeSettings(raw: unknown): VaultSettings {
  const value = (raw as VaultSettings | null)?.autoLockSeconds;
  if (value === null) return { autoLockSeconds: null };
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 6 || value > 7 * 24 * 3600) {
    throw new ClawkeepError(
      'settings_invalid',
      'Auto-lock must be between 0.1 minutes and 7 days, or only on browser close.',
    );
  }
  return { autoLockSeconds: Math.round(value) };
}
