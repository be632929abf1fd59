import type Database from 'better-sqlite3';
import { StoreError } from './errors';

/**
 * The hub's schema, as an ordered list of migrations. `PRAGMA user_version` records the last one applied.
 *
 * Rule (the Dexie anchor): a migration that has shipped is never edited, only followed by a new one with the next
 * version. test/unit/hub/migrations.test.ts pins the SHA-256 of every shipped migration to catch an accidental edit.
 *
 * Tables hold public keys, hashes, ciphertext and signed statements only. STRICT tables make SQLite enforce the
 * column types; CHECKs enforce key and hash lengths and status values, so a bug in a route cannot store garbage.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** SQLite DDL. */
  readonly sql: string;
  /**
   * The same schema change for PostgreSQL (hub/store/postgres.ts): same tables, columns, keys, CHECKs and indexes,
   * so the shared repositories (hub/store/sql/) run unchanged. Types map INTEGER → bigint, BLOB → bytea,
   * TEXT → text; `length(blob)` → octet_length; json_valid → ck_json_valid (defined by migration 1).
   */
  readonly postgres: string;
}

const V1_SQL = `
CREATE TABLE accounts (
  account_id        TEXT PRIMARY KEY,
  device_public_key BLOB NOT NULL UNIQUE CHECK (length(device_public_key) = 32),
  created_at        INTEGER NOT NULL
) STRICT;

CREATE TABLE enrollment (
  code_hash  BLOB PRIMARY KEY CHECK (length(code_hash) = 32),
  created_at INTEGER NOT NULL,
  used_at    INTEGER,
  account_id TEXT REFERENCES accounts (account_id),
  CHECK ((used_at IS NULL) = (account_id IS NULL))
) STRICT;

CREATE TABLE agents (
  agent_id          TEXT PRIMARY KEY,
  name              TEXT NOT NULL,
  signing_key       BLOB NOT NULL UNIQUE CHECK (length(signing_key) = 32),
  box_key           BLOB NOT NULL CHECK (length(box_key) = 32),
  manifest_snapshot TEXT NOT NULL,
  manifest_sha256   BLOB NOT NULL CHECK (length(manifest_sha256) = 32),
  requested_scopes  TEXT NOT NULL CHECK (json_valid(requested_scopes)),
  claim_code_hash   BLOB UNIQUE CHECK (claim_code_hash IS NULL OR length(claim_code_hash) = 32),
  claim_expires_at  INTEGER,
  created_at        INTEGER NOT NULL
) STRICT;

CREATE TABLE installations (
  installation_id     TEXT PRIMARY KEY,
  agent_id            TEXT NOT NULL REFERENCES agents (agent_id),
  account_id          TEXT NOT NULL REFERENCES accounts (account_id),
  granted_scopes      TEXT NOT NULL CHECK (json_valid(granted_scopes)),
  policy              TEXT NOT NULL CHECK (json_valid(policy)),
  claim_statement     TEXT NOT NULL CHECK (json_valid(claim_statement)),
  status              TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked', 'locked')),
  consecutive_denials INTEGER NOT NULL DEFAULT 0 CHECK (consecutive_denials >= 0),
  last_activity       INTEGER,
  created_at          INTEGER NOT NULL
) STRICT;
CREATE INDEX installations_by_account ON installations (account_id);
CREATE INDEX installations_by_agent ON installations (agent_id);

CREATE TABLE intents (
  intent_id          TEXT PRIMARY KEY,
  installation_id    TEXT NOT NULL REFERENCES installations (installation_id),
  kind               TEXT NOT NULL,
  payload            TEXT NOT NULL,
  payload_hash       BLOB NOT NULL CHECK (length(payload_hash) = 32),
  idempotency_key    TEXT NOT NULL,
  status             TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
  risk               TEXT NOT NULL,
  created_at         INTEGER NOT NULL,
  expires_at         INTEGER NOT NULL,
  decided_at         INTEGER,
  decision_statement TEXT CHECK (decision_statement IS NULL OR json_valid(decision_statement)),
  executed_at        INTEGER,
  UNIQUE (installation_id, idempotency_key)
) STRICT;
CREATE INDEX intents_by_status ON intents (status, expires_at);

CREATE TABLE sealed_secrets (
  intent_id TEXT PRIMARY KEY REFERENCES intents (intent_id) ON DELETE CASCADE,
  sealed    BLOB NOT NULL CHECK (length(sealed) > 0)
) STRICT;

CREATE TABLE nonces (
  key_id     TEXT NOT NULL,
  nonce      TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (key_id, nonce)
) STRICT, WITHOUT ROWID;
CREATE INDEX nonces_by_expiry ON nonces (expires_at);

-- No foreign keys: the log must outlive the rows it mentions and record attempts by unknown agents.
CREATE TABLE audit (
  seq             INTEGER PRIMARY KEY CHECK (seq >= 1),
  time            INTEGER NOT NULL,
  actor           TEXT NOT NULL,
  agent           TEXT,
  resource        TEXT,
  action          TEXT NOT NULL,
  request_id      TEXT,
  idempotency_key TEXT,
  prev_hash       TEXT NOT NULL CHECK (length(prev_hash) = 64),
  entry_hash      TEXT NOT NULL CHECK (length(entry_hash) = 64)
) STRICT;
-- Append-only through this code path. Someone with the file can drop these; the hash chain is what detects that.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
`;

