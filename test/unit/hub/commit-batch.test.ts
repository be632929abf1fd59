// @vitest-environment node
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CommitBatcher, type BatchConnection, type BatchLimits } from '../../../hub/store/commit-batch';
import { StoreError } from '../../../hub/store/errors';
import { openSqliteStore } from '../../../hub/store/sqlite';
import { hubFixture } from './flow';
import { tempDir } from './helpers';

/** A real WAL database with synchronous=FULL (as the hub opens it), its connection for the batcher, and a reader. */
function database(limits?: BatchLimits) {
  const file = path.join(tempDir(), 'batch.sqlite');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.exec(`CREATE TABLE parent (id INTEGER PRIMARY KEY);
           CREATE TABLE item (name TEXT PRIMARY KEY,
             parent INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED);`);
  const commits: number[] = [];
  const conn: BatchConnection = {
    begin: () => db.exec('BEGIN IMMEDIATE'),
    commit: () => {
      db.exec('COMMIT');
      commits.push(Date.now());
    },
    rollback: () => db.exec('ROLLBACK'),
    savepoint: () => db.exec('SAVEPOINT member'),
    release: () => db.exec('RELEASE member'),
    rollbackToSavepoint: () => db.exec('ROLLBACK TO member'),
    inTransaction: () => db.inTransaction,
    lostGroupError: (cause) => new StoreError('storage_failed', 'the group was not committed', { cause }),
  };
  const reader = new Database(file, { readonly: true });
  const committedNames = () =>
    (reader.prepare('SELECT name FROM item ORDER BY name').all() as { name: string }[]).map((r) => r.name);
  const insert = (name: string, parent: number | null = null) =>
    db.prepare('INSERT INTO item (name, parent) VALUES (?, ?)').run(name, parent);
  return { db, conn, commits, committedNames, insert, batcher: new CommitBatcher(conn, limits) };
}

/** A transaction that writes, then yields (as the hub's transactions await their repositories), then writes again. */
const twoStepWrite = (insert: (n: string) => unknown, name: string) => async () => {
  insert(`${name}.a`);
  await new Promise((r) => setImmediate(r));
  insert(`${name}.b`);
  return name;
};

