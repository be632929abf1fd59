import { fromHex, toHex } from '../../lib/bytes';
import { auditConsistencyProof, auditTreeRoot } from '../../lib/protocol/audit-tree';
import { signAuditHead, type SignedAuditHead } from '../../lib/protocol/audit-head';
import type { HubIdentity } from '../identity';
import type { HubStore } from '../store/port';

/**
 * The hub's signed audit head (CKAH, lib/protocol/audit-head.ts) and the consistency proof a device asks for.
 *
 * Computed from the stored chain on each request: the leaves are every entry_hash in seq order. That is O(n) per
 * call, fine for a personal hub's log (10^5 entries hash in well under a second); a cache of subtree roots is the
 * next step when logs grow.
 */
export interface SignedHeadAnswer {
  signed: SignedAuditHead;
  /** Hex hashes proving the tree of `since` entries is a prefix of this one; null when not asked for. */
  consistency: string[] | null;
}

/**
 * Signs the current head of the whole log; with `since` (1 ≤ since ≤ entry count) also returns the consistency
 * proof from the tree of the first `since` entries. Returns null when the log is empty.
 * @throws RangeError when `since` is past the end of the log
 */
export async function signedAuditHead(
  store: HubStore,
  identity: HubIdentity,
  hub: string,
  now: number,
  since?: number,
): Promise<SignedHeadAnswer | null> {
  const leaves: Uint8Array[] = [];
  let headHash = '';
  for await (const row of store.audit.scan()) {
    leaves.push(fromHex(row.entryHash));
    headHash = row.entryHash;
  }
  if (leaves.length === 0) return null;
  const signed = signAuditHead(identity.privateKey, {
    hub,
    hub_key: identity.hubKey,
    seq: leaves.length,
    head_hash: headHash,
    tree_root: toHex(auditTreeRoot(leaves)),
    time: now,
  });
  const consistency = since === undefined ? null : auditConsistencyProof(since, leaves).map((h) => toHex(h));
  return { signed, consistency };
}
