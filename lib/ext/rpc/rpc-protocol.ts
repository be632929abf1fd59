import { fromBase64, toBase64 } from '../../bytes';
import type { ClawkeepErrorCode } from '../../errors';
import type { VaultEvent } from '../../vault/client';
import type { VaultBackend } from '../../vault/backend';

/** Messages between extension pages and the background. Chrome serialises messages as JSON, so bytes go base64. */
export const VAULT_RPC_CHANNEL = 'clawkeep.vault.rpc';
export const VAULT_EVENT_CHANNEL = 'clawkeep.vault.event';

export type VaultMethod = keyof VaultBackend;
export const VAULT_METHODS: readonly VaultMethod[] = [
  'status', 'create', 'unlock', 'lock', 'list', 'search', 'get', 'save', 'remove', 'rewrap',
  'exportBackup', 'importBackup', 'setSettings', 'recordKdfEstimate', 'touch', 'setRecovery', 'checkRecovery', 'recover',
];

export interface VaultRpcRequest {
  channel: typeof VAULT_RPC_CHANNEL;
  method: VaultMethod;
  args: unknown;
}

export type VaultRpcResponse = { ok: true; value: unknown } | { ok: false; error: { code: ClawkeepErrorCode; message: string } };

export interface VaultEventMessage {
  channel: typeof VAULT_EVENT_CHANNEL;
  event: VaultEvent;
}

const BYTES_TAG = '$bytes';

/** Replaces every Uint8Array by `{$bytes: base64}` so it survives JSON-based messaging. */
export function encodeWire(value: unknown): unknown {
  if (value instanceof Uint8Array) return { [BYTES_TAG]: toBase64(value) };
  if (Array.isArray(value)) return value.map(encodeWire);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeWire(v)]));
  }
  return value;
}

export function decodeWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeWire);
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0]![0] === BYTES_TAG && typeof entries[0]![1] === 'string') {
      return fromBase64(entries[0]![1]);
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, decodeWire(v)]));
  }
  return value;
}

export function isVaultRpcRequest(message: unknown): message is VaultRpcRequest {
  const m = message as VaultRpcRequest | null;
  return !!m && m.channel === VAULT_RPC_CHANNEL && VAULT_METHODS.includes(m.method);
}

export function isVaultEventMessage(message: unknown): message is VaultEventMessage {
  const m = message as VaultEventMessage | null;
  return !!m && m.channel === VAULT_EVENT_CHANNEL && typeof m.event?.type === 'string';
}
