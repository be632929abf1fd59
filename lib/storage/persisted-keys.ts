import * as v from 'valibot';
import type { SignedAuditHead } from '../protocol/audit-head';
import { IdSchema, IntentSchema, OriginSchema } from '../protocol/wire';
import type { PendingApproval } from '../openclaw/approvals';
import { defineStoredItem, type StoredItem } from './stored-item';

/**
 * Every key Clawkeep persists outside the vault's own database, every IndexedDB database it opens and every alarm
 * it schedules: declared here once, each with its owner (issue 14 step 4). Nothing else in lib/, components/ or
 * entrypoints/ spells a storage key; test/unit/storage/registry-complete.test.ts fails the build when something
 * does.
 *
 * To change a stored shape: raise `version`, change `schema` to the new shape (with `v: <new version>`), and add
 * `migrations[old]` turning the old value into the new one. Never edit a shipped version's meaning: users have it
 * stored. What is secret never goes here: chrome.storage and localStorage are plaintext (vault data lives in the
 * vault, lib/storage/vault-tags.ts).
 */

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const stringRecord = <T extends v.GenericSchema>(value: T) => v.record(v.string(), value);

// ---- chrome.storage.local (kept until the extension is removed; public data only) ------------------------------

/** The hub settings of this browser (HubSettings in lib/ext/hub/hub-core.ts): not secret. Version 1 carries `v: 1`. */
export const HubSettingsSchema = v.looseObject({
  v: v.literal(1),
  hubUrl: v.string(),
  enrolled: stringRecord(v.array(v.string())),
  prefs: v.optional(v.looseObject({ approvalWindow: v.optional(v.boolean()), notifications: v.optional(v.boolean()) })),
  accounts: v.optional(stringRecord(v.string())),
  hubKeys: v.optional(stringRecord(v.string())),
  // The signed head is checked again (signature, hub key) by hub-audit.ts wherever it is compared.
  auditHeads: v.optional(
    stringRecord(
      v.custom<SignedAuditHead>(
        (x) => isObject(x) && isObject(x.statement) && typeof x.signature === 'string',
        'a signed audit head',
      ),
    ),
  ),
});

export const HUB_SETTINGS = defineStoredItem({
  area: 'local',
  key: 'clawkeep.hub.settings',
  holds: 'hub settings',
  owner: 'lib/ext/hub/hub-core.ts',
  version: 1,
  schema: HubSettingsSchema,
});

/** Installations revoked on this device (hub-revocations.ts): appended to, never shrunk. Version 1: a bare array. */
export const HUB_REVOKED = defineStoredItem({
  area: 'local',
  key: 'clawkeep.hub.revoked-installations',
  holds: 'revoked installations',
  owner: 'lib/ext/hub/hub-revocations.ts',
  version: 1,
  schema: v.array(v.object({ hub: OriginSchema, installation_id: IdSchema, revoked_at: v.number() })),
});

/**
 * The locked watcher's credential per hub (approvals/hub-watch.ts, issue 15): the random watch token this device
 * registered with a device-signed PUT /v1/watch, and that device's key id. Plaintext on purpose: it must work while
 * the vault is locked, and all it opens is GET /v1/watch(/events), which answers pending intent ids and nothing more
 * (docs/threat-model.md "Locked watcher"). Never a key that signs, decides or decrypts.
 */
export const HUB_WATCH = defineStoredItem({
  area: 'local',
  key: 'clawkeep.hub.watch',
  holds: 'watch credentials',
  owner: 'lib/ext/approvals/hub-watch.ts',
  version: 1,
  schema: v.array(v.object({ hub: OriginSchema, device_key_id: IdSchema, token: v.string() })),
});

/**
 * Installation records in plaintext, as versions before issue 13 kept them. Only read to learn that a migration is
 * due (hub-installations.ts migrateLegacyInstallations re-learns them from signed claims, never copies them), then
 * removed. Nothing writes it.
 */
export const HUB_LEGACY_INSTALLATIONS = defineStoredItem({
  area: 'local',
  key: 'clawkeep.hub.installations',
  holds: 'legacy installation records',
  owner: 'lib/ext/hub/hub-installations.ts',
  version: 1,
  schema: v.unknown(),
  retired: true,
});

// ---- chrome.storage.session (memory only, gone with the browser; trusted contexts) -----------------------------

/** The unlocked vault key, so an MV3 worker restart keeps the vault unlocked (keyholder.ts). Version 1 carries `v: 1`. */
export const KEYHOLDER_SESSION = defineStoredItem({
  area: 'session',
  key: 'clawkeep.session',
  holds: 'unlock session',
  owner: 'lib/ext/vault/keyholder.ts',
  version: 1,
  schema: v.object({ v: v.literal(1), vaultKey: v.string(), vaultId: v.string(), lastActivity: v.number() }),
});

/** The hub's pending requests, so a restarted worker shows the badge at once (approvals/hub-pending.ts). */
export const HUB_PENDING = defineStoredItem({
  area: 'session',
  key: 'clawkeep.hub.pending',
  holds: 'pending requests',
  owner: 'lib/ext/approvals/hub-pending.ts',
  version: 1,
  schema: v.object({ hub: v.string(), intents: v.array(IntentSchema) }),
});

/**
 * What the locked watcher last heard (approvals/hub-watch.ts): the pending count and the ids already announced, so
 * a restarted worker shows the badge at once and opens the approval window only for a request it has not announced.
 */
