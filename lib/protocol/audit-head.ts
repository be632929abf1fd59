import { fromHex, toHex } from '../bytes';
import { verifyAuditConsistency } from './audit-tree';
import { exactFields, isEpoch, isOrigin, isSha256Hex } from './fields';
import { ProtocolError } from './errors';
import { decodePublicKey } from './keys';
import { signStatement, verifyStatement, type SignedStatement, type StatementFormat } from './signed-statement';

/**
 * The hub's signed audit head, "CKAH" v1 (docs/protocol.md §11):
 *
 * ```text
 *   signed bytes = "CKAH" | 0x01 | canonicalBytes({hub, hub_key, seq, head_hash, tree_root, time})
 * ```
 *
 * signed with the hub's identity key. `seq` is the number of entries in the whole log, `head_hash` the entry_hash of
 * entry `seq` (what `clawkeep audit verify` prints), `tree_root` the RFC 9162 Merkle root over entries 1..seq
 * (audit-tree.ts), `time` the hub clock (ms). A device keeps the last head it accepted and accepts a later one only
 * with a consistency proof from the old tree to the new one, so a hub that rewrites, truncates or forks history the
 * device has seen cannot produce a head the device accepts.
 */
export interface AuditHead {
  hub: string;
  hub_key: string;
  seq: number;
  head_hash: string;
  tree_root: string;
  time: number;
}

export type SignedAuditHead = SignedStatement<AuditHead>;

const KEYS = ['head_hash', 'hub', 'hub_key', 'seq', 'time', 'tree_root'];

export const AUDIT_HEAD_FORMAT: StatementFormat<AuditHead> = {
  tag: 'CKAH',
  version: 1,
  code: 'audit_head_invalid',
  what: 'audit head',
  validate(value: unknown): AuditHead {
    const v = exactFields(value, KEYS, 'head');
    if (!isOrigin(v.hub)) throw new Error('hub');
    decodePublicKey(v.hub_key as string, 'ed25519', 'hub_key');
    if (!Number.isSafeInteger(v.seq) || (v.seq as number) < 1) throw new Error('seq');
    if (!isSha256Hex(v.head_hash) || !isSha256Hex(v.tree_root) || !isEpoch(v.time)) throw new Error('hash / time');
    return {
      hub: v.hub,
      hub_key: v.hub_key as string,
      seq: v.seq as number,
      head_hash: v.head_hash,
      tree_root: v.tree_root,
      time: v.time,
    };
  },
};

/** The hub's side: signs a head with its identity key (the key must match `head.hub_key`: the verifier checks). */
export function signAuditHead(privateKey: Uint8Array, head: AuditHead): SignedAuditHead {
  return signStatement(AUDIT_HEAD_FORMAT, privateKey, head);
}

/**
 * Checks shape and signature: the head must be for `hub`, name `hubKey` (the pinned key) and verify under it.
 * @throws ProtocolError `audit_head_invalid`
 */
export function verifyAuditHead(signed: unknown, expect: { hub: string; hubKey: string }): AuditHead {
  const key = decodePublicKey(expect.hubKey, 'ed25519', 'pinned hub key');
  return verifyStatement(AUDIT_HEAD_FORMAT, key, signed, { hub: expect.hub, hub_key: expect.hubKey });
}

/** Why a new head was not accepted after the kept one. */
export type AuditHeadProblem = 'signature' | 'rollback' | 'fork' | 'no_proof';

export type AuditHeadCheck = { ok: true; head: AuditHead } | { ok: false; problem: AuditHeadProblem; message: string };

/**
 * Accepts `signed` as the device's new kept head only if it verifies under the pinned key and extends `kept` (the
 * last head this device accepted, or null on first sight): same size and same roots, or larger with a valid
 * consistency proof (`proof`: hex hashes, as GET /v1/audit?since=kept.seq returns them). Never throws.
 */
export function checkAuditHead(
  kept: AuditHead | null,
  signed: unknown,
  proof: readonly string[] | null | undefined,
  expect: { hub: string; hubKey: string },
): AuditHeadCheck {
  let head: AuditHead;
  try {
    head = verifyAuditHead(signed, expect);
  } catch (err) {
    return {
      ok: false,
      problem: 'signature',
      message: err instanceof ProtocolError ? err.message : 'The audit head does not verify.',
    };
  }
  if (!kept) return { ok: true, head };
  if (head.seq < kept.seq) {
    return {
      ok: false,
      problem: 'rollback',
      message: `The hub now shows ${head.seq} entries where it showed ${kept.seq} before: entries were removed.`,
    };
  }
  if (head.seq === kept.seq) {
    if (head.tree_root === kept.tree_root && head.head_hash === kept.head_hash) return { ok: true, head };
    return {
      ok: false,
      problem: 'fork',
      message: `The hub shows a different history of the same ${head.seq} entries.`,
    };
  }
  if (!Array.isArray(proof) || proof.length === 0 || !proof.every(isSha256Hex)) {
    return {
      ok: false,
      problem: 'no_proof',
      message: 'The hub did not prove that its new log extends the one seen before.',
    };
  }
  const ok = verifyAuditConsistency(
    kept.seq,
    head.seq,
    fromHex(kept.tree_root),
    fromHex(head.tree_root),
    proof.map((p) => fromHex(p)),
  );
  if (!ok)
    return {
      ok: false,
      problem: 'fork',
      message: `The hub's log of ${head.seq} entries does not contain the ${kept.seq} entries seen before unchanged.`,
    };
  return { ok: true, head };
}

/** Hex helper for the hub and the CLI (tree roots and proofs travel as lowercase hex). */
export const hashHex = (bytes: Uint8Array): string => toHex(bytes);
