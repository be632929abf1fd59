/**
 * What the vault stores, as the user sees it. Everything in these shapes except `id`, `kind`, `revision`,
 * `createdAt` and `updatedAt` is encrypted at rest.
 */
export type ItemKind = 'secret' | 'agentConfig';

export interface SecretFields {
  name: string;
  value: string;
  notes: string;
  tags: string[];
  /** ISO date-time, or null for no expiry. */
  expiresAt: string | null;
  /**
   * The hosts this secret may be sent to in an approved `http.request` (issue 18), each as `isHttpHost` names it
   * (`api.github.com`, `10.0.0.2:8443`); https only, as every such call is. Empty (and absent in items saved before
   * the field existed): the secret is never sent in a call, so an old item or an import fails closed.
   */
  allowedHosts: string[];
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface AgentConfigFields {
  /** The agent's name; doubles as the item's display name. */
  name: string;
  model: string;
  /** Provider API keys, e.g. `{ key: 'OPENAI_API_KEY', value: 'sk-…' }`. */
  providerKeys: KeyValue[];
  env: KeyValue[];
  /** Free-form JSON text; validated as JSON before saving. */
  json: string;
}

interface ItemMeta {
  id: string;
  revision: number;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
}

export type SecretItem = ItemMeta & { kind: 'secret'; fields: SecretFields };
export type AgentConfigItem = ItemMeta & { kind: 'agentConfig'; fields: AgentConfigFields };
export type VaultItem = SecretItem | AgentConfigItem;

/** A new or edited item as the UI submits it; omit `id` to create. */
export type ItemDraft =
  | { id?: string; kind: 'secret'; fields: SecretFields }
  | { id?: string; kind: 'agentConfig'; fields: AgentConfigFields };

export type ExpiryState = 'none' | 'valid' | 'expiring' | 'expired';

/** What a list row needs; never carries secret values. */
export interface ItemSummary {
  id: string;
  kind: ItemKind;
  name: string;
  tags: string[];
  revision: number;
  createdAt: number;
  updatedAt: number;
  expiresAt: string | null;
  expiry: ExpiryState;
}

export interface VaultSettings {
  /** Idle seconds before auto-lock; null = only when the browser closes or on "Lock now". */
  autoLockSeconds: number | null;
}

export type VaultState = 'uninitialized' | 'locked' | 'unlocked';
