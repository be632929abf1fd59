/**
 * The storage port the hub's routes use. Two adapters implement it with the same repositories (hub/store/sql/):
 * SQLite (`sqlite.ts`, the embedded default for one machine) and PostgreSQL (`postgres.ts`, several hub processes
 * on one database). test/unit/hub/store-conformance.ts runs every behaviour below against both.
 *
 * Every call is asynchronous (a PostgreSQL round trip is). A route does its checks, its mutation and its audit row
 * inside one `await store.transaction(async () => …)`; the adapters make that transaction exclusive (see
 * `transaction`), so awaiting inside it cannot let another request's statements interleave.
 *
 * What is stored: public keys, SHA-256 hashes, ciphertext, canonical payload text and signed statements. Never a
 * plaintext secret, never a password, never a one-time code in the clear (only its hash).
 *
 * Conventions: times are integer milliseconds since the Unix epoch (from the injected clock); keys and hashes are
 * raw bytes (32 bytes each, the schema checks the length); JSON columns take and return parsed JSON values.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A human: one device key (Ed25519 public key from the extension). */
export interface Account {
  accountId: string;
  devicePublicKey: Uint8Array;
  createdAt: number;
}

/** A one-time enrollment code, stored as SHA-256 of its normalized text. */
export interface EnrollmentCode {
  codeHash: Uint8Array;
  createdAt: number;
  usedAt: number | null;
  /** The account that used it (set together with usedAt). */
  accountId: string | null;
}

/** A registered agent (RFC 8628-shaped registration; the claim code is the "user code"). */
export interface Agent {
  agentId: string;
  name: string;
  /** Ed25519 public key: every agent request is signed with it. */
  signingKey: Uint8Array;
  /** X25519 public key: secrets released to the agent are sealed to it. */
  boxKey: Uint8Array;
  /** The manifest exactly as registered (canonical text), kept so a later change is visible. */
  manifestSnapshot: string;
  manifestSha256: Uint8Array;
  requestedScopes: JsonValue;
  /** SHA-256 of the claim code; null once claimed. */
  claimCodeHash: Uint8Array | null;
  claimExpiresAt: number | null;
  createdAt: number;
  /** The CKKB statement (with its signature) in which signingKey vouches for boxKey; null for rows from before it. */
  keyBinding: JsonValue | null;
}

export type InstallationStatus = 'active' | 'revoked' | 'locked';

/** An agent claimed by an account, with what the human granted. */
export interface Installation {
  installationId: string;
  agentId: string;
  accountId: string;
  grantedScopes: JsonValue;
  policy: JsonValue;
  /** The human's signed claim statement, verbatim. */
  claimStatement: JsonValue;
  status: InstallationStatus;
  /** Reset by an approval; a policy may lock the installation after N denials in a row. */
  consecutiveDenials: number;
  lastActivity: number | null;
  createdAt: number;
  /** The CKIR revocation statement (with its signature) the revoking device sent, verbatim; null unless revoked by one. */
  revocationStatement: JsonValue | null;
}

export type IntentStatus = 'pending' | 'approved' | 'denied' | 'expired';

/** An action an agent proposes and a human approves or denies, bound to the exact payload by its hash. */
export interface Intent {
  intentId: string;
  installationId: string;
  kind: string;
  /** Canonical payload text: the bytes the payload_hash was computed over; '' once purged (INTENT_PURGED). */
  payload: string;
  payloadHash: Uint8Array;
  /** Unique per installation: a retried POST finds the intent it already created. */
  idempotencyKey: string;
  status: IntentStatus;
  risk: string;
  createdAt: number;
  expiresAt: number;
  /** The agent's per-request nonce (base64url), relayed to the device; null on intents from before migration 5. */
  agentNonce: string | null;
  decidedAt: number | null;
  /** The human's signed approval or denial, verbatim. */
  decisionStatement: JsonValue | null;
  executedAt: number | null;
}

