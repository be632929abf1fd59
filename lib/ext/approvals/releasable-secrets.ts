import { parseHttpRequest, secretsUsed } from '../../protocol/http-request';
import type { Intent } from '../../protocol/wire';
import type { SecretFields } from '../../vault/types';
import type { VaultService } from '../../vault/vault-service';
import { isReservedTag } from '../../storage/vault-tags';

/**
 * Clawkeep's own records (gateway settings, deploy pins, standing approvals) are secret items tagged `clawkeep:…`:
 * they are never released to an agent or used in a call for one, whatever it was granted.
 */
const releasable = (s: { kind: string; tags: string[] }): boolean => s.kind === 'secret' && !s.tags.some(isReservedTag);

/**
 * What the approval code knows of the vault's releasable secrets: how many carry each name, and for the secrets the
 * pending `http.request` intents use, the hosts each may be sent to (read only for those: a list row has no hosts).
 */
export interface SecretIndex {
  counts: Map<string, number>;
  /** Allowed hosts of each secret a pending http.request uses and the vault holds exactly once. */
  hosts: Map<string, readonly string[]>;
}

/** The index for deciding on `intents` (see SecretIndex). */
export async function secretIndex(service: VaultService, intents: readonly Intent[] = []): Promise<SecretIndex> {
  const counts = new Map<string, number>();
  const ids = new Map<string, string>();
  for (const s of await service.listInBackground()) {
    if (!releasable(s)) continue;
    counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
    ids.set(s.name, s.id);
  }
  const hosts = new Map<string, readonly string[]>();
  for (const intent of intents) {
    if (intent.kind !== 'http.request') continue;
    let names: string[];
    try {
      names = secretsUsed(parseHttpRequest(intent.payload));
    } catch {
      continue; // malformed: the card says so and offers only Deny
    }
    for (const name of names) {
      if (hosts.has(name) || counts.get(name) !== 1) continue;
      const found = await service.get({ id: ids.get(name)! });
      if (found.kind === 'secret' && found.fields.name === name) hosts.set(name, found.fields.allowedHosts);
    }
  }
  return { counts, hosts };
}

/** The fields of the one releasable secret named `item`, or null if there is none or more than one. */
export async function readSecretFields(service: VaultService, item: string): Promise<SecretFields | null> {
  const matches = (await service.list()).filter((s) => releasable(s) && s.name === item);
  if (matches.length !== 1) return null;
  const found = await service.get({ id: matches[0]!.id });
  return found.kind === 'secret' && found.fields.name === item ? found.fields : null;
}

/** The value of the one secret named `item`, or null if there is none or more than one. */
export async function readSecret(service: VaultService, item: string): Promise<string | null> {
  return (await readSecretFields(service, item))?.value ?? null;
}
