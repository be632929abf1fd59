import { ClawkeepError } from '../errors';
import type { ItemRecord } from './db';
import { backgroundTurn } from './background-turn';
import { compareSummaries } from './item-search';
import type { ItemSummary } from './types';

/** Records read per IndexedDB request while the index is built: few requests (each costs a transaction). */
export const SUMMARY_PAGE = 1000;
/**
 * The first request reads fewer: it starts at unlock, right before the page's request for its first screen, which
 * IndexedDB answers after it (a 1,000-record first read made the first screen of a 10,000-item vault wait for it).
 */
export const FIRST_SUMMARY_PAGE = 100;
/**
 * Records opened per turn of the event loop: a few milliseconds of decryption, after which the background answers
 * what a person waits for (the first screen, status, an item being opened) before the next slice.
 */
const SLICE = 200;

/**
 * `all` of an index the service dropped meanwhile (a sync pull, an import): its callers read again from the current
 * one, and show this only if the vault keeps changing under every retry.
 */
export class SupersededError extends ClawkeepError {
  constructor() {
    super('storage_conflict', 'The vault changed while its item list was read; try again.');
    this.name = 'SupersededError';
  }
}

/** Where the index reads from and how one record becomes a summary (the vault service: decrypt, authenticate). */
export interface SummarySource {
  /** Up to `limit` records in primary-key order, starting after `after` (from the first when null). */
  page(after: string | null, limit: number): Promise<ItemRecord[]>;
  /** Opens one record (its AEAD tag checked) into its summary; throws for a record that does not authenticate. */
  summarize(record: ItemRecord): ItemSummary;
}

/**
 * The decrypted summaries of an unlocked vault, in memory only (the vault service drops the index on lock).
 * One pass builds it, shared by every caller that asks meanwhile (the page's list, the hub's record lookups right
 * after unlock). The pass reads in pages and asks for the next page before opening the current one, so IndexedDB
 * reads the next records while this thread decrypts.
 *
 * Changes made while the pass runs win over what it reads: `set` and `remove` mark the id, and the pass skips
 * marked ids (the record it read may be older than the change). A change the service cannot describe (a sync pull,
 * an import) is not patched in: the service drops the whole index instead.
 */
export class SummaryIndex {
  private readonly byId = new Map<string, ItemSummary>();
  /** Ids changed by `set`/`remove` while the pass runs; null once it has finished. */
  private changedDuringPass: Set<string> | null = new Set();
  /** The summaries sorted for `list`, kept while nothing changes (maintained in place by `set`/`remove`). */
  private sorted: ItemSummary[] | null = null;
  /** Set by `cancel`: the service dropped this index (lock, sync pull, import); the pass stops at its next page. */
  private dropped = false;
  /** Settles when the pass has read every record; rejects when one does not open (nothing is shown then). */
  readonly complete: Promise<void>;

  constructor(source: SummarySource) {
    this.complete = this.build(source);
    // A failure is reported to whoever awaits `complete`; this keeps it from also surfacing as unhandled.
    this.complete.catch(() => {});
  }

  private async build(source: SummarySource): Promise<void> {
    const read = (after: string | null, size: number): Promise<ItemRecord[]> => {
      const page = source.page(after, size);
      page.catch(() => {}); // a read still in flight when the pass stops must not surface as unhandled
      return page;
    };
    let size = FIRST_SUMMARY_PAGE;
    let next = read(null, size);
    for (;;) {
      const records = await next;
      if (this.dropped) return;
      const more = records.length === size;
      size = SUMMARY_PAGE;
      // Ask for the next page first: IndexedDB reads it while the records below are decrypted.
      if (more) next = read(records[records.length - 1]!.id, size);
      for (let start = 0; start < records.length; start += SLICE) {
        await backgroundTurn();
        if (this.dropped) return;
        for (const record of records.slice(start, start + SLICE)) {
          if (this.changedDuringPass!.has(record.id)) continue;
          this.byId.set(record.id, source.summarize(record));
        }
      }
      if (!more) break;
    }
    this.changedDuringPass = null;
  }

  /** The service dropped this index: the pass stops, and `all` rejects so that its callers read again. */
  cancel(): void {
    this.dropped = true;
  }

  get cancelled(): boolean {
    return this.dropped;
  }

  /** A summary already opened by the pass (or set since), if any. */
  peek(id: string): ItemSummary | undefined {
    return this.byId.get(id);
  }

  /** Every summary, sorted by name (item-search.ts), once the pass is complete. Shared: callers must not mutate it. */
  async all(): Promise<readonly ItemSummary[]> {
    await this.complete;
    if (this.dropped) throw new SupersededError();
    this.sorted ??= [...this.byId.values()].sort(compareSummaries);
    return this.sorted;
  }

  /** An item was saved: its new summary replaces the old one. */
  set(summary: ItemSummary): void {
    this.changedDuringPass?.add(summary.id);
    const old = this.byId.get(summary.id);
    this.byId.set(summary.id, summary);
    if (!this.sorted) return;
    if (old) this.sorted.splice(this.position(old), 1);
    this.sorted.splice(this.position(summary), 0, summary);
  }

  /** An item was deleted. */
  remove(id: string): void {
    this.changedDuringPass?.add(id);
    const old = this.byId.get(id);
    if (!old) return;
    this.byId.delete(id);
    if (this.sorted) this.sorted.splice(this.position(old), 1);
  }

  /** Where `summary` is (or would go) in `sorted`: binary search, the order being total (name, then id). */
  private position(summary: ItemSummary): number {
    const sorted = this.sorted!;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareSummaries(sorted[mid]!, summary) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