export type NewAgent = Omit<Agent, 'keyBinding'> & { keyBinding?: JsonValue | null };
export type NewInstallation = Omit<
  Installation,
  'status' | 'consecutiveDenials' | 'lastActivity' | 'revocationStatement'
>;
export type NewIntent = Omit<Intent, 'status' | 'decidedAt' | 'decisionStatement' | 'executedAt'>;

/** The fields of an audit entry that are hashed (see hub/audit/chain.ts). Absent optional fields are null. */
export interface AuditFields {
  seq: number;
  time: number;
  /** Who acted: `hub`, `account:<id>`, `agent:<id>`. */
  actor: string;
  agent: string | null;
  resource: string | null;
  action: string;
  requestId: string | null;
  idempotencyKey: string | null;
}

/** A stored audit row: the fields plus the chain links (lowercase hex SHA-256). */
export interface AuditRow extends AuditFields {
  prevHash: string;
  entryHash: string;
}

// Every method below throws StoreError (hub/store/errors.ts) on failure; `get*`/`find*` return null when absent.

export interface AccountRepo {
  /** @throws StoreError `conflict` (same id or same device key). */
  create(account: Account): Promise<Account>;
  get(accountId: string): Promise<Account | null>;
  getByDeviceKey(devicePublicKey: Uint8Array): Promise<Account | null>;
  count(): Promise<number>;
}

export interface EnrollmentRepo {
  /** @throws StoreError `conflict` when the same hash exists. */
  create(codeHash: Uint8Array, createdAt: number): Promise<void>;
  /**
   * Marks the unused code with this hash as used by `accountId` (one-time: a second use fails).
   * @throws StoreError `not_found` (no such unused code), `invalid_reference` (unknown account).
   */
  consume(codeHash: Uint8Array, accountId: string, usedAt: number): Promise<EnrollmentCode>;
  /**
   * Retires (deletes) every unused code, so it can no longer enrol anyone; used codes stay as the record of who
   * enrolled with them. Returns how many codes were retired.
   */
  retireUnused(): Promise<number>;
  /** All codes ever issued, used or not: an empty table means a fresh hub. */
  count(): Promise<number>;
}

export interface AgentRepo {
  /** @throws StoreError `conflict` (same id, same signing key, same claim code hash). */
  create(agent: NewAgent): Promise<Agent>;
  get(agentId: string): Promise<Agent | null>;
  getBySigningKey(signingKey: Uint8Array): Promise<Agent | null>;
  /** The agent whose claim code hashes to `claimCodeHash` and has not expired at `now`. */
  findByClaimCode(claimCodeHash: Uint8Array, now: number): Promise<Agent | null>;
  /** Makes the claim code unusable (after a claim). @throws StoreError `not_found`. */
  clearClaimCode(agentId: string): Promise<void>;
  /**
   * Deletes at most `limit` registrations that were never claimed and whose claim code expired at or before `now`
   * (claimed agents have no claim code and are never touched). Returns the deleted agent ids.
   */
  purgeUnclaimed(now: number, limit: number): Promise<string[]>;
}

export interface InstallationRepo {
  /** Creates an `active` installation. @throws StoreError `conflict`, `invalid_reference`. */
  create(installation: NewInstallation): Promise<Installation>;
  get(installationId: string): Promise<Installation | null>;
  listByAccount(accountId: string): Promise<Installation[]>;
  listByAgent(agentId: string): Promise<Installation[]>;
  /** @throws StoreError `not_found`. */
  setStatus(installationId: string, status: InstallationStatus, at: number): Promise<Installation>;
  /** Sets status `revoked` with the device's signed CKIR. @throws StoreError `not_found`. */
  revoke(installationId: string, at: number, revocationStatement: JsonValue): Promise<Installation>;
  /** Replaces the grant. @throws StoreError `not_found`. */
  updateGrant(
    installationId: string,
    grant: { grantedScopes: JsonValue; policy: JsonValue },
    at: number,
  ): Promise<Installation>;
  /**
   * Counts a human decision: an approval resets `consecutiveDenials`, a denial adds one. Returns the updated row so
   * the caller can apply its lock policy in the same transaction. @throws StoreError `not_found`.
   */
  recordDecision(installationId: string, approved: boolean, at: number): Promise<Installation>;
  /** Sets last_activity. @throws StoreError `not_found`. */
  touch(installationId: string, at: number): Promise<void>;
}

