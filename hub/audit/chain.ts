import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, hexToBytes } from '@noble/hashes/utils.js';
import { canonicalBytes } from '../../lib/protocol/canonical';
import type { AuditFields, AuditRow, HubStore } from '../store/port';

/**
 * The hub's tamper-evident audit log: an append-only hash chain (hub-anchors §B4, the first step before a CT-style
 * Merkle tree with signed checkpoints).
 *
 *   entry_hash = hex(SHA-256(0x00 ‖ prev_hash bytes ‖ canonicalBytes(fields)))
 *
 * where `fields` is the object `{seq, time, actor, agent, resource, action, request_id, idempotency_key}` (absent
 * values are null) and the first entry's prev_hash is 32 zero bytes. The 0x00 prefix is the RFC 6962 leaf prefix,
 * so a later Merkle tree (interior nodes prefixed 0x01) can reuse these hashes as leaves without ambiguity.
 * `seq` is hashed too, so moving an entry to another position breaks it.
 *
 * What the chain cannot show on its own: that the newest entries were cut off (truncation). That needs the head
 * (seq, entry_hash) to be signed and remembered outside the database, which comes with the hub's signing key.
 */

export const GENESIS_HASH = '0'.repeat(64);
const LEAF_PREFIX = new Uint8Array([0x00]);

/** What a caller logs. Entries carry ids, names and actions, never a secret or a payload. */
export interface AuditEntry {
  time: number;
  /** Who acted: `hub`, `account:<id>`, `agent:<id>`. */
  actor: string;
  action: string;
  agent?: string | null;
  resource?: string | null;
  requestId?: string | null;
  idempotencyKey?: string | null;
}

export type AuditVerifyResult = { ok: true; count: number; head: string } | { ok: false; seq: number; reason: string };

/** The hashed object, with the column names as keys. */
function hashedFields(f: AuditFields): Record<string, string | number | null> {
  return {
    seq: f.seq,
    time: f.time,
    actor: f.actor,
    agent: f.agent,
    resource: f.resource,
    action: f.action,
    request_id: f.requestId,
    idempotency_key: f.idempotencyKey,
  };
}

/** entry_hash of `fields` chained after `prevHash` (64 hex characters). */
export function auditEntryHash(prevHash: string, fields: AuditFields): string {
  return bytesToHex(sha256(concatBytes(LEAF_PREFIX, hexToBytes(prevHash), canonicalBytes(hashedFields(fields)))));
}

/**
 * Appends one entry at the end of the chain and returns the stored row. Runs in its own transaction, or as part of
 * the caller's (joined, no savepoint: its one write either happens or fails the caller's transaction): call it
 * inside the same `store.transaction` as the mutation it records, so both commit or neither does.
 * @throws TypeError/RangeError for a malformed entry; StoreError from the store.
 */
export async function appendAudit(store: HubStore, entry: AuditEntry): Promise<AuditRow> {
  if (!Number.isSafeInteger(entry.time) || entry.time < 0)
    throw new RangeError('audit entry: time must be a non-negative integer (ms)');
  if (typeof entry.actor !== 'string' || entry.actor === '')
    throw new TypeError('audit entry: actor must be a non-empty string');
  if (typeof entry.action !== 'string' || entry.action === '')
    throw new TypeError('audit entry: action must be a non-empty string');
  return await store.transaction(
    async () => {
      const head = await store.audit.head();
      const fields: AuditFields = {
        seq: head ? head.seq + 1 : 1,
        time: entry.time,
        actor: entry.actor,
        agent: entry.agent ?? null,
        resource: entry.resource ?? null,
        action: entry.action,
        requestId: entry.requestId ?? null,
        idempotencyKey: entry.idempotencyKey ?? null,
      };
      const prevHash = head ? head.entryHash : GENESIS_HASH;
      const row: AuditRow = { ...fields, prevHash, entryHash: auditEntryHash(prevHash, fields) };
      await store.audit.insert(row);
      return row;
    },
    { join: true },
  );
}

/**
 * Walks the whole log in seq order and checks that seq runs 1, 2, 3, ... without gaps, that every prev_hash is the
 * previous entry_hash (genesis for the first), and that every entry_hash matches its entry. Reports the first
 * entry that fails. Detects edited, deleted (except the newest ones: see above), inserted and reordered rows.
 */
export async function verifyAudit(store: HubStore): Promise<AuditVerifyResult> {
  let expected = 1;
  let prev = GENESIS_HASH;
  for await (const row of store.audit.scan()) {
    if (row.seq !== expected) {
      return { ok: false, seq: expected, reason: `entry ${expected} is missing (the next entry is ${row.seq})` };
    }
    if (row.prevHash !== prev) {
      const of = expected === 1 ? 'the genesis hash' : `the entry_hash of entry ${expected - 1}`;
      return {
        ok: false,
        seq: row.seq,
        reason: `prev_hash does not match ${of} (entries removed, inserted or reordered)`,
      };
    }
    let actual: string;
    try {
      actual = auditEntryHash(row.prevHash, row);
    } catch {
      return { ok: false, seq: row.seq, reason: 'the entry cannot be encoded (a field holds an invalid value)' };
    }
    if (actual !== row.entryHash) {
      return { ok: false, seq: row.seq, reason: 'entry_hash does not match the entry (its contents were changed)' };
    }
    prev = row.entryHash;
    expected++;
  }
  return { ok: true, count: expected - 1, head: prev };
}
