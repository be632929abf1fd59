// @vitest-environment node
import { createHash } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { LATEST_VERSION, MIGRATIONS, migrate, type Migration } from '../../../hub/store/migrations';
import { openSqliteStore } from '../../../hub/store/sqlite';
import { StoreError } from '../../../hub/store/errors';
import { key, tempDir } from './helpers';

// A shipped migration is never edited: if one of these fails, add a new migration instead of changing the old one.
const SHIPPED_SHA256: Record<number, string> = {
  1: 'ade0faac60c137f91b23e2029b34cda67a9dc79f88fdaecc2a9b8406eff37ce7',
  2: 'd946aa671b359fe94ab8b4aeed224ab7aaa55e5b9a6ff95dc68d7fb88b8eefa3',
  3: 'e94875eac3bcb56603d90174b3c9ba330d5087eddbe863f9f194a2fc4f4da717',
  4: '8d93515ba28aa3e6d0618d1033ef679448d484fa4d1de603538a384086241c52',
  5: '90666df1775ca18502df5097d08cacb56102df5d88b5c0c18ed9d82ca4c8982e',
  6: 'a6e06e37b3c7134f4bf72dd29641763c2bd14995b8111f38ef0c5156619607d3',
  7: 'f031f82219b946b568afc1dc96c643bb42f56cfffba43d65ce74c7efa5612275',
  8: '60453de20ade0c90a7e57fa43d286ac659ead7091e680e04fff47b94b0c4159c',
  9: 'a842fe7d279db83427ca40cf6bd48737e20f754fd33b8e96b9e67d445dc6c091',
};

// The PostgreSQL text of each migration (hub/store/postgres.ts), pinned the same way.
const SHIPPED_POSTGRES_SHA256: Record<number, string> = {
  1: '824658ff19cca4ee1e9fd1cb294475d138abb76e59ea24b4da9f5201101827bb',
  2: 'd946aa671b359fe94ab8b4aeed224ab7aaa55e5b9a6ff95dc68d7fb88b8eefa3',
  3: '1d9c2673b40f03c65c7569485d9821c89f246b12d73c7ae1b1d509f6a92b18aa',
  4: '9fc0945416ce005e96d419ab4341b7919761eb4bb40e46ddc0437d64cb06fdbd',
  5: '08a3587a880f3ee883a110ec581d577bfcab625af1c3f8bbf09adda0bdceaa1f',
  6: 'cde57bb01705badf37d1bda4863f3b0c0a0b858d955e1f496239f512449692a4',
  7: '6bff9f4f10cfbbcd23d03e6bffe8b243d10176aaf0486fdec9756940e43b64a0',
  8: '5822a255fe232228110f61a1b2c8899d5f0f1ba87834eb41019bb96a40b633aa',
  9: '3eefa15b09e7a493ff56816f9e765786b9474e74f7b6d774285db0364bede305',
};

const tables = (db: Database.Database) =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map(
    (r) => r.name,
  );