export interface IntentRepo {
  /**
   * Creates a `pending` intent. A repeated idempotency key for the same installation is a `conflict`: look it up
   * first with getByIdempotencyKey inside the same transaction.
   * @throws StoreError `conflict`, `invalid_reference`.
   */
  create(intent: NewIntent): Promise<Intent>;
  get(intentId: string): Promise<Intent | null>;
  getByIdempotencyKey(installationId: string, idempotencyKey: string): Promise<Intent | null>;
  /**
   * How many intents of one installation were created at or after `since`, and the creation time of the oldest of
   * them (null when none): the daily limit's rolling window.
   */
  countCreatedSince(installationId: string, since: number): Promise<{ count: number; oldest: number | null }>;
  /**
   * Pending, unexpired intents of all installations of an account, oldest first (by created_at, then intent_id).
   * With `page`: at most `page.limit` of them, and only those after `page.after` in that order (keyset pages for
   * GET /v1/intents?status=pending and the event streams' snapshots).
   */
  listPendingForAccount(
    accountId: string,
    now: number,
    page?: { after?: { createdAt: number; intentId: string }; limit: number },
  ): Promise<Intent[]>;
  /**
   * Records the human's decision, only while the intent is pending and unexpired at `decidedAt`.
   * @throws StoreError `not_found`, `invalid_state` (already decided, or expired).
   */
  decide(
    intentId: string,
    decision: { status: 'approved' | 'denied'; decidedAt: number; decisionStatement: JsonValue },
  ): Promise<Intent>;
  /** Marks every pending intent whose `expires_at <= now` as `expired`; returns their ids. */
  expireDue(now: number): Promise<string[]>;
  /**
   * Whether expireDue(now) would mark anything: one indexed read, no transaction. Lets the lazy sweep before every
   * intent read skip its transaction (on PostgreSQL: the global lock and four round trips) when nothing is due.
   */
  anyDue(now: number): Promise<boolean>;
  /** Marks every pending intent of one installation `expired` (its installation was revoked); returns their ids. */
  expireForInstallation(installationId: string): Promise<string[]>;
  /** Once only, and only for an approved intent. @throws StoreError `not_found`, `invalid_state`. */
  markExecuted(intentId: string, at: number): Promise<Intent>;
  /**
   * Retention (issue 13 item 13): for at most `limit` intents that are not pending and expired at or before
   * `cutoff`, blanks the payload (to '', which no stored payload can be: they are canonical JSON objects) and
   * deletes their sealed secret. The row keeps id, payload hash, status, times and the signed decision. Never
   * touches a pending intent. Returns the purged ids.
   */
  purgePayloads(cutoff: number, limit: number): Promise<string[]>;
}

export interface SealedSecretRepo {
  /** @throws StoreError `conflict` (one sealed blob per intent), `invalid_reference`. */
  put(intentId: string, sealed: Uint8Array): Promise<void>;
  get(intentId: string): Promise<Uint8Array | null>;
  /** Returns whether a blob was deleted. */
  delete(intentId: string): Promise<boolean>;
  /**
   * Deletes at most `limit` blobs whose intent was executed at or before `executedAtOrBefore` (the end of the
   * execute replay window, hub/execute-replay.ts); blobs of intents not executed are never touched. Returns how many.
   */
  purgeDelivered(executedAtOrBefore: number, limit: number): Promise<number>;
}

/** The newest agent config delivered to one installation: ciphertext and a signed statement only. */
export interface AgentConfigRow {
  installationId: string;
  configId: string;
  revision: number;
  /** The device-signed CKCD statement with its signature, verbatim. */
  statement: JsonValue;
  /** The CKSC blob sealed to the agent's box key. */
  sealed: Uint8Array;
  updatedAt: number;
}

