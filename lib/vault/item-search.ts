import type { ItemSummary } from './types';

/**
 * Items a page asks for first (`recent`), newest first, while the whole list decrypts: more than a tall window
 * shows, so the first screen is full even after Clawkeep's own records are left out of it.
 */
export const FIRST_SCREEN_ITEMS = 60;

/**
 * The order and the search of the item list, shared by the vault service (which answers `list` and `search`) and the
 * pages (which filter the list they hold as the person types), so both always agree.
 */

/**
 * By name (the default locale's collation), then by id so that equal names keep one stable order. Plain
 * `localeCompare`: V8 caches its default collator and has a fast path for it, measured twice as fast as calling a
 * shared `Intl.Collator`'s compare (10,000 names: 19 vs 39 ms).
 */
export function compareSummaries(a: ItemSummary, b: ItemSummary): number {
  return a.name.localeCompare(b.name) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The lower-cased words of a query; none means "everything". */
export function queryTerms(query: string): string[] {
  return query.toLowerCase().split(/\s+/).filter(Boolean);
}

/** Every term appears in the item's name or one of its tags (case-insensitive). */
export function matchesTerms(summary: ItemSummary, terms: readonly string[]): boolean {
  if (terms.length === 0) return true;
  const haystack = [summary.name, ...summary.tags].join(' ').toLowerCase();
  return terms.every((t) => haystack.includes(t));
}

/** The items matching `query`, in the order given. */
export function filterSummaries(items: readonly ItemSummary[], query: string): ItemSummary[] {
  const terms = queryTerms(query);
  return terms.length === 0 ? [...items] : items.filter((s) => matchesTerms(s, terms));
}