// The daily limit counts an installation's intents created in the last 24 hours (POST /v1/intents).
const V2_SQL = `
CREATE INDEX intents_by_installation_created ON intents (installation_id, created_at);
`;

// Agent configs delivered to an installation: the device-signed CKCD statement and the CKSC blob sealed to the
// agent's box key, one row per installation (the newest revision). The hub can check the signature and the shape,
// never open the blob. The revision is kept as a column so "newer than stored" is one comparison.
const V3_SQL = `
CREATE TABLE agent_configs (
  installation_id TEXT PRIMARY KEY REFERENCES installations (installation_id),
  config_id       TEXT NOT NULL,
  revision        INTEGER NOT NULL CHECK (revision >= 1),
  statement       TEXT NOT NULL CHECK (json_valid(statement)),
  sealed          BLOB NOT NULL CHECK (length(sealed) > 0),
  updated_at      INTEGER NOT NULL
) STRICT;
`;

// More than one device per account, and the vault synced between them (issue 8). accounts.device_public_key stays
// the enrolling device; account_devices lists the ones added later, each with the device-add statement an existing
// device signed (a chain the clients can check back to the enrolling key). A pairing is a new device's request to
// join: only the hash of its short code is stored, and once approved the vault key sealed to its box key. Vault
// items are ciphertext envelopes exactly as the devices made them (a NULL envelope is a deletion); seq is the
// account's change counter at the write, and vault_heads holds the newest head statement a device signed over
// (counter, hash of the item set), which clients use to refuse a rolled-back or forked hub.
const V4_SQL = `
CREATE TABLE account_devices (
  device_key_id TEXT PRIMARY KEY,
  account_id    TEXT NOT NULL REFERENCES accounts (account_id),
  public_key    BLOB NOT NULL CHECK (length(public_key) = 32),
  name          TEXT,
  statement     TEXT NOT NULL CHECK (json_valid(statement)),
  added_at      INTEGER NOT NULL,
  revoked_at    INTEGER
) STRICT;
CREATE INDEX account_devices_by_account ON account_devices (account_id);

CREATE TABLE pairings (
  pairing_id  TEXT PRIMARY KEY,
  code_hash   BLOB NOT NULL UNIQUE CHECK (length(code_hash) = 32),
  device_key  BLOB NOT NULL CHECK (length(device_key) = 32),
  box_key     BLOB NOT NULL CHECK (length(box_key) = 32),
  name        TEXT,
  account_id  TEXT REFERENCES accounts (account_id),
  status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
  statement   TEXT CHECK (statement IS NULL OR json_valid(statement)),
  sealed      BLOB,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE vault_items (
  account_id    TEXT NOT NULL REFERENCES accounts (account_id),
  item_id       TEXT NOT NULL,
  kind          TEXT NOT NULL,
  revision      INTEGER NOT NULL CHECK (revision >= 1),
  envelope      BLOB,
  seq           INTEGER NOT NULL CHECK (seq >= 1),
  device_key_id TEXT NOT NULL,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (account_id, item_id)
) STRICT;
CREATE INDEX vault_items_by_seq ON vault_items (account_id, seq);

CREATE TABLE vault_heads (
  account_id TEXT PRIMARY KEY REFERENCES accounts (account_id),
  counter    INTEGER NOT NULL CHECK (counter >= 1),
  statement  TEXT NOT NULL CHECK (json_valid(statement))
) STRICT;
`;

