import type { Intent as WireIntent } from '../../lib/protocol/wire';
import { decodePageCursor, encodePageCursor } from '../../lib/protocol/intent-events-wire';
import type { HubDeps } from '../deps';
import type { Installation } from '../store/port';
import { toWireIntent, wireStatus } from './intent-view';

/**
 * The pending list in pages and as diffs (issue 16: with 1,000 pending intents every event re-sent 461 KB, and one
 * device received 550 MB in 90 s). Positions in time are audit sequence numbers: every change to an intent appends
 * an audit row in the same transaction (create, approve, deny, auto-approve, execute, expire, also the expiries of a
 * revocation), and transactions are serialized across every process sharing the store, so once a sequence number
 * is visible every smaller one is too. "What changed since seq S" is therefore the intents named by the account's
 * audit rows after S, read again now: a diff always carries current state, never a replayed past one.
 */

/** More intent rows than this since a stream's position: a fresh snapshot is cheaper and smaller than the diff. */
export const MAX_CHANGE_ROWS = 2_000;
/** A resume position further than this many audit rows (of every account) behind the head gets a fresh snapshot. */
export const MAX_RESUME_GAP = 20_000;
/** Snapshot pages one stream sends at most (bounds the loop; 100,000 intents at SNAPSHOT_PAGE). */
export const MAX_SNAPSHOT_PAGES = 1_000;

/** The audit head's sequence number (0 for an empty log): the position a snapshot or diff is as new as. */
export async function auditPosition(deps: HubDeps): Promise<number> {
  return (await deps.store.audit.head())?.seq ?? 0;
}

/**
 * The account's installations, read by id as the intents of a page or diff name them, each once. Reading all of the
 * account's installations instead cost 0.6 ms per event with 40 of them, and was the hub's most expensive statement
 * with 1,000 agents on 25 accounts (bench/hub-load.mjs); a diff names one or two.
 */
function installationsOf(deps: HubDeps, accountId: string): (id: string) => Promise<Installation | undefined> {
  const read = new Map<string, Promise<Installation | undefined>>();
  return (id) => {
    let found = read.get(id);
    if (!found) {
      found = deps.store.installations.get(id).then((i) => (i !== null && i.accountId === accountId ? i : undefined));
      read.set(id, found);
    }
    return found;
  };
}

/**
 * One page of the account's pending intents, oldest first, after `after` (a decoded cursor). `next` is where the
 * following page starts, absent on the last page. Intents of revoked installations are left out (the revocation
 * expired them in the same transaction; this is defence in depth), so a page may hold fewer than `limit`.
 */
export async function pendingPage(
  deps: HubDeps,
  accountId: string,
  limit: number,
  after?: { createdAt: number; intentId: string },
): Promise<{ intents: WireIntent[]; next?: string }> {
  const now = deps.now();
  const rows = await deps.store.intents.listPendingForAccount(accountId, now, {
    ...(after ? { after } : {}),
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const installationOf = installationsOf(deps, accountId);
  const withInstallations = await Promise.all(
    page.map(async (intent) => ({ intent, installation: await installationOf(intent.installationId) })),
  );
  const intents = withInstallations
    .filter(
      (x): x is { intent: (typeof page)[number]; installation: Installation } =>
        x.installation !== undefined && x.installation.status !== 'revoked',
    )
    .map(({ intent, installation }) => toWireIntent(intent, installation, now));
  const last = page.at(-1);
  return rows.length > limit && last ? { intents, next: encodePageCursor(last.createdAt, last.intentId) } : { intents };
}

/** The snapshot as pages of at most `pageSize`, each with whether more follow. */
export async function* snapshotPages(
  deps: HubDeps,
  accountId: string,
  pageSize: number,
): AsyncGenerator<{ intents: WireIntent[]; more: boolean }> {
  let after: { createdAt: number; intentId: string } | undefined;
  for (let n = 0; n < MAX_SNAPSHOT_PAGES; n++) {
    const page = await pendingPage(deps, accountId, pageSize, after);
    const more = page.next !== undefined && n + 1 < MAX_SNAPSHOT_PAGES;
    yield { intents: page.intents, more };
    if (!more) return;
    after = decodePageCursor(page.next!)!;
  }
}

/** Actions that move an intent out of `pending`: its first such row after a position means it was pending there. */
const LEAVES_PENDING = new Set(['intent.approve', 'intent.deny', 'intent.auto_approve', 'intent.expire']);
/** Actions on an intent that was not pending before them (created, or already approved). */
const NOT_PENDING_BEFORE = new Set(['intent.create', 'intent.execute']);

export interface IntentDiff {
  added: string[];
  updated: string[];
  /** Intents that were pending at the first position and are not now. */
  removed: string[];
  /**
   * Intents that changed in between and are not pending now, but were not pending at the first position either
   * (created and decided in between, or executed). A client whose list may be newer than that position (it polled
   * meanwhile) removes these too; a client that counts (the locked watcher) must not subtract them.
   */
  gone: string[];
  /** The current wire form of every added and updated intent. */
  intents: WireIntent[];
}

/**
 * What changed in the account's pending list between two audit positions: `null` when no intent of the account
 * changed, `'resync'` when more than MAX_CHANGE_ROWS rows lie between them. `removed` names only intents that were
 * pending at `afterSeq`, so a client's count stays right (the locked watcher adds and subtracts); `gone` the rest.
 */
export async function intentDiff(
  deps: HubDeps,
  accountId: string,
  afterSeq: number,
  throughSeq: number,
): Promise<IntentDiff | null | 'resync'> {
  const rows = await deps.store.audit.intentChanges(accountId, afterSeq, throughSeq, MAX_CHANGE_ROWS + 1);
  if (rows.length > MAX_CHANGE_ROWS) return 'resync';
  if (rows.length === 0) return null;
  const firstAction = new Map<string, string>();
  for (const r of rows) if (!firstAction.has(r.intentId)) firstAction.set(r.intentId, r.action);
  const now = deps.now();
  const installationOf = installationsOf(deps, accountId);
  const diff: IntentDiff = { added: [], updated: [], removed: [], gone: [], intents: [] };
  for (const [intentId, action] of firstAction) {
    const intent = await deps.store.intents.get(intentId);
    const installation = intent && (await installationOf(intent.installationId));
    if (!intent || !installation) continue;
    const isPending = installation.status !== 'revoked' && wireStatus(intent, installation, now) === 'pending';
    // An action this hub does not know (a newer version's) is treated as an update of whatever the intent is now.
    const wasPending = LEAVES_PENDING.has(action) || (!NOT_PENDING_BEFORE.has(action) && isPending);
    if (isPending) {
      (wasPending ? diff.updated : diff.added).push(intentId);
      diff.intents.push(toWireIntent(intent, installation, now));
    } else {
      (wasPending ? diff.removed : diff.gone).push(intentId);
    }
  }
  return diff.added.length + diff.updated.length + diff.removed.length + diff.gone.length > 0 ? diff : null;
}
