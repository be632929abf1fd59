import type { VaultService } from '../../vault/vault-service';
import type { LocalInstallation } from '../approvals/hub-approval';
import { INSTALLATIONS_TAG } from '../../storage/vault-tags';
import { parseRecordList, RecordListStore, type RecordListSpec } from '../vault/vault-record-list';

/**
 * Where the installations this device claimed are kept: one secret item of the vault tagged
 * `clawkeep:installations` (RecordListStore: encrypted and authenticated like every item, never released to an
 * agent). They name agents, the scopes that name vault items and the box key secrets are sealed to, so they are
 * neither readable nor editable in `chrome.storage.local` (issue 13 item 13): a local process that rewrites the
 * stored record breaks its AEAD tag, and reading it fails with `decrypt_failed` before anything is sealed.
 *
 * Versions before this kept them in `chrome.storage.local` under `clawkeep.hub.installations`: see
 * hub-installations.ts `migrateLegacyInstallations` (they are re-learnt from the claims this device signed, never
 * copied from the plaintext, which a local process may have edited).
 */
const ITEM_NAME = 'Claimed agents (Clawkeep)';
const ITEM_NOTES = 'The agents this device claimed: their keys and granted scopes. Managed in the Agents tab.';

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/**
 * Keeps a record whose identifying fields are well formed, as it was stored (fields added by later versions, e.g.
 * a verified key binding, stay intact); anything else is dropped and so authorizes nothing.
 */
function parseInstallation(v: unknown): LocalInstallation | null {
  const r = v as Partial<LocalInstallation> | null;
  if (!r || typeof r !== 'object' || Array.isArray(r)) return null;
  if (!isString(r.hub) || !isString(r.installation_id) || !isString(r.agent_id) || typeof r.name !== 'string')
    return null;
  if (!isString(r.signing_key) || !isString(r.box_key) || typeof r.claimed_at !== 'number') return null;
  if (!Array.isArray(r.granted_scopes) || !r.granted_scopes.every((s) => typeof s === 'string')) return null;
  if (!r.policy || typeof r.policy !== 'object') return null;
  return { ...(r as LocalInstallation) };
}

export const INSTALLATION_RECORDS: RecordListSpec<LocalInstallation> = {
  tag: INSTALLATIONS_TAG,
  name: ITEM_NAME,
  notes: ITEM_NOTES,
  field: 'installations',
  parse: parseInstallation,
};

export const parseInstallations = (text: string): LocalInstallation[] => parseRecordList(INSTALLATION_RECORDS, text);

const keyOf = (i: LocalInstallation): string => `${i.hub}\n${i.installation_id}`;

/**
 * `base` with every record of `over` added or replacing the one with the same hub and installation id. Records are
 * never dropped by a merge: the vault item is synced between devices, and a write from a stale copy must not lose
 * another device's claim.
 */
export function mergeInstallations(
  base: readonly LocalInstallation[],
  over: readonly LocalInstallation[],
): LocalInstallation[] {
  const byKey = new Map<string, LocalInstallation>();
  for (const i of base) byKey.set(keyOf(i), i);
  for (const i of over) byKey.set(keyOf(i), i);
  return [...byKey.values()];
}

/** Installation records in the vault, one read → change → write at a time (RecordListStore). */
export class InstallationStore extends RecordListStore<LocalInstallation> {
  constructor() {
    super(INSTALLATION_RECORDS);
  }

  /** The vault's records. Throws what the vault throws (`decrypt_failed` for a record edited outside the extension). */
  load(service: VaultService): Promise<LocalInstallation[]> {
    return this.update(service, (current) => ({ next: null, value: current }));
  }

  /** Writes `records` into the vault's list (merged by hub and installation id); resolves with the stored list. */
  save(service: VaultService, records: readonly LocalInstallation[]): Promise<LocalInstallation[]> {
    return this.update(service, (current) => {
      const next = mergeInstallations(current, records);
      return { next, value: next };
    });
  }
}