// Key bindings (issue 13 items 1 and 2): the CKKB statement in which an agent's or a new device's signing key vouches
// for its box key, stored verbatim (statement + signature) so the hub hands it to the device that seals to that box
// key. Rows from before have NULL: their box key cannot be verified, and clients refuse to claim or pair them.
const KEY_BINDING_SQL = `
ALTER TABLE agents ADD COLUMN key_binding TEXT CHECK (key_binding IS NULL OR json_valid(key_binding));
ALTER TABLE pairings ADD COLUMN key_binding TEXT CHECK (key_binding IS NULL OR json_valid(key_binding));
`;

// Zero-trust decisions (issue 13 items 6 and 9). intents.agent_nonce: the agent's own per-request nonce, relayed to
// the device, which signs it into the approval (CKAP v2), so an old approval cannot answer a new request.
// account_devices.removal_statement and installations.revocation_statement are reserved for the device-signed
// removal and revocation statements (item 9, not yet written: both stay NULL until then).
const AGENT_NONCE_SQL = `
ALTER TABLE intents ADD COLUMN agent_nonce TEXT;
ALTER TABLE account_devices ADD COLUMN removal_statement TEXT CHECK (removal_statement IS NULL OR json_valid(removal_statement));
ALTER TABLE installations ADD COLUMN revocation_statement TEXT CHECK (revocation_statement IS NULL OR json_valid(revocation_statement));
`;

// The locked watcher (issue 15): one watch credential per device, stored as the SHA-256 of a random bearer token the
// device registered with a device-signed request. It is accepted only by GET /v1/watch(/events), which answer pending
// intent ids and nothing else; every other route keeps requiring the device key's signature (hub/routes/watch.ts).
// The row goes with the device: removal deletes it (routes/devices.ts), and the watch routes check the device again.
const WATCH_SQL = `
CREATE TABLE watch_tokens (
  device_key_id TEXT PRIMARY KEY,
  account_id    TEXT NOT NULL REFERENCES accounts (account_id),
  token_sha256  BLOB NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
  created_at    INTEGER NOT NULL
) STRICT;
`;

// PostgreSQL versions of the migrations above (the same schema; see Migration.postgres).
const PG_V1_SQL = `
-- JSON columns stay text (the repositories store canonical text and parse it); this checks they hold JSON, like
-- SQLite's json_valid.
CREATE FUNCTION ck_json_valid(t text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  PERFORM t::jsonb;
  RETURN true;
EXCEPTION WHEN others THEN
  RETURN false;
END $$;

CREATE TABLE accounts (
  account_id        text PRIMARY KEY,
  device_public_key bytea NOT NULL UNIQUE CHECK (octet_length(device_public_key) = 32),
  created_at        bigint NOT NULL
);

CREATE TABLE enrollment (
  code_hash  bytea PRIMARY KEY CHECK (octet_length(code_hash) = 32),
  created_at bigint NOT NULL,
  used_at    bigint,
  account_id text REFERENCES accounts (account_id),
  CHECK ((used_at IS NULL) = (account_id IS NULL))
);

CREATE TABLE agents (
  agent_id          text PRIMARY KEY,
  name              text NOT NULL,
  signing_key       bytea NOT NULL UNIQUE CHECK (octet_length(signing_key) = 32),
  box_key           bytea NOT NULL CHECK (octet_length(box_key) = 32),
  manifest_snapshot text NOT NULL,
  manifest_sha256   bytea NOT NULL CHECK (octet_length(manifest_sha256) = 32),
  requested_scopes  text NOT NULL CHECK (ck_json_valid(requested_scopes)),
  claim_code_hash   bytea UNIQUE CHECK (claim_code_hash IS NULL OR octet_length(claim_code_hash) = 32),
  claim_expires_at  bigint,
  created_at        bigint NOT NULL
);

CREATE TABLE installations (
  installation_id     text PRIMARY KEY,
  agent_id            text NOT NULL REFERENCES agents (agent_id),
  account_id          text NOT NULL REFERENCES accounts (account_id),
  granted_scopes      text NOT NULL CHECK (ck_json_valid(granted_scopes)),
  policy              text NOT NULL CHECK (ck_json_valid(policy)),
  claim_statement     text NOT NULL CHECK (ck_json_valid(claim_statement)),
  status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked', 'locked')),
  consecutive_denials bigint NOT NULL DEFAULT 0 CHECK (consecutive_denials >= 0),
  last_activity       bigint,
  created_at          bigint NOT NULL
);
CREATE INDEX installations_by_account ON installations (account_id);
CREATE INDEX installations_by_agent ON installations (agent_id);

CREATE TABLE intents (
  intent_id          text PRIMARY KEY,
  installation_id    text NOT NULL REFERENCES installations (installation_id),
  kind               text NOT NULL,
  payload            text NOT NULL,
  payload_hash       bytea NOT NULL CHECK (octet_length(payload_hash) = 32),
  idempotency_key    text NOT NULL,
  status             text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
  risk               text NOT NULL,
  created_at         bigint NOT NULL,
  expires_at         bigint NOT NULL,
  decided_at         bigint,
  decision_statement text CHECK (decision_statement IS NULL OR ck_json_valid(decision_statement)),
  executed_at        bigint,
  UNIQUE (installation_id, idempotency_key)
);
CREATE INDEX intents_by_status ON intents (status, expires_at);

CREATE TABLE sealed_secrets (
  intent_id text PRIMARY KEY REFERENCES intents (intent_id) ON DELETE CASCADE,
  sealed    bytea NOT NULL CHECK (octet_length(sealed) > 0)
);

CREATE TABLE nonces (
  key_id     text NOT NULL,
  nonce      text NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (key_id, nonce)
);
CREATE INDEX nonces_by_expiry ON nonces (expires_at);

-- No foreign keys: the log must outlive the rows it mentions and record attempts by unknown agents.
CREATE TABLE audit (
  seq             bigint PRIMARY KEY CHECK (seq >= 1),
  time            bigint NOT NULL,
  actor           text NOT NULL,
  agent           text,
  resource        text,
  action          text NOT NULL,
  request_id      text,
  idempotency_key text,
  prev_hash       text NOT NULL CHECK (length(prev_hash) = 64),
  entry_hash      text NOT NULL CHECK (length(entry_hash) = 64)
);
-- Append-only through this code path. Someone with the database can drop these; the hash chain is what detects that.
CREATE FUNCTION ck_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit is append-only';
END $$;
CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION ck_audit_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION ck_audit_append_only();
`;

