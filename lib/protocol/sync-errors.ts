/**
 * Why a sync did not happen. Local data is never changed by a failed sync: every code below leaves the vault as it
 * was, with local edits still queued.
 * - `sync_rollback`: the hub served a vault head older than one this device already saw (a restored or malicious hub).
 * - `sync_fork`: the hub served a different head with the same counter as one this device saw (two histories).
 * - `sync_head_invalid`: the head is malformed, not signed by a device of this account, or does not match the items.
 * - `sync_offline`: the hub could not be reached.
 * - `sync_refused`: the hub refused the push or pull (its code and message are kept).
 */
import { ClawkeepError } from '../errors';

export type SyncErrorCode =
  'sync_rollback' | 'sync_fork' | 'sync_head_invalid' | 'sync_offline' | 'sync_refused' | 'sync_busy';

export class SyncError extends ClawkeepError {
  declare readonly code: SyncErrorCode;

  constructor(code: SyncErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'SyncError';
  }

  override toJSON(): { code: SyncErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}