describe('CommitBatcher (group commit on one SQLite connection)', () => {
  it('work queued behind a transaction joins it: one COMMIT for the group, every answer after that COMMIT', async () => {
    const { batcher, insert, committedNames, commits } = database();
    const seenAtAnswer: Record<string, string[]> = {};
    const names = Array.from({ length: 10 }, (_, i) => `t${i}`);
    const answers = names.map((n) =>
      batcher.run('transaction', twoStepWrite(insert, n)).then((v) => {
        // What another connection sees the moment this answer arrives: its own rows must already be there.
        seenAtAnswer[v] = committedNames();
        return v;
      }),
    );
    expect(await Promise.all(answers)).toEqual(names);
    for (const n of names) expect(seenAtAnswer[n]).toEqual(expect.arrayContaining([`${n}.a`, `${n}.b`]));
    expect(committedNames()).toHaveLength(20);
    // 10 transactions, fewer commits: the later ones queued while the first awaited and joined its group.
    expect(commits.length).toBeLessThan(names.length);
    expect(batcher.stats.members).toBe(10);
    expect(batcher.stats.groups).toBe(commits.length);
  });

  it('a lone unit of work commits in its own turn of the event loop', async () => {
    const { batcher, insert, committedNames, commits } = database();
    for (const n of ['x', 'y', 'z']) {
      await batcher.run('transaction', twoStepWrite(insert, n));
      expect(committedNames()).toContain(`${n}.b`);
    }
    expect(commits).toHaveLength(3);
  });

  it('a member that fails undoes only its own writes; the rest of its group commits', async () => {
    const { batcher, insert, committedNames } = database();
    const boom = new Error('refused on purpose');
    const results = await Promise.allSettled([
      batcher.run('transaction', twoStepWrite(insert, 'ok1')),
      batcher.run('transaction', async () => {
        insert('bad.a');
        await new Promise((r) => setImmediate(r));
        throw boom;
      }),
      batcher.run('transaction', twoStepWrite(insert, 'ok2')),
      batcher.run('write', () => insert('ok1.a')), // a constraint error inside the group: only that statement
      batcher.run('write', () => insert('solo').changes),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toBe(boom);
    expect(committedNames()).toEqual(['ok1.a', 'ok1.b', 'ok2.a', 'ok2.b', 'solo']);
  });

  it('a COMMIT that fails fails every member of its group, and nothing of the group is stored', async () => {
    const { batcher, insert, committedNames } = database();
    // A deferred foreign key is checked at COMMIT: one member's dangling reference makes the whole COMMIT fail.
    const results = await Promise.allSettled([
      batcher.run('transaction', twoStepWrite(insert, 'g1')),
      batcher.run('transaction', async () => {
        insert('dangling', 99);
        await new Promise((r) => setImmediate(r));
        return 'dangling';
      }),
      batcher.run('write', () => insert('g3').changes),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'storage_failed' });
    expect(committedNames()).toEqual([]);
    // The connection is usable again afterwards.
    await batcher.run('transaction', twoStepWrite(insert, 'after'));
    expect(committedNames()).toEqual(['after.a', 'after.b']);
  });

  it('runEarly answers once its statement ran; the work after it joins its group; `committed` settles with that COMMIT', async () => {
    const { batcher, insert, committedNames, commits } = database();
    const early = await batcher.runEarly(() => insert('nonce').changes);
    expect(early.value).toBe(1);
    // Answered before its COMMIT: no other connection sees it yet.
    expect(committedNames()).toEqual([]);
    let committed = false;
    void early.committed.then(() => (committed = true));
    // The request's own transaction, started right after, joins the same group: one COMMIT covers both.
    await batcher.run('transaction', twoStepWrite(insert, 'intent'));
    expect(committedNames()).toEqual(['intent.a', 'intent.b', 'nonce']);
    await early.committed;
    expect(committed).toBe(true);
    expect(commits).toHaveLength(1);
  });

  it('runEarly: a COMMIT that fails rejects `committed` (the caller turns its answer into that error)', async () => {
    const { batcher, insert, committedNames } = database();
    const early = await batcher.runEarly(() => insert('nonce').changes);
    const dangling = batcher.run('transaction', async () => {
      insert('dangling', 99); // checked at COMMIT: the whole group fails
      return 'dangling';
    });
    await expect(dangling).rejects.toMatchObject({ code: 'storage_failed' });
    await expect(early.committed).rejects.toMatchObject({ code: 'storage_failed' });
    expect(committedNames()).toEqual([]);
  });

  it('exclusive work (a checkpoint, closing) runs after the open group committed, outside any transaction', async () => {
    const { batcher, insert, db, committedNames } = database();
    let inTxDuringExclusive: boolean | undefined;
    let seen: string[] = [];
    await Promise.all([
      batcher.run('transaction', twoStepWrite(insert, 'before')),
      batcher.run('exclusive', () => {
        inTxDuringExclusive = db.inTransaction;
        seen = committedNames();
      }),
      batcher.run('transaction', twoStepWrite(insert, 'after')),
    ]);
    expect(inTxDuringExclusive).toBe(false);
    expect(seen).toEqual(['before.a', 'before.b']);
  });

  it('writes whose input arrives in the same turn share one commit; a read waits for it, and sees it', async () => {
    const { batcher, insert, commits, committedNames } = database();
    const answers: Promise<unknown>[] = [];
    let readAnswer: Promise<unknown> | undefined;
    await new Promise<void>((done) => {
      // Three callbacks in one check phase, as requests whose bodies arrived in one poll of the event loop.
      setImmediate(() => answers.push(batcher.run('write', () => insert('w1').changes)));
      setImmediate(() => answers.push(batcher.run('write', () => insert('w2').changes)));
      setImmediate(() => {
        readAnswer = batcher.run('read', () => committedNames().length);
        done();
      });
    });
    expect(await Promise.all(answers)).toEqual([1, 1]);
    expect(commits).toHaveLength(1);
    // The read ran inside the group and was answered after its COMMIT: what it saw is durable.
    expect(await readAnswer).toBe(0); // the other connection's view while the group was still open
    expect(committedNames()).toEqual(['w1', 'w2']);
    // With no group open, a read runs at once, outside any transaction.
    expect(batcher.tryReadNow(() => 'now')).toEqual({ ran: true, value: 'now' });
  });

  it('a group closes at maxMembers', async () => {
    const { batcher, insert, commits } = database({ maxMembers: 3, maxAgeMs: 60_000 });
    await Promise.all(Array.from({ length: 9 }, (_, i) => batcher.run('transaction', twoStepWrite(insert, `m${i}`))));
    expect(commits).toHaveLength(3);
    expect(batcher.stats).toEqual({ groups: 3, members: 9 });
  });

  it('maxMembers 1 commits every unit on its own', async () => {
    const { batcher, insert, commits } = database({ maxMembers: 1, maxAgeMs: 60_000 });
    await Promise.all(Array.from({ length: 5 }, (_, i) => batcher.run('transaction', twoStepWrite(insert, `s${i}`))));
    expect(commits).toHaveLength(5);
  });
});

describe('the hub store under group commit', () => {
  it('a read outside a transaction neither waits for an open group nor sees its uncommitted writes', async () => {
    const file = path.join(tempDir(), 'hub.sqlite');
    const store = openSqliteStore({ file });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const writing = store.transaction(async () => {
      await store.accounts.create({
        accountId: 'acct-open',
        devicePublicKey: new Uint8Array(32).fill(9),
        createdAt: 1,
      });
      await held; // the group stays open (uncommitted) until released
    });
    await new Promise((r) => setImmediate(r));
    expect(await store.accounts.get('acct-open')).toBeNull(); // answered now, from the last committed state
    release();
    await writing;
    expect(await store.accounts.get('acct-open')).toMatchObject({ accountId: 'acct-open' });
    await store.close();
  });

  it('an acknowledged write is already committed, seen from another connection, for concurrent requests', async () => {
    const file = path.join(tempDir(), 'hub.sqlite');
    const store = openSqliteStore({ file });
    const reader = new Database(file, { readonly: true });
    const committed = (id: string) =>
      reader.prepare('SELECT 1 FROM accounts WHERE account_id = ?').get(id) !== undefined;
    const ids = Array.from({ length: 20 }, (_, i) => `acct-${i}`);
    const visible = await Promise.all(
      ids.map((id, i) =>
        store
          .transaction(async () => {
            await store.accounts.create({
              accountId: id,
              devicePublicKey: new Uint8Array(32).fill(i + 1),
              createdAt: i,
            });
          })
          .then(() => committed(id)),
      ),
    );
    expect(visible).toEqual(ids.map(() => true));
    reader.close();
    await store.close();
  });

  it('a signed request is answered only once its nonce is committed, whatever the route did', async () => {
    const file = path.join(tempDir(), 'hub.sqlite');
    const hub = await hubFixture(undefined, { store: openSqliteStore({ file }) });
    const device = await hub.enrolledDevice();
    const reader = new Database(file, { readonly: true });
    const nonces = () =>
      (
        reader.prepare('SELECT COUNT(*) AS n FROM nonces WHERE key_id = ?').get(`human:${device.keyId}`) as {
          n: number;
        }
      ).n;
    // Reads only, in the same turn: the nonce is recorded at once (NonceRepo.remember answers before its COMMIT),
    // and every answer must still find its nonce committed when it arrives.
    const before = nonces();
    const seen = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const res = await device.send('GET', '/v1/devices');
        expect(res.status).toBe(200);
        return nonces();
      }),
    );
    for (const n of seen) expect(n).toBeGreaterThan(before);
    expect(nonces()).toBe(before + 5);
    reader.close();
    await hub.store.close();
  });
});
