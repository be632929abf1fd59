import type { ItemDraft, ItemSummary, VaultItem } from '../../vault/types';
import { OpenClawError } from '../../openclaw/errors';
import { checkGatewayUrl } from '../../openclaw/gateway-url';
import { OPENCLAW_GATEWAY_TAG } from '../../storage/vault-tags';

/**
 * The OpenClaw gateway settings live in the vault as one secret item (encrypted like every other item; nothing in
 * plaintext IndexedDB or chrome.storage), found by its tag. Its value is JSON: the gateway URL, the gateway's
 * shared token, and the device token the gateway issued at pairing (spec §1 "Auth", §6).
 */
export const DEFAULT_GATEWAY_URL = 'ws://127.0.0.1:18789';

export interface OpenClawConfig {
  v: 1;
  url: string;
  /** The gateway's shared token (gateway.auth.token); '' when only a device token is kept. */
  token: string;
  /** Issued in hello-ok after pairing; reconnects use it instead of the shared token. */
  deviceToken: string | null;
  /**
   * The person opted in to approving every agent's commands, which needs `operator.admin` (lib/openclaw/connect.ts
   * ALL_AGENTS_SCOPE). Absent = `operator.approvals` only.
   */
  allAgents?: boolean;
}

/** The vault as this module needs it (the VaultClient shape; the background adapts VaultService to it). */
export interface ItemStore {
  list(): Promise<ItemSummary[]>;
  get(id: string): Promise<VaultItem>;
  save(draft: ItemDraft): Promise<VaultItem>;
  remove(id: string): Promise<void>;
}

/**
 * Checks and normalises a gateway URL: ws:// (loopback only) or wss://, no credentials, no fragment. Throws
 * `config_invalid`, or `gateway_insecure` for plain ws:// to another machine (lib/openclaw/gateway-url.ts).
 */
export function normalizeGatewayUrl(input: string): string {
  const url = checkGatewayUrl(input.trim() || DEFAULT_GATEWAY_URL);
  if (url.username || url.password)
    throw new OpenClawError('config_invalid', 'Put the token in the token field, not in the address.');
  if (url.search || url.hash)
    throw new OpenClawError('config_invalid', 'The gateway address takes no query or fragment.');
  return url.href.replace(/\/$/, '');
}

export function parseOpenClawConfig(text: string): OpenClawConfig | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  const c = v as Partial<OpenClawConfig> | null;
  if (!c || c.v !== 1 || typeof c.url !== 'string' || typeof c.token !== 'string') return null;
  if (c.deviceToken !== null && c.deviceToken !== undefined && typeof c.deviceToken !== 'string') return null;
  return {
    v: 1,
    url: c.url,
    token: c.token,
    deviceToken: c.deviceToken || null,
    ...(c.allAgents === true ? { allAgents: true } : {}),
  };
}

export async function loadOpenClawConfig(store: ItemStore): Promise<{ itemId: string; config: OpenClawConfig } | null> {
  const summary = (await store.list()).find((s) => s.kind === 'secret' && s.tags.includes(OPENCLAW_GATEWAY_TAG));
  if (!summary) return null;
  const item = await store.get(summary.id);
  if (item.kind !== 'secret') return null;
  const config = parseOpenClawConfig(item.fields.value);
  return config ? { itemId: item.id, config } : null;
}

export async function saveOpenClawConfig(store: ItemStore, config: OpenClawConfig, itemId?: string): Promise<string> {
  const saved = await store.save({
    ...(itemId ? { id: itemId } : {}),
    kind: 'secret',
    fields: {
      name: 'OpenClaw gateway',
      value: JSON.stringify(config),
      notes: `Clawkeep's operator connection to ${config.url}. Managed in Settings → OpenClaw gateway.`,
      tags: [OPENCLAW_GATEWAY_TAG],
      expiresAt: null,
      allowedHosts: [],
    },
  });
  return saved.id;
}

export async function removeOpenClawConfig(store: ItemStore): Promise<void> {
  for (const s of await store.list()) if (s.tags.includes(OPENCLAW_GATEWAY_TAG)) await store.remove(s.id);
}
