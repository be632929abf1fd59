import type { VaultService } from '../../vault/vault-service';
import { CONFIG_ASSIGNMENTS_TAG } from '../../storage/vault-tags';
import { loadRecordList, parseRecordList, RecordListStore, type RecordListSpec } from '../vault/vault-record-list';

/**
 * Which agent config is assigned to which claimed agent, and the revision last delivered. Kept in the vault as one
 * secret item tagged `clawkeep:config-assignments` (encrypted like every item), so nothing about them sits in
 * plaintext storage and they only act while the vault is unlocked.
 */
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

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

function parseAssignment(v: unknown): ConfigAssignment | null {
  const a = v as Partial<ConfigAssignment> | null;
  if (
    !a ||
    typeof a !== 'object' ||
    !isText(a.hub) ||
    !isText(a.installation_id) ||
    !isText(a.agent_id) ||
    !isText(a.config_id)
  )
    return null;
  if (typeof a.revision !== 'number' || typeof a.delivered_at !== 'number') return null;
  return {
    hub: a.hub,
    installation_id: a.installation_id,
    agent_id: a.agent_id,
    config_id: a.config_id,
    revision: a.revision,
    delivered_at: a.delivered_at,
  };
}

export const CONFIG_ASSIGNMENTS: RecordListSpec<ConfigAssignment> = {
  tag: CONFIG_ASSIGNMENTS_TAG,
  name: ITEM_NAME,
  notes: ITEM_NOTES,
  field: 'assignments',
  parse: parseAssignment,
};

/** A damaged entry is dropped: it then delivers nothing. */
export const parseConfigAssignments = (text: string): ConfigAssignment[] => parseRecordList(CONFIG_ASSIGNMENTS, text);

/** The stored assignments, read without waiting for a delivery in progress (for views). */
export const loadConfigAssignments = (service: VaultService): Promise<ConfigAssignment[]> =>
  loadRecordList(service, CONFIG_ASSIGNMENTS);

/**
 * One delivery at a time: an edit, an assign and an unassign may race (items-changed fires while a person clicks),
 * and each does read list → talk to the hub → write list. Serialising them keeps revisions in order at the hub and
 * stops the last writer from dropping another's change.
 */
export class ConfigAssignmentStore extends RecordListStore<ConfigAssignment> {
  constructor() {
    super(CONFIG_ASSIGNMENTS);
  }

  run<T>(
    service: VaultService,
    fn: (list: ConfigAssignment[]) => Promise<{ next: ConfigAssignment[] | null; value: T }>,
  ): Promise<T> {
    return this.update(service, fn);
  }
}
