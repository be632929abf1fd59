/**
 * What importing a backup does to each item (issue 15: "backup import never silently replaces newer data").
 *
 * Every item carries a `revision` (raised by one on each save, and by sync to the hub's) and an `updatedAt` (epoch
 * ms of the last save). Item ids are random UUIDs kept across export, import and sync, so the same id on both sides is
 * the same item. For each item of the backup:
 * - not in this vault → added (with its id, revision and dates);
 * - same fields here → unchanged (nothing written);
 * - the backup's (revision, updatedAt) is later than this vault's → replaced by the backup's version;
 * - this vault's is later → kept (the newer revision here survives);
 * - same revision and time but different fields (edited on two devices that never synced), or a different kind
 *   under the same id → this vault's version is kept: never replaced without a clear "newer".
 */
import type { ItemKind, VaultItem } from './types';

export type MergeOutcome = 'added' | 'replaced' | 'kept-newer' | 'kept-conflict' | 'unchanged';

/** What an import did, item by item (names only: never a value) and in totals. */
export interface BackupImportReport {
  added: number;
  replaced: number;
  keptNewer: number;
  keptConflict: number;
  unchanged: number;
  items: { id: string; name: string; kind: ItemKind; outcome: MergeOutcome }[];
}

/** The local side of one comparison: what is stored under the backup item's id, decrypted. */
export interface LocalVersion {
  kind: ItemKind;
  revision: number;
  updatedAt: number;
  fields: VaultItem['fields'];
}

function sameFields(a: VaultItem['fields'], b: VaultItem['fields']): boolean {
  // Both sides went through the same normalizer (item-codec.ts), so their keys come in the same order.
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The outcome for one backup item against what this vault holds under its id. */
export function mergeOutcome(local: LocalVersion | undefined, incoming: VaultItem): MergeOutcome {
  if (!local) return 'added';
  if (local.kind !== incoming.kind) return 'kept-conflict';
  if (sameFields(local.fields, incoming.fields)) return 'unchanged';
  if (incoming.revision !== local.revision) return incoming.revision > local.revision ? 'replaced' : 'kept-newer';
  if (incoming.updatedAt !== local.updatedAt) return incoming.updatedAt > local.updatedAt ? 'replaced' : 'kept-newer';
  return 'kept-conflict';
}

/** Totals of a list of outcomes. */
export function summarizeMerge(items: BackupImportReport['items']): BackupImportReport {
  const count = (o: MergeOutcome) => items.filter((i) => i.outcome === o).length;
  return {
    added: count('added'),
    replaced: count('replaced'),
    keptNewer: count('kept-newer'),
    keptConflict: count('kept-conflict'),
    unchanged: count('unchanged'),
    items,
  };
}