export interface AgentConfigRepo {
  /** Inserts or replaces the installation's config. @throws StoreError `invalid_reference`. */
  put(row: AgentConfigRow): Promise<void>;
  get(installationId: string): Promise<AgentConfigRow | null>;
  /** Returns whether a config was deleted. */
  delete(installationId: string): Promise<boolean>;
}

/** One synced vault item: the device's ciphertext envelope (null = deleted) and the account change seq it came with. */
export interface VaultItemRow {
  accountId: string;
  itemId: string;
  kind: string;
  revision: number;
  envelope: Uint8Array | null;
  seq: number;
  deviceKeyId: string;
  updatedAt: number;
}

export interface VaultRepo {
  /** Every item of the account (for the items hash), or only those with `seq > since`, in seq order. */
  items(accountId: string, since?: number): Promise<VaultItemRow[]>;
  get(accountId: string, itemId: string): Promise<VaultItemRow | null>;
  put(row: VaultItemRow): Promise<void>;
  /** The newest head: its counter and the signed statement as stored. */
  head(accountId: string): Promise<{ counter: number; statement: JsonValue } | null>;
  setHead(accountId: string, counter: number, statement: JsonValue): Promise<void>;
  /** The account's device keys that may sign a head: the enrolling one and every added, not revoked device. */
  deviceKeys(accountId: string): Promise<Uint8Array[]>;
}

/** Replay cache for signed requests: (key id, nonce) is accepted once until it expires. */
export interface NonceRepo {
  /**
   * Remembers the nonce (`fresh`), or answers `fresh: false` when the same (keyId, nonce) is already remembered and
   * unexpired at `now` (a replay). An entry is unexpired while `now < expiresAt`; an expired leftover is replaced.
   * The answer comes once every later `remember` sees the nonce; `durable` settles once it is also committed (on
   * SQLite with the group commit that covers it, which the request's own writes usually join). The caller answers
   * nothing before `durable` resolved; it rejects (StoreError) when that commit failed.
   */
  remember(
    keyId: string,
    nonce: string,
    expiresAt: number,
    now: number,
  ): Promise<{ fresh: boolean; durable: Promise<void> }>;
  /** Deletes entries expired at `now`; returns how many. */
  prune(now: number): Promise<number>;
}

/** Raw access to the audit table; use hub/audit (appendAudit, verifyAudit), which computes the chain. */
export interface AuditRepo {
  /** @throws StoreError `conflict` when seq is taken. */
  insert(row: AuditRow): Promise<void>;
  /** The row with the highest seq, or null when the log is empty. */
  head(): Promise<AuditRow | null>;
  /**
   * The rows that concern one account, newest first: actor `account:<id>`, or resource `account:<id>`, one of its
   * installations (`installation:<id>`), their intents (`intent:<id>`) or their agents (`agent:<id>`). Only rows
   * with `seq < beforeSeq` when given; at most `limit` rows.
   */
  listForAccount(accountId: string, options: { beforeSeq?: number; limit: number }): Promise<AuditRow[]>;
  /** Every row in seq order, read page by page (a long log is never held in memory at once). */
  scan(): AsyncIterable<AuditRow>;
  /**
   * The rows about intents of one account (resource `intent:<id>` of an intent of its installations) with
   * `afterSeq < seq <= throughSeq`, in seq order, at most `limit`: what changed in its intents between two points of
   * the log (event stream diffs and Last-Event-ID resume, hub/routes/intent-changes.ts).
   */
  intentChanges(
    accountId: string,
    afterSeq: number,
    throughSeq: number,
    limit: number,
  ): Promise<{ seq: number; action: string; intentId: string }[]>;
  count(): Promise<number>;
}

