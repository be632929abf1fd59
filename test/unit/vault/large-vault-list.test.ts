import { beforeEach, describe, expect, it } from 'vitest';
import { setAeadOpener } from '../../../lib/crypto/aead';
import { createWasmAeadOpener, loadWasmAead } from '../../../lib/crypto/aead-wasm';
import { VaultDb } from '../../../lib/vault/db';
import { SUMMARY_PAGE } from '../../../lib/vault/summary-index';
import type { SecretFields } from '../../../lib/vault/types';
import type { VaultService } from '../../../lib/vault/vault-service';
import { createdVault, kekFor } from './helpers';

// The item list of a vault larger than one read page (summary-index.ts): read in pages, decrypted and authenticated
// item by item, shared by concurrent callers, and never stale after a change made while it was being read.

const PASS = 'orbit-lantern-velvet-42';
const COUNT = SUMMARY_PAGE + 234;
const nameOf = (n: number): string => `Item ${String(n).padStart(5, '0')}`;
const secret = (name: string, tags: string[] = []): SecretFields => ({
  name,
  value: `value of ${name}`,
  notes: '',
  tags,
  expiresAt: null,
  allowedHosts: [],
});

describe('the item list of a large vault', () => {
  let name: string;
  let now: number;
  let service: VaultService;
  let salt: Uint8Array;

  beforeEach(async () => {
    now = Date.parse('2026-12-01T12:00:00Z');
    ({ name, service, salt } = await createdVault(PASS, () => now));
    // Shuffled, so that neither the id order (random UUIDs) nor the insertion order is the name order.
    const names = Array.from({ length: COUNT }, (_, i) => nameOf(i + 1)).sort(() => Math.random() - 0.5);
    await service.importItems({ items: names.map((n, i) => secret(n, i % 7 === 0 ? ['team'] : [])) });
  }, 60_000);

  async function relock(): Promise<void> {
    await service.lock();
    await service.unlock({ kek: await kekFor(PASS, salt) });
  }

  it('lists every item once, sorted by name, across read pages; search finds the last one', async () => {
    await relock();
    const list = await service.list();
    expect(list).toHaveLength(COUNT);
    expect(list.map((s) => s.name)).toEqual(Array.from({ length: COUNT }, (_, i) => nameOf(i + 1)));
    expect(new Set(list.map((s) => s.id)).size).toBe(COUNT);
    expect((await service.search({ query: nameOf(COUNT) })).map((s) => s.name)).toEqual([nameOf(COUNT)]);
    expect(await service.search({ query: 'TEAM' })).toHaveLength(list.filter((s) => s.tags.includes('team')).length);
  });

  it('concurrent callers get the same answer from one pass', async () => {
    await relock();
    const [a, b, c] = await Promise.all([service.list(), service.list(), service.search({ query: '' })]);
    expect(a).toHaveLength(COUNT);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  });

  it('recent answers the most recently changed items, newest first', async () => {
    const saved = [];
    for (const n of ['Newest 3', 'Newest 2', 'Newest 1']) {
      now += 1000;
      saved.push(await service.save({ draft: { kind: 'secret', fields: secret(n) } }));
    }
    await relock();
    const recent = await service.recent({ limit: 3 });
    expect(recent.map((s) => s.name)).toEqual(['Newest 1', 'Newest 2', 'Newest 3']);
    expect(recent.map((s) => s.id)).toEqual(saved.map((s) => s.id).reverse());
    // Bounded: a first screen, not the whole vault.
    expect(await service.recent({ limit: 1e9 })).toHaveLength(200);
    expect(await service.recent({ limit: Number.NaN })).toHaveLength(1);
  });

  it('an item saved or deleted while the list is being read shows as it is after the change', async () => {
    await relock();
    const byId = (await service.list()).map((s) => s.id).sort();
    // The first ids in key order are in the first read page. Whichever way the pass and the changes interleave here,
    // the answer is the state after the changes (the exact interleaving is forced in summary-index.test.ts).
    const [renamedId, removedId] = byId;
    await relock();
    const listing = service.list();
    const renamed = await service.save({
      draft: { id: renamedId, kind: 'secret', fields: secret('Renamed while listing') },
    });
    await service.remove({ id: removedId! });
    const list = await listing;
    expect(list).toHaveLength(COUNT - 1);
    expect(list.find((s) => s.id === renamedId)).toMatchObject({ name: 'Renamed while listing', revision: 2 });
    expect(list.some((s) => s.id === removedId)).toBe(false);
    expect(list.at(-1)!.id).toBe(renamed.id); // "Renamed…" sorts after "Item …"
    expect(await service.list()).toEqual(list);
  });

  it('a sync pull while the list is being read: the pass is dropped and read again; the next list shows the pull', async () => {
    await relock();
    // Dropped at once (what vaultSyncStore's apply() calls after writing): the list in flight starts over.
    const listing = service.list();
    service.invalidateCache();
    expect(await listing).toHaveLength(COUNT);

    const db = new VaultDb(name);
    const first = (await db.items.orderBy(':id').first())!;
    const during = service.list();
    await db.items.delete(first.id);
    service.invalidateCache();
    // Started before the pull: it answers what was stored before or after it, whole either way.
    expect([COUNT, COUNT - 1]).toContain((await during).length);
    const after = await service.list();
    expect(after).toHaveLength(COUNT - 1);
    expect(after.some((s) => s.id === first.id)).toBe(false);
    db.close();
  });

  /** Resolves after `n` microtask hops: the steps between a page's list resolving and its answer being posted. */
  const hops = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await Promise.resolve();
  };

  it("the background's own lookups waiting on the pass resume after a page's list that waited on it too", async () => {
    await relock();
    const order: string[] = [];
    // The lookups ask first (as at unlock: the hub's record lookups start before the page's list arrives), and the
    // page's answer takes a few more steps after its list resolves (dispatch, posting the answer).
    const lookups = [1, 2, 3].map((n) =>
      service.listInBackground().then((l) => {
        order.push(`lookup ${n}`);
        return l;
      }),
    );
    const page = service.list().then(async (l) => {
      await hops(50);
      order.push('page answered');
      return l;
    });
    const [pageList, ...lookupLists] = await Promise.all([page, ...lookups]);
    expect(order[0]).toBe('page answered');
    for (const l of lookupLists) expect(l).toEqual(pageList);
    expect(pageList).toHaveLength(COUNT);
  });

  it('a lookup still waiting for its turn when the vault locks gets vault_locked, not the summaries', async () => {
    await relock();
    await service.list();
    const lookup = service.listInBackground();
    await hops(50);
    await service.lock();
    await expect(lookup).rejects.toMatchObject({ code: 'vault_locked' });
  });

  it('locking while the list is being read rejects it as locked and keeps nothing', async () => {
    await relock();
    const listing = service.list();
    await service.lock();
    await expect(listing).rejects.toMatchObject({ code: 'vault_locked' });
    await expect(service.recent({ limit: 5 })).rejects.toMatchObject({ code: 'vault_locked' });
  });

  it('a record that does not authenticate fails the list with decrypt_failed: reported, not shown in part', async () => {
    const db = new VaultDb(name);
    const last = (await db.items.orderBy(':id').last())!;
    const envelope = Uint8Array.from(last.envelope);
    envelope[envelope.length - 1]! ^= 0x01;
    await db.items.update(last.id, { envelope, updatedAt: now + 10_000 });
    await relock();
    await expect(service.list()).rejects.toMatchObject({ code: 'decrypt_failed' });
    // The newest item is the tampered one: the first screen fails too rather than skip it.
    await expect(service.recent({ limit: 10 })).rejects.toMatchObject({ code: 'decrypt_failed' });
    // Asked again, it is checked again (a failed pass is not kept).
    await expect(service.search({ query: 'Item' })).rejects.toMatchObject({ code: 'decrypt_failed' });
    await db.items.update(last.id, { envelope: last.envelope });
    service.invalidateCache();
    expect(await service.list()).toHaveLength(COUNT);
    db.close();
  });

  it('the list pass authenticates each record on the WebAssembly opener too: a record moved under another id fails', async () => {
    // VaultService installs libsodium's opener at unlock (crypto/aead-wasm.ts); count the boxes it answers.
    expect(await loadWasmAead()).toBe(true);
    const wasm = await createWasmAeadOpener();
    let refused = 0;
    let opened = 0;
    setAeadOpener((...args) => {
      const answer = wasm(...args);
      if (answer === false) refused++;
      if (answer === true) opened++;
      return answer;
    });
    try {
      const db = new VaultDb(name);
      const [a, b] = await db.items.orderBy(':id').limit(2).toArray();
      // b's untouched envelope stored as a: its tag is valid, but for b's id (associated data), not a's.
      await db.items.update(a!.id, { envelope: b!.envelope });
      await relock();
      await expect(service.list()).rejects.toMatchObject({ code: 'decrypt_failed' });
      expect(refused).toBe(1);
      await db.items.update(a!.id, { envelope: a!.envelope });
      service.invalidateCache();
      opened = 0;
      expect(await service.list()).toHaveLength(COUNT);
      expect(opened).toBe(COUNT);
      db.close();
    } finally {
      setAeadOpener(wasm); // as loadWasmAead left it, uncounted
    }
  });
});
