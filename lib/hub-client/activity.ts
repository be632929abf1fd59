import type { SignedAuditHead } from '../protocol/audit-head';

/** One line of the Activity list: an audit entry in plain words, computed on the device. */
export interface ActivityEntryView {
  seq: number;
  time: number;
  /** e.g. "research-bot asked for the secret arxiv-key", "You approved research-bot's request for …". */
  text: string;
  /** The raw action (`intent.approve`, …), for styling and tests. */
  action: string;
  entry_hash: string;
}

export interface ActivityPage {
  entries: ActivityEntryView[];
  /** Pass as `before` to load the next (older) page; null when there is none. */
  nextBefore: number | null;
  /** The newest entry of the hub's whole chain. */
  head: { seq: number; entry_hash: string };
  /** Whether the hub's signed head extends the one this device kept (first page only; see AuditIntegrity). */
  integrity?: AuditIntegrity;
}

/**
 * What the device concluded about the hub's signed audit head (CKAH, docs/protocol.md §11):
 * - `verified`: signed by the pinned hub key and extends the head this device kept before (or the same head);
 * - `first`: the first signed head this device saw (kept from now on);
 * - `rewritten`: the hub showed a head that does not extend the kept one (rollback, rewritten history, fork, wrong
 *   key or no proof): `since` is the time of the last head that was good, `reason` says what failed, and `kept` is
 *   still that last good head (never replaced by the bad one).
 */
export interface AuditIntegrity {
  status: 'verified' | 'first' | 'rewritten';
  /** The signed head this device keeps, to export for `clawkeep audit verify --head` (null if none yet). */
  kept: SignedAuditHead | null;
  since?: number;
  reason?: string;
}

export { describeAuditEntry, type ActivityNames } from './activity-sentences';