const PG_V2_SQL = `
CREATE INDEX intents_by_installation_created ON intents (installation_id, created_at);
`;

const PG_V3_SQL = `
CREATE TABLE agent_configs (
  installation_id text PRIMARY KEY REFERENCES installations (installation_id),
  config_id       text NOT NULL,
  revision        bigint NOT NULL CHECK (revision >= 1),
  statement       text NOT NULL CHECK (ck_json_valid(statement)),
  sealed          bytea NOT NULL CHECK (octet_length(sealed) > 0),
  updated_at      bigint NOT NULL
);
`;

const PG_V4_SQL = `
CREATE TABLE account_devices (
  device_key_id text PRIMARY KEY,
  account_id    text NOT NULL REFERENCES accounts (account_id),
  public_key    bytea NOT NULL CHECK (octet_length(public_key) = 32),
  name          text,
  statement     text NOT NULL CHECK (ck_json_valid(statement)),
  added_at      bigint NOT NULL,
  revoked_at    bigint
);
CREATE INDEX account_devices_by_account ON account_devices (account_id);

CREATE TABLE pairings (
  pairing_id  text PRIMARY KEY,
  code_hash   bytea NOT NULL UNIQUE CHECK (octet_length(code_hash) = 32),
  device_key  bytea NOT NULL CHECK (octet_length(device_key) = 32),
  box_key     bytea NOT NULL CHECK (octet_length(box_key) = 32),
  name        text,
  account_id  text REFERENCES accounts (account_id),
  status      text NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
  statement   text CHECK (statement IS NULL OR ck_json_valid(statement)),
  sealed      bytea,
  created_at  bigint NOT NULL,
  expires_at  bigint NOT NULL
);

CREATE TABLE vault_items (
  account_id    text NOT NULL REFERENCES accounts (account_id),
  item_id       text NOT NULL,
  kind          text NOT NULL,
  revision      bigint NOT NULL CHECK (revision >= 1),
  envelope      bytea,
  seq           bigint NOT NULL CHECK (seq >= 1),
  device_key_id text NOT NULL,
  updated_at    bigint NOT NULL,
  PRIMARY KEY (account_id, item_id)
);
CREATE INDEX vault_items_by_seq ON vault_items (account_id, seq);

CREATE TABLE vault_heads (
  account_id text PRIMARY KEY REFERENCES accounts (account_id),
  counter    bigint NOT NULL CHECK (counter >= 1),
  statement  text NOT NULL CHECK (ck_json_valid(statement))
);
`;

const PG_V5_SQL = `
ALTER TABLE agents ADD COLUMN key_binding text CHECK (key_binding IS NULL OR ck_json_valid(key_binding));
ALTER TABLE pairings ADD COLUMN key_binding text CHECK (key_binding IS NULL OR ck_json_valid(key_binding));
`;