describe('hub migrations', () => {
  it('shipped migrations are numbered 1..n and unchanged', () => {
    MIGRATIONS.forEach((m, i) => expect(m.version).toBe(i + 1));
    for (const m of MIGRATIONS) {
      expect(createHash('sha256').update(m.sql).digest('hex'), `migration ${m.version}`).toBe(
        SHIPPED_SHA256[m.version],
      );
      expect(createHash('sha256').update(m.postgres).digest('hex'), `migration ${m.version} (PostgreSQL)`).toBe(
        SHIPPED_POSTGRES_SHA256[m.version],
      );
    }
  });

  it('a fresh database gets the whole schema and the latest user_version, with WAL and FULL sync', async () => {
    const file = path.join(tempDir(), 'hub.sqlite');
    const store = openSqliteStore({ file });
    expect(await store.schemaVersion()).toBe(LATEST_VERSION);
    await store.close();
    const db = new Database(file);
    expect(tables(db)).toEqual([
      'account_devices',
      'accounts',
      'agent_configs',
      'agents',
      'audit',
      'enrollment',
      'hub_meta',
      'installations',
      'intents',
      'nonces',
      'pairings',
      'rate_buckets',
      'sealed_secrets',
      'vault_heads',
      'vault_items',
      'watch_tokens',
    ]);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('sets the durability pragmas on every connection', async () => {
    const file = path.join(tempDir(), 'hub.sqlite');
    await openSqliteStore({ file }).close();
    // synchronous, foreign_keys and busy_timeout are per connection, so watch what the store sets on reopening.
    const spy = vi.spyOn(Database.prototype, 'pragma');
    try {
      await openSqliteStore({ file }).close();
      const seen = spy.mock.calls.map((c) => c[0]);
      expect(seen).toEqual(expect.arrayContaining(['synchronous = FULL', 'foreign_keys = ON', 'journal_mode = WAL']));
      expect(seen.some((s) => /^busy_timeout = \d+$/.test(s))).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  it('reopening an existing database keeps its data and applies nothing', async () => {
    const file = path.join(tempDir(), 'hub.sqlite');
    const first = openSqliteStore({ file });
    await first.accounts.create({ accountId: 'acct-1', devicePublicKey: key(1), createdAt: 1 });
    await first.close();
    const db = new Database(file);
    expect(migrate(db)).toEqual([]);
    db.close();
    const again = openSqliteStore({ file });
    expect((await again.accounts.get('acct-1'))?.createdAt).toBe(1);
    await again.close();
  });

  it('an existing v1 database is upgraded by a later migration, data intact', async () => {
    const file = path.join(tempDir(), 'hub.sqlite');
    const v1 = openSqliteStore({ file });
    await v1.accounts.create({ accountId: 'acct-1', devicePublicKey: key(1), createdAt: 1 });
    await v1.close();
    const next: Migration = {
      version: LATEST_VERSION + 1,
      name: 'test column',
      sql: 'ALTER TABLE accounts ADD COLUMN label TEXT',
      postgres: 'ALTER TABLE accounts ADD COLUMN label text',
    };
    const store = openSqliteStore({ file, migrations: [...MIGRATIONS, next] });
    expect(await store.schemaVersion()).toBe(LATEST_VERSION + 1);
    expect((await store.accounts.get('acct-1'))?.accountId).toBe('acct-1');
    await store.close();
  });

  it('a database at schema 2 gets migration 3 (agent configs) and later ones with its data intact, and the table takes a config', async () => {
    const file = path.join(tempDir(), 'hub.sqlite');
    const v2 = openSqliteStore({ file, migrations: MIGRATIONS.slice(0, 2) });
    await v2.accounts.create({ accountId: 'acct-1', devicePublicKey: key(1), createdAt: 1 });
    await v2.close();
    const store = openSqliteStore({ file });
    expect(await store.schemaVersion()).toBe(LATEST_VERSION);
    expect((await store.accounts.get('acct-1'))?.accountId).toBe('acct-1');
    // The foreign key holds: a config for an unknown installation is refused.
    await expect(
      store.agentConfigs.put({
        installationId: 'nope',
        configId: 'c',
        revision: 1,
        statement: {},
        sealed: new Uint8Array([1]),
        updatedAt: 1,
      }),
    ).rejects.toThrow();
    await store.close();
  });

  it('a database at schema 1 gets migration 2 (the daily-limit index on intents) with its data intact', async () => {
    const file = path.join(tempDir(), 'hub.sqlite');
    const v1 = openSqliteStore({ file, migrations: MIGRATIONS.slice(0, 1) });
    await v1.accounts.create({ accountId: 'acct-1', devicePublicKey: key(1), createdAt: 1 });
    await v1.close();
    const store = openSqliteStore({ file, migrations: MIGRATIONS.slice(0, 2) });
    expect(await store.schemaVersion()).toBe(2);
    expect((await store.accounts.get('acct-1'))?.accountId).toBe('acct-1');
    await store.close();
    const db = new Database(file);
    const plan = db
      .prepare("EXPLAIN QUERY PLAN SELECT count(*) FROM intents WHERE installation_id = 'x' AND created_at >= 0")
      .all() as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toContain('intents_by_installation_created');
    db.close();
  });

  it('a failing migration rolls back entirely and leaves the previous version', async () => {
    const file = path.join(tempDir(), 'hub.sqlite');
    await openSqliteStore({ file }).close();
    const bad: Migration = {
      version: LATEST_VERSION + 1,
      name: 'bad',
      sql: 'CREATE TABLE half (x INTEGER); SELECT * FROM no_such_table;',
      postgres: 'CREATE TABLE half (x integer); SELECT * FROM no_such_table;',
    };
    expect(() => openSqliteStore({ file, migrations: [...MIGRATIONS, bad] })).toThrowError(
      expect.objectContaining({ code: 'migration_failed' }),
    );
    const db = new Database(file);
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    expect(tables(db)).not.toContain('half');
    db.close();
  });

  it('refuses a database written by a newer hub', async () => {
    const file = path.join(tempDir(), 'hub.sqlite');
    await openSqliteStore({ file }).close();
    const db = new Database(file);
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    db.close();
    let err: unknown;
    try {
      openSqliteStore({ file });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('schema_too_new');
  });

  it('rejects a migration list with a gap (programming error)', () => {
    const db = new Database(':memory:');
    expect(() => migrate(db, [{ version: 2, name: 'x', sql: '', postgres: '' }])).toThrow(RangeError);
    db.close();
  });
});
