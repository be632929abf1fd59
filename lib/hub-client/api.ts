import type { Policy } from '../protocol/approval';
import type { Risk } from '../protocol/intent-kinds';
import type { Intent } from '../protocol/wire';
import type { IntentSummary } from './summary';

/**
 * The views extension pages get from the background about the hub (the API itself is declared once in
 * lib/ext/hub/hub-api.ts). The background holds the device key and the vault; pages get views computed on the device.
 */
export type HubConnection = 'off' | 'connecting' | 'stream' | 'polling';

export interface InstallationView {
  installation_id: string;
  agent_id: string | null;
  /** Agent name as the hub (or the claim lookup) gave it: not something the device can verify. */
  name: string;
  /** fingerprint(agent signing key) from a claim this device signed; null when unknown. */
  fingerprint: string | null;
  granted_scopes: string[];
  status: string;
  last_activity: number | null;
  /** True when the keys come from a claim signed by this device (stored locally or verified). */
  verified: boolean;
}

export interface PendingIntentView {
  intent: Intent;
  summary: IntentSummary;
  /** The risk to display: the device's own, raised (never lowered) by what the hub says. */
  risk: Risk;
  agentName: string;
  agentFingerprint: string | null;
  grantedScopes: string[];
  requiredScope: string | null;
  /** Why Approve is not possible (hash mismatch, unknown installation, missing secret…), or null. */
  blocked: string | null;
  /** "Don't ask again" may be offered: a secret request or HTTP request that could be approved now. */
  canAlwaysApprove: boolean;
}

/** One http.request call the device made for an agent (lib/ext/approvals/http-call-log.ts): never a secret or a body. */
export interface HttpCallView {
  intent_id: string;
  installation_id: string;
  agentName: string;
  method: string;
  host: string;
  /** The URL's path, without its query. */
  path: string;
  time: number;
  /** `failed`: no answer came (timeout, too large, network). */
  outcome: 'response' | 'failed';
  status: number | null;
  /** The answer's body size in bytes, as sealed to the agent. */
  bytes: number;
  /** Forms of a secret found in the answer and cut out before it was sealed (empty: none found). */
  redacted: string[];
  /** The body was held back whole: a reflection could not be cut for certain. */
  withheld: boolean;
  /** The server answered with a redirect, which was not followed (an extension's fetch hides its status: 0). */
  redirected: boolean;
  /** Who approved it: the person on a card, or a standing rule. */
  by: 'person' | 'rule';
}

/** A standing approval ("always approve this exact request from this agent"), as the Agents tab lists it. */
export interface StandingApprovalView {
  id: string;
  installation_id: string;
  agentName: string;
  kind: string;
  /** The secret's name. */
  item: string;
  /** The agent's stated reason, part of the exact payload approved. */
  reason: string;
  payload_hash: string;
  created_at: number;
  last_used_at: number | null;
  uses: number;
}

/** A standing rule for http.request calls (lib/ext/approvals/http-rules.ts), as the Agents tab lists it. */
export interface HttpRuleView {
  id: string;
  installation_id: string;
  agentName: string;
  method: string;
  host: string;
  path_prefix: string;
  /** The secrets' names (never values). */
  secrets: string[];
  /** The scope in words, computed on the device: "GET https://api.example.com/v1/…" … */
  call: string;
  /** … "using your “Token” in the Authorization header" (or "without a secret"). */
  using: string;
  limit_per_day: number;
  /** Calls answered in the rolling 24 hours before the view was made. */
  usedToday: number;
  created_at: number;
  last_used_at: number | null;
  uses: number;
}

/** An agent config in the vault that can be assigned to an agent (names only, never values). */
export interface AgentConfigOption {
  id: string;
  name: string;
  revision: number;
}

/** An agent config delivered to a claimed agent, as the Agents tab lists it. */
export interface ConfigAssignmentView {
  installation_id: string;
  agentName: string;
  config_id: string;
  /** The config item's name; null when the item no longer exists (it is unassigned at the next sync). */
  configName: string | null;
  /** The revision the hub accepted last. */
  revision: number;
  delivered_at: number;
  /** The vault item was edited since: a new revision is being delivered. */
  outdated: boolean;
}

/** Not secret, stored with the hub settings in storage.local. */
export interface HubPrefs {
  /** Open (or focus) the approval window when a new request arrives and no Clawkeep popup is open. Default on. */
  approvalWindow: boolean;
  /** Also show a system notification (agent name and kind only). Default off. */
  notifications: boolean;
}

export const DEFAULT_HUB_PREFS: HubPrefs = { approvalWindow: true, notifications: false };

export interface HubState {
  unlocked: boolean;
  hubUrl: string;
  enrolled: boolean;
  /** fingerprint(device public key), only while unlocked. */
  deviceFingerprint: string | null;
  /**
   * fingerprint(hub identity key) pinned for hubUrl at enrolment or join (issue 13 items 8, 15), formatted like the
   * `Hub identity: …` line `clawkeep hub` prints, so the person can compare them; null while none is pinned.
   */
  hubFingerprint: string | null;
  connection: HubConnection;
  lastError: string | null;
  pending: PendingIntentView[];
  /**
   * How many requests wait: while unlocked the length of `pending`; while locked what the locked watcher heard from
   * the hub (lib/ext/approvals/hub-watch.ts), ids only, so nothing about them can be shown before unlocking.
   */
  waiting: number;
  installations: InstallationView[];
  /** Standing approvals on this hub (only while unlocked: they live in the vault). */
  standingApprovals: StandingApprovalView[];
  /** The newest http.request calls made for agents on this hub (only while unlocked: the log lives in the vault). */
  httpCalls: HttpCallView[];
  /** Standing rules for HTTP requests on this hub (only while unlocked: they live in the vault too). */
  httpRules: HttpRuleView[];
  /** The vault's agent configs and which agent each is delivered to (only while unlocked: they live in the vault). */
  agentConfigs: AgentConfigOption[];
  configAssignments: ConfigAssignmentView[];
  prefs: HubPrefs;
}

/** A new device waiting to be paired, as the approving device shows it (fingerprint recomputed from its key). */
export interface DevicePreview {
  pairing_id: string;
  fingerprint: string;
  name: string | null;
  expires_at: number;
  /**
   * Null when the new device's key binding verified (its device key signed the box key the vault key would be sealed
   * to); else what to tell the person, e.g. "The hub changed this device's key — do not approve." Approve is refused.
   */
  keyProblem: string | null;
}

/** A device of the account, verified against the chain of signed device-add statements. */
export interface DeviceInfo {
  deviceKeyId: string;
  fingerprint: string;
  name: string | null;
  addedAt: number;
  /** When a device of the account removed it, from its signed CKDR; null if not (verifiably) removed. */
  revokedAt: number | null;
  /** The hub says it was removed but shows no removal a device of this account signed: not trusted (issue 13 item 9). */
  removalUnverified: boolean;
  isThisDevice: boolean;
}

export interface ClaimPreview {
  claim_code: string;
  agent_id: string;
  name: string;
  /** Recomputed on the device from the signing key. */
  fingerprint: string;
  manifestMarkdown: string;
  /** SHA-256 of the markdown, recomputed on the device. */
  manifestSha256: string;
  requested_scopes: string[];
  policy: Policy;
  expires_at: number;
  /**
   * Null when the agent's key binding verified (its signing key, the fingerprint above, signed the box key secrets
   * would be sealed to, for this hub and name); else what to tell the person, e.g. "The hub changed this agent's key
   * — do not claim." The claim is then refused: nothing is signed or sealed.
   */
  keyProblem: string | null;
}