/** A device added to an account through pairing (the enrolling device is the account's own key, not listed here). */
export interface AccountDevice {
  deviceKeyId: string;
  accountId: string;
  publicKey: Uint8Array;
  name: string | null;
  /** The CKDA device-add statement signed by a device of the account, verbatim. */
  statement: JsonValue;
  addedAt: number;
  revokedAt: number | null;
  /** The CKDR removal statement (with its signature) the removing device sent, verbatim; null until removed. */
  removalStatement: JsonValue | null;
}

export interface AccountDeviceRepo {
  /** @throws StoreError `conflict` (same key id), `invalid_reference` (unknown account). */
  create(device: Omit<AccountDevice, 'revokedAt' | 'removalStatement'>): Promise<AccountDevice>;
  get(deviceKeyId: string): Promise<AccountDevice | null>;
  listByAccount(accountId: string): Promise<AccountDevice[]>;
  /** Sets revoked_at and the signed CKDR once. @throws StoreError `not_found` (no such device, or already revoked). */
  revoke(deviceKeyId: string, at: number, removalStatement: JsonValue): Promise<AccountDevice>;
}

/**
 * A device's watch credential (issue 15, hub/routes/watch.ts): the SHA-256 of the random bearer token a device
 * registered with a device-signed request. It lets the device's locked extension see which intents wait, nothing else.
 */
export interface WatchToken {
  deviceKeyId: string;
  accountId: string;
  tokenSha256: Uint8Array;
  createdAt: number;
}

export interface WatchTokenRepo {
  /** Sets the device's one watch credential, replacing the one it had. @throws StoreError `conflict` (hash in use). */
  put(token: WatchToken): Promise<void>;
  findByHash(tokenSha256: Uint8Array): Promise<WatchToken | null>;
  /** Deletes the device's watch credential; true if it had one. */
  remove(deviceKeyId: string): Promise<boolean>;
}

export type PairingStatus = 'pending' | 'approved' | 'denied' | 'expired';

/** A new device asking to join an account: its keys, the hash of the code it shows, and once approved the result. */
export interface Pairing {
  pairingId: string;
  /** SHA-256 of the normalized pairing code (lib/protocol/device-pairing.ts pairingCodeHash). */
  codeHash: Uint8Array;
  deviceKey: Uint8Array;
  boxKey: Uint8Array;
  name: string | null;
  accountId: string | null;
  status: PairingStatus;
  statement: JsonValue | null;
  /** CKPV bytes: the vault key sealed to boxKey (ciphertext only). */
  sealed: Uint8Array | null;
  createdAt: number;
  expiresAt: number;
  /** The CKKB statement (with its signature) in which deviceKey vouches for boxKey; null for rows from before it. */
  keyBinding: JsonValue | null;
}

export type NewPairing = Omit<Pairing, 'accountId' | 'status' | 'statement' | 'sealed' | 'keyBinding'> & {
  keyBinding?: JsonValue | null;
};

export interface PairingRepo {
  /** Creates a `pending` pairing. @throws StoreError `conflict` (same id or code hash). */
  create(pairing: NewPairing): Promise<Pairing>;
  get(pairingId: string): Promise<Pairing | null>;
  /** The pending, unexpired pairing whose code hashes to `codeHash`. */
  findPendingByCode(codeHash: Uint8Array, now: number): Promise<Pairing | null>;
  /**
   * Records the approval, only while pending and unexpired at `at`.
   * @throws StoreError `not_found`, `invalid_state`.
   */
  approve(
    pairingId: string,
    approval: { accountId: string; statement: JsonValue; sealed: Uint8Array },
    at: number,
  ): Promise<Pairing>;
  /** Refuses a pending, unexpired pairing (a person said no). @throws StoreError `not_found`, `invalid_state`. */
  deny(pairingId: string, at: number): Promise<Pairing>;
  /** Marks pending pairings whose `expires_at <= now` `expired`; returns how many. */
  expireDue(now: number): Promise<number>;
}

/** Values every hub process on one database must agree on (e.g. the hub identity's public key). */
export interface MetaRepo {
  get(name: string): Promise<string | null>;
  /** Stores `value` unless the name has one already; returns the value stored (the first writer's). */
  setIfAbsent(name: string, value: string): Promise<string>;
}

