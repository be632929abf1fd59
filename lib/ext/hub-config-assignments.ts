import type { VaultService } from '../vault/vault-service';
import type { VaultItem } from '../vault/types';

/**
 * Which agent config is assigned to which claimed agent, and the revision last delivered. Kept in the vault as one
 * secret item tagged `clawkeep:config-assignments` (encrypted like every item), so nothing about them sits in
 * plaintext storage and they only act while the vault is unlocked.
 */
export const CONFIG_ASSIGNMENTS_TAG = 'clawkeep:config-assignments';
const ITEM_NAME = 'Agent config assignments (Clawkeep)';
const ITEM_NOTES = 'Agent configs delivered to your agents. Change them in the Agents tab.';

export interface ConfigAssignment {
  hub: string;
  installation_id: string;
  agent_id: string;
  config_id: string;
  /** The vault item revision last sealed and accepted by the hub. */
  revision: number;
  delivered_at: number;
}

interface Doc {
  version: 1;
  assignments: ConfigAssignment[];
}

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

function parseAssignment(v: unknown): ConfigAssignment | null {
  const a = v as Partial<ConfigAssignment> | null;
  if (!a || typeof a !== 'object' || !isText(a.hub) || !isText(a.installation_id) || !isText(a.agent_id) || !isText(a.config_id)) return null;
  if (typeof a.revision !== 'number' || typeof a.delivered_at !== 'number') return null;
  return { hub: a.hub, installation_id: a.installation_id, agent_id: a.agent_id, config_id: a.config_id, revision: a.revision, delivered_at: a.delivered_at };
}

/** A damaged entry is dropped: it then delivers nothing. */
export function parseConfigAssignments(text: string): ConfigAssignment[] {
  let doc: Partial<Doc> | null;
  try {
    doc = JSON.parse(text) as Partial<Doc> | null;
  } catch {
    return [];
  }
  if (!doc || doc.version !== 1 || !Array.isArray(doc.assignments)) return [];
  return doc.assignments.map(parseAssignment).filter((a): a is ConfigAssignment => a !== null);
}

async function storedItem(service: VaultService): Promise<VaultItem | null> {
  const summary = (await service.list()).find((s) => s.kind === 'secret' && s.tags.includes(CONFIG_ASSIGNMENTS_TAG));
  return summary ? service.get({ id: summary.id }) : null;
}

/** The stored assignments, read without waiting for a delivery in progress (for views). */
export async function loadConfigAssignments(service: VaultService): Promise<ConfigAssignment[]> {
  const item = await storedItem(service);
  return item && item.kind === 'secret' ? parseConfigAssignments(item.fields.value) : [];
}

async function save(service: VaultService, assignments: ConfigAssignment[]): Promise<void> {
  const item = await storedItem(service);
  if (assignments.length === 0) {
    if (item) await service.remove({ id: item.id });
    return;
  }
  const doc: Doc = { version: 1, assignments };
  await service.save({
    draft: {
      ...(item ? { id: item.id } : {}),
      kind: 'secret',
      fields: { name: ITEM_NAME, value: JSON.stringify(doc), notes: ITEM_NOTES, tags: [CONFIG_ASSIGNMENTS_TAG], expiresAt: null },
    },
  });
}

/**
 * One delivery at a time: an edit, an assign and an unassign may race (items-changed fires while a person clicks),
 * and each does read list → talk to the hub → write list. Serialising them keeps revisions in order at the hub and
 * stops the last writer from dropping another's change.
 */
export class ConfigAssignmentStore {
  private queue: Promise<unknown> = Promise.resolve();

  run<T>(service: VaultService, fn: (list: ConfigAssignment[]) => Promise<{ next: ConfigAssignment[] | null; value: T }>): Promise<T> {
    const task = this.queue.then(async () => {
      const { next, value } = await fn(await loadConfigAssignments(service));
      if (next) await save(service, next);
      return value;
    });
    this.queue = task.catch(() => {});
    return task;
  }
}
