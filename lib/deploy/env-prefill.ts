import { isReservedTag } from '../storage/vault-tags';
import type { VaultItem } from '../vault/types';
import type { EnvSource } from './types';

/** A vault value the user can pick for an env var (never carries the value itself). */
export interface EnvCandidate {
  /** Stable id for a select box. */
  id: string;
  /** "OpenAI key (secret)", "my-agent › OPENAI_API_KEY (agent config)". */
  label: string;
  /** The name this candidate answers to, for matching against env var names. */
  matchName: string;
  source:
    | Omit<Extract<EnvSource, { itemId: string; field: 'value' }>, 'key'>
    | Omit<Extract<EnvSource, { field: 'providerKeys' | 'env' }>, 'key'>;
}

/** Case and separators do not matter: "openai-api-key", "OpenAI API Key" and OPENAI_API_KEY match. */
export const normalizeEnvName = (name: string): string =>
  name
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');

/**
 * Every secret and every agent-config key/value of the vault, as candidates. Clawkeep's own records (any reserved
 * `clawkeep:` tag: deploy pins, installation keys, standing approvals, a newer version's records) are never offered.
 */
export function envCandidates(items: VaultItem[]): EnvCandidate[] {
  const out: EnvCandidate[] = [];
  for (const item of items) {
    if (item.kind === 'secret') {
      if (item.fields.tags.some(isReservedTag)) continue;
      out.push({
        id: `${item.id}:value`,
        label: `${item.fields.name} (secret)`,
        matchName: item.fields.name,
        source: { itemId: item.id, field: 'value' },
      });
    } else {
      for (const field of ['providerKeys', 'env'] as const) {
        for (const kv of item.fields[field]) {
          if (!kv.key) continue;
          out.push({
            id: `${item.id}:${field}:${kv.key}`,
            label: `${item.fields.name} › ${kv.key} (agent config)`,
            matchName: kv.key,
            source: { itemId: item.id, field, name: kv.key },
          });
        }
      }
    }
  }
  return out;
}

/** The candidate whose name matches `envKey`; agent-config keys (exact variable names) win over secret names. */
export function suggestCandidate(envKey: string, candidates: EnvCandidate[]): EnvCandidate | null {
  const want = normalizeEnvName(envKey);
  const matches = candidates.filter((c) => normalizeEnvName(c.matchName) === want);
  return matches.find((c) => c.source.field !== 'value') ?? matches[0] ?? null;
}

export const sourceFor = (key: string, candidate: EnvCandidate): EnvSource => ({ key, ...candidate.source });