const PG_V6_SQL = `
ALTER TABLE intents ADD COLUMN agent_nonce text;
ALTER TABLE account_devices ADD COLUMN removal_statement text CHECK (removal_statement IS NULL OR ck_json_valid(removal_statement));
ALTER TABLE installations ADD COLUMN revocation_statement text CHECK (revocation_statement IS NULL OR ck_json_valid(revocation_statement));
`;

const PG_V7_SQL = `
CREATE TABLE watch_tokens (
  device_key_id text PRIMARY KEY,
  account_id    text NOT NULL REFERENCES accounts (account_id),
  token_sha256  bytea NOT NULL UNIQUE CHECK (octet_length(token_sha256) = 32),
  created_at    bigint NOT NULL
);
`;

// What every hub process on this database must agree on (issue 16): the hub identity's public key is recorded on
// first start, and a process with another identity file is refused (hub/server.ts), so that several instances
// behind one public origin sign as one hub.
const META_SQL = `
CREATE TABLE hub_meta (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
`;
const PG_V8_SQL = `
CREATE TABLE hub_meta (
  name  text PRIMARY KEY,
  value text NOT NULL
);
`;

// Rate-limit buckets shared by every hub process on one database (issue 16: N processes must not give a client N
// budgets). Only the PostgreSQL store uses the table; SQLite has one process and keeps its buckets in memory, but
// gets the table too so both engines share one migration history.
const RATE_BUCKETS_SQL = `
CREATE TABLE rate_buckets (
  bucket           TEXT PRIMARY KEY,
  burst_tokens     REAL NOT NULL,
  sustained_tokens REAL NOT NULL,
  updated_at       INTEGER NOT NULL
) STRICT;
CREATE INDEX rate_buckets_by_update ON rate_buckets (updated_at);
`;
const PG_V9_SQL = `
CREATE TABLE rate_buckets (
  bucket           text PRIMARY KEY,
  burst_tokens     double precision NOT NULL,
  sustained_tokens double precision NOT NULL,
  updated_at       bigint NOT NULL
);
CREATE INDEX rate_buckets_by_update ON rate_buckets (updated_at);
`;

/** Shipped migrations, in order. Append only. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial schema', sql: V1_SQL, postgres: PG_V1_SQL },
  { version: 2, name: 'intents by installation and creation time', sql: V2_SQL, postgres: PG_V2_SQL },
  { version: 3, name: 'agent configs', sql: V3_SQL, postgres: PG_V3_SQL },
  { version: 4, name: 'devices, pairing and vault sync', sql: V4_SQL, postgres: PG_V4_SQL },
  { version: 5, name: 'key bindings of agents and pairing devices', sql: KEY_BINDING_SQL, postgres: PG_V5_SQL },
  {
    version: 6,
    name: 'agent nonces, signed device removal and installation revocation',
    sql: AGENT_NONCE_SQL,
    postgres: PG_V6_SQL,
  },
  { version: 7, name: 'watch credentials of locked devices', sql: WATCH_SQL, postgres: PG_V7_SQL },
  { version: 8, name: 'hub metadata shared by every hub process', sql: META_SQL, postgres: PG_V8_SQL },
  { version: 9, name: 'rate-limit buckets shared by hub processes', sql: RATE_BUCKETS_SQL, postgres: PG_V9_SQL },
];

export const LATEST_VERSION = MIGRATIONS.length;

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings `db` up to the last migration in `migrations`. Each migration runs in its own transaction together with
 * its `user_version` bump, so a failure leaves the database at the previous version. Returns the versions applied.
 * @throws StoreError `schema_too_new` (the file was written by a newer hub), `migration_failed`.
 * @throws RangeError when `migrations` is not numbered 1, 2, 3, ... (a programming error).
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new RangeError(`migration #${i} has version ${m.version}, expected ${i + 1}`);
  });
  const current = schemaVersion(db);
  if (current > migrations.length) {
    throw new StoreError(
      'schema_too_new',
      `the database is at schema version ${current}, newer than this hub knows (${migrations.length}); upgrade the hub`,
    );
  }
  const applied: number[] = [];
  for (const m of migrations.slice(current)) {
    try {
      db.transaction(() => {
        db.exec(m.sql);
        // user_version lives in the database header, which is written inside the transaction: atomic with the DDL.
        db.pragma(`user_version = ${m.version}`);
      }).immediate();
    } catch (err) {
      throw new StoreError('migration_failed', `migration ${m.version} (${m.name}) failed and was rolled back`, {
        cause: err,
      });
    }
    applied.push(m.version);
  }
  return applied;
}
