import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../bytes';
import { canonicalBytes } from './canonical';

/** One item as the hub holds it: the ciphertext envelope's hash, or null for a deletion (tombstone). */
export interface SyncedEntry {
  kind: string;
  revision: number;
  /** SHA-256 hex of the CKIE envelope; null = deleted. */
  envelopeSha256: string | null;
}

export const envelopeHash = (envelope: Uint8Array): string => toHex(sha256(envelope));

/**
 * The hash of a whole item set, the value a vault head signs: SHA-256 over the canonical JSON of every entry sorted
 * by id. Hub and devices compute it the same way, so a hub that drops, adds, swaps or rolls back one item no longer
 * matches the head a device signed.
 */
export function itemsHash(entries: Record<string, SyncedEntry>): string {
  const items = Object.keys(entries)
    .sort()
    .map((id) => {
      const e = entries[id]!;
      return [id, e.kind, e.revision, e.envelopeSha256];
    });
  return toHex(sha256(canonicalBytes({ v: 1, items })));
}
