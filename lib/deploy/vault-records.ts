import type { VaultClient } from '../vault/client';
import type { VaultItem } from '../vault/types';
import { DEPLOYMENT_TAG, TRUST_PINS_TAG } from '../storage/vault-tags';
import { DeployError } from './errors';
import type { DeploymentRecord, EnvEntry, EnvSource, TrustPins } from './types';

/**
 * Deploy settings live in the vault as secret items (encrypted like every other item; nothing in plaintext
 * IndexedDB): one item holds the trust pins, one item per deployment holds its record. The tags find them; the
 * value is JSON. Neither holds a secret value: records point at the vault items the secrets come from.
 */

const HEX = /^[0-9a-f]+$/i;

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new DeployError('invalid_request', `The stored ${what} is not valid JSON.`);
  }
}

export function parseTrustPins(value: unknown): TrustPins {
  const p = value as Partial<TrustPins> | null;
  const kms = p?.kms;
  const okHex = (s: unknown, len?: number): s is string =>
    typeof s === 'string' && HEX.test(s) && (len === undefined || s.length === len);
  if (!kms || !okHex(kms.k256Pubkey, 66) || !okHex(kms.caPubkey))
    throw new DeployError('invalid_request', 'The stored trust pins have no valid KMS keys.');
  if (
    !Array.isArray(p?.osImages) ||
    !p.osImages.every((o) =>
      ['mrtd', 'rtmr0', 'rtmr1', 'rtmr2'].every((f) => okHex((o as unknown as Record<string, unknown>)[f], 96)),
    )
  ) {
    throw new DeployError('invalid_request', 'The stored trust pins have an OS image without valid measurements.');
  }
  if (typeof p.pccsUrl !== 'string' || !p.pccsUrl)
    throw new DeployError('invalid_request', 'The stored trust pins have no PCCS URL.');
  if (p.testRootDerHex !== undefined && !okHex(p.testRootDerHex))
    throw new DeployError('invalid_request', 'The stored test root is not hex.');
  return p as TrustPins;
}

async function itemsTagged(client: VaultClient, tag: string): Promise<VaultItem[]> {
  const summaries = (await client.list()).filter((s) => s.kind === 'secret' && s.tags.includes(tag));
  return Promise.all(summaries.map((s) => client.get(s.id)));
}

export async function loadTrustPins(client: VaultClient): Promise<{ itemId: string; pins: TrustPins } | null> {
  const [item] = await itemsTagged(client, TRUST_PINS_TAG);
  if (!item || item.kind !== 'secret') return null;
  return { itemId: item.id, pins: parseTrustPins(parseJson(item.fields.value, 'trust pins')) };
}

export async function saveTrustPins(client: VaultClient, pins: TrustPins, itemId?: string): Promise<string> {
  const saved = await client.save({
    ...(itemId ? { id: itemId } : {}),
    kind: 'secret',
    fields: {
      name: 'Deploy trust pins (KMS, OS images)',
      value: JSON.stringify(pins),
      notes: 'What the deploy wizard trusts before sealing secrets to a CVM. Edit in the Deploy tab.',
      tags: [TRUST_PINS_TAG],
      expiresAt: null,
      allowedHosts: [],
    },
  });
  return saved.id;
}

export function parseDeploymentRecord(value: unknown): DeploymentRecord {
  const r = value as Partial<DeploymentRecord> | null;
  const strings: Array<keyof DeploymentRecord> = [
    'name',
    'cvmId',
    'appId',
    'kmsId',
    'apiBaseUrl',
    'apiKeyItemId',
    'appCompose',
    'createdAt',
  ];
  if (
    r?.version !== 1 ||
    !strings.every((k) => typeof r[k] === 'string') ||
    !Array.isArray(r.allowedEnvs) ||
    !Array.isArray(r.envSources) ||
    !Array.isArray(r.envSpec)
  ) {
    throw new DeployError('invalid_request', 'A stored deployment record is damaged or from another version.');
  }
  return r as DeploymentRecord;
}

export async function listDeployments(
  client: VaultClient,
): Promise<Array<{ itemId: string; record: DeploymentRecord }>> {
  const items = await itemsTagged(client, DEPLOYMENT_TAG);
  const out: Array<{ itemId: string; record: DeploymentRecord }> = [];
  for (const item of items) {
    if (item.kind !== 'secret') continue;
    try {
      out.push({ itemId: item.id, record: parseDeploymentRecord(parseJson(item.fields.value, 'deployment')) });
    } catch {
      // A damaged record is skipped, not fatal: the item stays visible in the Items tab.
    }
  }
  return out.sort((a, b) => a.record.createdAt.localeCompare(b.record.createdAt));
}

export async function saveDeployment(client: VaultClient, record: DeploymentRecord, itemId?: string): Promise<string> {
  const saved = await client.save({
    ...(itemId ? { id: itemId } : {}),
    kind: 'secret',
    fields: {
      name: `Deployment: ${record.name}`,
      value: JSON.stringify(record),
      notes: `CVM ${record.cvmId} (app ${record.appId}). Managed by the Deploy tab.`,
      tags: [DEPLOYMENT_TAG],
      expiresAt: null,
      allowedHosts: [],
    },
  });
  return saved.id;
}

/** Saves a pasted API key as a new vault secret; only its item id is remembered elsewhere. */
export async function saveApiKeySecret(client: VaultClient, name: string, apiKey: string): Promise<string> {
  const saved = await client.save({
    kind: 'secret',
    fields: { name, value: apiKey, notes: 'Phala Cloud API key', tags: ['phala'], expiresAt: null, allowedHosts: [] },
  });
  return saved.id;
}

export async function readSecretValue(client: VaultClient, itemId: string): Promise<string> {
  const item = await client.get(itemId);
  if (item.kind !== 'secret') throw new DeployError('invalid_request', `“${item.fields.name}” is not a secret item.`);
  return item.fields.value;
}

/** The value an env source points at, read from the vault now (so "Update secrets" picks up edits). */
export async function resolveEnvSource(client: VaultClient, source: EnvSource): Promise<string> {
  if ('literal' in source) return source.literal;
  const item = await client.get(source.itemId);
  if (source.field === 'value') {
    if (item.kind !== 'secret')
      throw new DeployError('invalid_request', `${source.key}: the vault item is no longer a secret.`);
    return item.fields.value;
  }
  if (item.kind !== 'agentConfig')
    throw new DeployError('invalid_request', `${source.key}: the vault item is no longer an agent config.`);
  const entry = item.fields[source.field].find((kv) => kv.key === source.name);
  if (!entry)
    throw new DeployError('invalid_request', `${source.key}: “${item.fields.name}” no longer has ${source.name}.`);
  return entry.value;
}

export async function resolveEnv(client: VaultClient, sources: EnvSource[]): Promise<EnvEntry[]> {
  return Promise.all(sources.map(async (s) => ({ key: s.key, value: await resolveEnvSource(client, s) })));
}
