import type { VaultService } from '../../vault/vault-service';
import type { VaultItem } from '../../vault/types';

/**
 * A list of Clawkeep's own records (standing approvals, config assignments…) kept as one secret item of the vault,
 * tagged so it is found again: encrypted like every item (nothing in plaintext storage), synced like every item,
 * usable only while the vault is unlocked, and never released to an agent (hub-decision.ts skips `clawkeep:` tags).
 * The item's value is `{"version": 1, <field>: [...]}`; entries that do not parse are dropped, so a damaged entry
 * simply does nothing.
 */
export interface RecordListSpec<T> {
  tag: string;
  /** The item's name and notes, as the person sees it in the Items tab. */
  name: string;
  notes: string;
  /** The array's field in the stored JSON. */
  field: string;
  parse(value: unknown): T | null;
}

export function parseRecordList<T>(spec: RecordListSpec<T>, text: string): T[] {
  let doc: Record<string, unknown> | null;
  try {
    doc = JSON.parse(text) as Record<string, unknown> | null;
  } catch {
    return [];
  }
  const list = doc?.[spec.field];
  if (!doc || doc.version !== 1 || !Array.isArray(list)) return [];
  return list.map((v) => spec.parse(v)).filter((v): v is T => v !== null);
}

async function storedItem<T>(service: VaultService, spec: RecordListSpec<T>): Promise<VaultItem | null> {
  const summary = (await service.listInBackground()).find((s) => s.kind === 'secret' && s.tags.includes(spec.tag));
  return summary ? service.get({ id: summary.id }) : null;
}

export async function loadRecordList<T>(service: VaultService, spec: RecordListSpec<T>): Promise<T[]> {
  const item = await storedItem(service, spec);
  return item && item.kind === 'secret' ? parseRecordList(spec, item.fields.value) : [];
}

/** An empty list removes the item. */
async function saveRecordList<T>(service: VaultService, spec: RecordListSpec<T>, list: T[]): Promise<void> {
  const item = await storedItem(service, spec);
  if (list.length === 0) {
    if (item) await service.remove({ id: item.id });
    return;
  }
  await service.save({
    draft: {
      ...(item ? { id: item.id } : {}),
      kind: 'secret',
      fields: {
        name: spec.name,
        value: JSON.stringify({ version: 1, [spec.field]: list }),
        notes: spec.notes,
        tags: [spec.tag],
        expiresAt: null,
        allowedHosts: [],
      },
    },
  });
}

/**
 * One read → change → write at a time: the background may update a list (an automatic approval counting a use, a
 * re-delivery) while the person changes it, and the last writer must not drop the other's change.
 */
export class RecordListStore<T> {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly spec: RecordListSpec<T>) {}

  update<R>(
    service: VaultService,
    change: (list: T[]) => Promise<{ next: T[] | null; value: R }> | { next: T[] | null; value: R },
  ): Promise<R> {
    const task = this.queue.then(async () => {
      const { next, value } = await change(await loadRecordList(service, this.spec));
      if (next) await saveRecordList(service, this.spec, next);
      return value;
    });
    this.queue = task.catch(() => {});
    return task;
  }
}