export const HUB_WATCH_SEEN = defineStoredItem({
  area: 'session',
  key: 'clawkeep.hub.watchSeen',
  holds: 'requests counted while locked',
  owner: 'lib/ext/approvals/hub-watch.ts',
  version: 1,
  schema: v.object({ hub: v.string(), pending: v.number(), ids: v.array(v.string()) }),
});

/** The approval window's id, so a restarted worker focuses it instead of opening a second (hub-approval-window.ts). */
export const APPROVAL_WINDOW = defineStoredItem({
  area: 'session',
  key: 'clawkeep.hub.approvalWindow',
  holds: 'approval window id',
  owner: 'lib/ext/approvals/hub-approval-browser.ts',
  version: 1,
  schema: v.number(),
});

const PendingApprovalSchema = v.custom<PendingApproval>(
  (a) =>
    isObject(a) &&
    (a.kind === 'exec' || a.kind === 'plugin') &&
    typeof a.id === 'string' &&
    typeof a.expiresAtMs === 'number',
  'a pending OpenClaw approval',
);

/** The OpenClaw gateway's pending approvals, so a restarted worker shows the badge before it reconnects. */
export const OPENCLAW_PENDING = defineStoredItem({
  area: 'session',
  key: 'clawkeep.openclaw.pending',
  holds: 'pending OpenClaw approvals',
  owner: 'lib/ext/openclaw/openclaw-service.ts',
  version: 1,
  schema: v.array(PendingApprovalSchema),
});

/** Set while the person chose "Disconnect", so a restarted worker does not reconnect to the gateway. */
export const OPENCLAW_STOPPED = defineStoredItem({
  area: 'session',
  key: 'clawkeep.openclaw.stopped',
  holds: 'OpenClaw disconnect choice',
  owner: 'lib/ext/openclaw/openclaw-service.ts',
  version: 1,
  schema: v.literal(true),
});

// ---- localStorage of the web vault page -------------------------------------------------------------------------

/** Which hub and account the web vault joined (JoinedDevice in lib/web-vault/page-devices.ts); `hubKey` since item 15. */
export const WEB_DEVICE = defineStoredItem({
  area: 'localStorage',
  key: 'clawkeep.web.device',
  holds: 'joined hub and account',
  owner: 'lib/web-vault/page-devices.ts',
  version: 1,
  schema: v.object({ hubUrl: v.string(), accountId: v.string(), hubKey: v.optional(v.string()) }),
});

/** Every key-value item above, for the completeness check and for people reading this file. */
export const PERSISTED_ITEMS: readonly StoredItem<unknown>[] = [
  HUB_SETTINGS,
  HUB_REVOKED,
  HUB_WATCH,
  HUB_LEGACY_INSTALLATIONS,
  KEYHOLDER_SESSION,
  HUB_PENDING,
  HUB_WATCH_SEEN,
  APPROVAL_WINDOW,
  OPENCLAW_PENDING,
  OPENCLAW_STOPPED,
  WEB_DEVICE,
];

// ---- IndexedDB databases (each versions its own records; listed so no database is unowned) ----------------------

export interface IndexedDbDeclaration {
  readonly name: string;
  readonly stores: readonly string[];
  readonly holds: string;
  readonly owner: string;
  /** How its records are versioned and what a record this code cannot read does. */
  readonly versioning: string;
}

/** The vault itself: Dexie schema versions (never edited, only followed by a new version with an upgrade). */
export const VAULT_DB: IndexedDbDeclaration = {
  name: 'clawkeep-vault',
  stores: ['items', 'meta'],
  holds: 'the vault: CKIE item envelopes, the CKVH header, settings, sync state',
  owner: 'lib/vault/db.ts',
  versioning: 'Dexie this.version(n); every blob carries its own format tag and version (lib/format)',
};

/** A speed-up only: every entry is verified again on use (lib/attest/collateral-cache.ts). */
export const COLLATERAL_CACHE_DB: IndexedDbDeclaration = {
  name: 'clawkeep-attest-collateral',
  stores: ['collateral'],
  holds: 'fetched DCAP collateral (public documents)',
  owner: 'lib/attest/collateral-cache.ts',
  versioning: 'entry.version; an entry that does not parse is a cache miss and is refetched (a cache, never trusted)',
};

/** The OpenClaw device identity: a non-extractable CryptoKey, which chrome.storage cannot hold. */
export const OPENCLAW_IDENTITY_DB: IndexedDbDeclaration & { readonly key: string } = {
  name: 'clawkeep-openclaw',
  stores: ['identity'],
  key: 'openclaw-device-identity',
  holds: 'the Ed25519 device identity presented to an OpenClaw gateway',
  owner: 'lib/openclaw/device-identity.ts',
  versioning: 'record.v = 1; a damaged record is replaced by a new identity, which the gateway must approve again',
};

export const INDEXED_DBS: readonly IndexedDbDeclaration[] = [VAULT_DB, COLLATERAL_CACHE_DB, OPENCLAW_IDENTITY_DB];

// ---- alarms (browser.alarms names; a woken worker branches on them) ---------------------------------------------

export const ALARMS = {
  /** Idle auto-lock (keyholder.ts): wakes a stopped worker to lock. */
  autolock: 'clawkeep.autolock',
  /** Hub subscription keep-alive (hub-background.ts): reconnects after a worker restart. */
  hubSync: 'clawkeep.hub.sync',
  /** Vault sync through the hub (sync-background.ts). */
  vaultSync: 'clawkeep.sync',
  /** OpenClaw gateway reconnect (openclaw-background.ts). */
  openclaw: 'clawkeep.openclaw.sync',
} as const;

export type AlarmName = (typeof ALARMS)[keyof typeof ALARMS];
