import type { Intent } from '../../protocol/wire';
import type { VaultService } from '../../vault/vault-service';
import { HubClientError } from '../../hub-client/errors';
import { STANDING_APPROVALS_TAG } from '../../storage/vault-tags';
import { loadRecordList, parseRecordList, RecordListStore, type RecordListSpec } from '../vault/vault-record-list';
import { HTTP_RULE_KINDS, isHttpRule, parseHttpRule, type HttpRule } from './http-rules';

/**
 * Standing approvals: "always approve this exact request from this agent". A standing approval names one hub, one
 * installation (so one agent key claimed by this device) and one payload hash; only `secret.request` intents may
 * have one, so it means "release the secret named X to this agent, for this fixed reason, until I revoke it".
 * A config reload of an OpenClaw gateway asks with the same payload every time (its reason is a fixed function of
 * gateway, provider and id), so it is answered without a prompt.
 *
 * They live in the vault as one secret item tagged `clawkeep:standing-approvals` (encrypted like every item; nothing
 * about them in plaintext storage), so they are only usable while the vault is unlocked: a locked vault answers
 * nothing, and the request waits for the unlock like any other.
 *
 * The same list holds the standing rules for `http.request` (http-rules.ts), which match a method, host, path prefix
 * and secrets within a daily limit instead of one payload.
 */
const ITEM_NAME = 'Standing approvals (Clawkeep)';
const ITEM_NOTES = 'Requests the extension approves for you without asking. Revoke them in the Agents tab.';

/** Kinds a standing approval may cover: the exact payload of a secret request. */
export const REMEMBERABLE_KINDS: readonly string[] = ['secret.request'];

/** Whether "Don't ask again" exists for `kind`: an exact-payload approval, or a rule for an HTTP request. */
export const canRemember = (kind: string): boolean =>
  REMEMBERABLE_KINDS.includes(kind) || HTTP_RULE_KINDS.includes(kind);

/** One entry of the stored list: an exact-payload approval or an http.request rule (told apart by `rule`). */
export type StandingRecord = StandingApproval | HttpRule;

export interface StandingApproval {
  id: string;
  hub: string;
  installation_id: string;
  agent_id: string;
  kind: string;
  payload_hash: string;
  /** What the person saw when they chose "Don't ask again" (the secret's name and the agent's reason). */
  item: string;
  reason: string;
  created_at: number;
  last_used_at: number | null;
  uses: number;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

function parseApproval(v: unknown): StandingApproval | null {
  const a = v as Partial<StandingApproval> | null;
  if (!a || typeof a !== 'object' || 'rule' in a) return null;
  if (
    !isString(a.id) ||
    !isString(a.hub) ||
    !isString(a.installation_id) ||
    !isString(a.agent_id) ||
    !isString(a.payload_hash)
  )
    return null;
  if (
    !isString(a.kind) ||
    !REMEMBERABLE_KINDS.includes(a.kind) ||
    typeof a.item !== 'string' ||
    typeof a.reason !== 'string'
  )
    return null;
  if (typeof a.created_at !== 'number') return null;
  return {
    id: a.id,
    hub: a.hub,
    installation_id: a.installation_id,
    agent_id: a.agent_id,
    kind: a.kind,
    payload_hash: a.payload_hash,
    item: a.item,
    reason: a.reason,
    created_at: a.created_at,
    last_used_at: typeof a.last_used_at === 'number' ? a.last_used_at : null,
    uses: typeof a.uses === 'number' && a.uses >= 0 ? a.uses : 0,
  };
}

/**
 * An entry without `rule` is an exact-payload approval, stored as it always was; with `rule`, the format it names
 * (only http-rules.ts's today). The list's own version stays 1, so a Clawkeep from before rules still reads its
 * approvals from a list that holds rules too (it drops the rules, as it drops any entry it cannot read).
 */
function parseRecord(v: unknown): StandingRecord | null {
  if (v && typeof v === 'object' && 'rule' in v) return parseHttpRule(v);
  return parseApproval(v);
}

export const STANDING_APPROVALS: RecordListSpec<StandingRecord> = {
  tag: STANDING_APPROVALS_TAG,
  name: ITEM_NAME,
  notes: ITEM_NOTES,
  field: 'approvals',
  parse: parseRecord,
};

/** Reads the stored doc; a damaged entry is dropped (it then simply approves nothing). */
export const parseStandingApprovals = (text: string): StandingRecord[] => parseRecordList(STANDING_APPROVALS, text);

export const loadStandingApprovals = (service: VaultService): Promise<StandingRecord[]> =>
  loadRecordList(service, STANDING_APPROVALS);

/** Standing approvals and rules change one at a time (see RecordListStore). */
export class StandingApprovalStore extends RecordListStore<StandingRecord> {
  constructor() {
    super(STANDING_APPROVALS);
  }
}

/** Whether the exact-payload approval `a` covers `intent` (an http.request rule never does: see matchesHttpRule). */
export function matchesIntent(a: StandingRecord, hub: string, intent: Intent): a is StandingApproval {
  return (
    !isHttpRule(a) &&
    a.hub === hub &&
    a.installation_id === intent.installation_id &&
    a.agent_id === intent.agent_id &&
    a.kind === intent.kind &&
    a.payload_hash === intent.payload_hash
  );
}

/** The new standing approval for a request the person just approved with "Don't ask again". */
export function standingApprovalFor(hub: string, intent: Intent, now: number, id: string): StandingApproval {
  if (!REMEMBERABLE_KINDS.includes(intent.kind)) {
    throw new HubClientError('protocol_invalid', 'Only secret requests can be approved always.');
  }
  const payload = intent.payload as { item?: unknown; reason?: unknown };
  return {
    id,
    hub,
    installation_id: intent.installation_id,
    agent_id: intent.agent_id,
    kind: intent.kind,
    payload_hash: intent.payload_hash,
    item: typeof payload.item === 'string' ? payload.item : '',
    reason: typeof payload.reason === 'string' ? payload.reason : '',
    created_at: now,
    last_used_at: null,
    uses: 0,
  };
}

/** Adds `a` unless the same hub/installation/payload is already covered. */
export function withApproval(list: StandingRecord[], a: StandingApproval): StandingRecord[] {
  const exists = list.some(
    (x) =>
      !isHttpRule(x) && x.hub === a.hub && x.installation_id === a.installation_id && x.payload_hash === a.payload_hash,
  );
  return exists ? list : [...list, a];
}
