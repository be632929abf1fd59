import { describe, expect, it } from 'vitest';
import type { ItemRecord } from '../../../lib/vault/db';
import { FIRST_SUMMARY_PAGE, SUMMARY_PAGE, SummaryIndex, type SummarySource } from '../../../lib/vault/summary-index';
import type { ItemSummary } from '../../../lib/vault/types';

// The index's pass against a source whose reads this test releases one page at a time, so that a change can be made
// exactly between a page being read and being opened (the order the vault service cannot force in a test).
// The vault service's own tests (large-vault-list.test.ts) run the same index on real, encrypted records.

const summaryOf = (id: string, name: string): ItemSummary => ({
  id,
  kind: 'secret',
  name,
  tags: [],
  revision: 1,
  createdAt: 0,
  updatedAt: 0,
  expiresAt: null,
  expiry: 'none',
});

/** Records are stand-ins whose "envelope" is the name, opened by `summarize`. */
function gatedSource(count: number) {
  const ids = Array.from({ length: count }, (_, i) => `id-${String(i).padStart(5, '0')}`);
  const gates: { after: string | null; release: () => void }[] = [];
  const source: SummarySource = {
    page(after, limit) {
      const start = after === null ? 0 : ids.indexOf(after) + 1;
      const records = ids
        .slice(start, start + limit)
        .map((id) => ({ id, kind: 'secret', name: `stored ${id}` }) as unknown as ItemRecord);
      return new Promise((resolve) => gates.push({ after, release: () => resolve(records) }));
    },
    summarize: (record) => summaryOf(record.id, (record as unknown as { name: string }).name),
  };
  /** Releases the oldest read still waiting, then lets the pass run until it waits again. */
  const releaseNext = async (): Promise<void> => {
    gates.shift()!.release();
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
  };
  return { ids, gates, source, releaseNext };
}

describe('SummaryIndex', () => {
  it('a change made after a page was read but before it was opened wins over the stored record', async () => {
    const { ids, gates, source, releaseNext } = gatedSource(FIRST_SUMMARY_PAGE + 10);
    const index = new SummaryIndex(source);
    expect(gates).toHaveLength(1); // the first page is being read
    const [renamed, removed] = [ids[0]!, ids[1]!];
    // The read of page 1 has the old records; the changes land before the pass opens them.
    index.set(summaryOf(renamed, 'renamed meanwhile'));
    index.remove(removed);
    while (gates.length) await releaseNext();
    const all = await index.all();
    expect(all).toHaveLength(ids.length - 1);
    expect(all.find((s) => s.id === renamed)?.name).toBe('renamed meanwhile');
    expect(all.some((s) => s.id === removed)).toBe(false);
  });

  it('reads the next page before opening the current one, and keeps the sorted list in step with changes', async () => {
    const { ids, gates, source, releaseNext } = gatedSource(SUMMARY_PAGE * 2 + 1);
    const index = new SummaryIndex(source);
    await releaseNext();
    expect(gates.map((g) => g.after)).toEqual([ids[FIRST_SUMMARY_PAGE - 1]]); // page 2 asked for while page 1 opens
    while (gates.length) await releaseNext();
    expect((await index.all()).map((s) => s.id)).toEqual(ids); // "stored id-…" sorts like the ids
    index.set(summaryOf('new-item', 'a first by name'));
    index.set(summaryOf(ids[5]!, 'zz last by name'));
    index.remove(ids[7]!);
    const sorted = await index.all();
    expect(sorted[0]!.id).toBe('new-item');
    expect(sorted.at(-1)!.id).toBe(ids[5]);
    expect(sorted).toHaveLength(ids.length);
    expect(sorted.some((s) => s.id === ids[7])).toBe(false);
  });

  it('cancelled, the pass reads no further page and `all` rejects for its callers to read again', async () => {
    const { gates, source, releaseNext } = gatedSource(SUMMARY_PAGE * 3);
    const index = new SummaryIndex(source);
    const all = index.all();
    all.catch(() => {}); // asserted below, once the pass has stopped
    index.cancel();
    await releaseNext();
    expect(gates).toHaveLength(0);
    await expect(all).rejects.toMatchObject({ code: 'storage_conflict' });
    expect(index.cancelled).toBe(true);
  });

  it('a record that does not open fails the pass: `all` rejects with that error', async () => {
    const { gates, source, releaseNext } = gatedSource(SUMMARY_PAGE + 3);
    const failing = new SummaryIndex({
      ...source,
      summarize: (record) => {
        if (record.id.endsWith('002')) throw Object.assign(new Error('tampered'), { code: 'decrypt_failed' });
        return source.summarize(record);
      },
    });
    while (gates.length) await releaseNext();
    await expect(failing.all()).rejects.toMatchObject({ code: 'decrypt_failed' });
  });
});