/**
 * Change notices between hub processes sharing one database (PostgreSQL LISTEN/NOTIFY). The SQLite store has none:
 * one process owns its file. hub/events.ts relays what arrives to this process's subscribers.
 */
export interface ChangeFeed {
  /** Tells every other process; delivered after the caller's transaction committed. */
  publish(notice: ChangeNotice): Promise<void>;
  /** `'resync'` when notices may have been missed (the listening connection was lost and is back). */
  subscribe(listener: (notice: ChangeNotice | 'resync') => void): () => void;
  /** Resolves once notices from other processes are being received (the hub waits for it before serving). */
  ready(): Promise<void>;
}

/**
 * Token buckets in the database (hub/rate-limit.ts SharedRateLimiter): `consume` takes one token from both the burst
 * and the sustained bucket of `bucket` atomically, or says how long to wait; `prune` forgets buckets idle long
 * enough to be full again.
 */
export interface SharedLimits {
  consume(
    bucket: string,
    limit: { burst: number; sustained: number; perSeconds: number },
    now: number,
  ): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }>;
  prune(now: number): Promise<number>;
}

export type ChangeNotice =
  /** Which intents of which accounts changed (hub/events.ts IntentChange; no intent ids = the whole account). */
  | { kind: 'changed'; changes: { accountId: string; intentIds: string[] }[] }
  /** A signing key lost its authority: its streams and held polls end everywhere. */
  | { kind: 'close_holder'; key: string };

export interface HubStore {
  readonly accounts: AccountRepo;
  readonly enrollment: EnrollmentRepo;
  readonly agents: AgentRepo;
  readonly installations: InstallationRepo;
  readonly intents: IntentRepo;
  readonly sealedSecrets: SealedSecretRepo;
  readonly agentConfigs: AgentConfigRepo;
  readonly vault: VaultRepo;
  readonly nonces: NonceRepo;
  readonly audit: AuditRepo;
  readonly devices: AccountDeviceRepo;
  readonly pairings: PairingRepo;
  readonly watchTokens: WatchTokenRepo;
  readonly meta: MetaRepo;
  /** Present when several processes share the database; absent for SQLite. */
  readonly changeFeed?: ChangeFeed;
  /** Rate-limit buckets shared by every process on the database (PostgreSQL); absent for SQLite (in memory). */
  readonly sharedLimits?: SharedLimits;
  /** Which engine, for logs and the health route. */
  readonly engine: 'sqlite' | 'postgres';
  /**
   * Runs `fn` in one transaction: all its writes commit together or none do (the error is rethrown). Nested calls
   * become savepoints. Transactions are serializable across every process sharing the database (SQLite: BEGIN
   * IMMEDIATE; PostgreSQL: one advisory transaction lock), so a read-check-write inside `fn` cannot interleave with
   * another's. Every repository call made while `fn` runs (found through the async context, not passed in) joins
   * the transaction; calls from outside wait for it to end.
   *
   * `join: true`: inside a transaction, `fn` simply runs as part of it, without a savepoint: for a step whose failure
   * fails the caller's transaction too (an audit append). A savepoint costs two statements, on PostgreSQL two round
   * trips while the global lock is held.
   *
   * `newWork: true`: this transaction starts new work (an intent's creation). Where transactions of several
   * processes queue for one lock (PostgreSQL), those finishing work in progress (a decision, an execute) go first.
   */
  transaction<T>(fn: () => Promise<T>, options?: { join?: boolean; newWork?: boolean }): Promise<T>;
  /** The schema version (the last migration applied). */
  schemaVersion(): Promise<number>;
  /**
   * After deleting content (retention): SQLite moves the write-ahead log into the database file and truncates it, so
   * the deleted bytes (zeroed by secure_delete) leave no older copy in the WAL. Best effort: a busy reader may delay
   * it. PostgreSQL reclaims dead rows itself (autovacuum); nothing to do there.
   */
  compact(): Promise<void>;
  close(): Promise<void>;
}
