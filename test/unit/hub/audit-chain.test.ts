// @vitest-environment node
import { createHash } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, appendAudit, auditEntryHash, verifyAudit } from '../../../hub/audit';
import { openSqliteStore } from '../../../hub/store/sqlite';
import type { HubStore } from '../../../hub/store/port';
import { key, tempDir } from './helpers';
import { auditRows } from './audit-rows';

/** A store file with `n` chained entries. */
async function logWith(n: number): Promise<string> {
  const file = path.join(tempDir(), 'hub.sqlite');
  const store = openSqliteStore({ file });
  for (let i = 1; i <= n; i++) {
    await appendAudit(store, {
      time: 1000 + i,
      actor: 'hub',
      action: `test.action${i}`,
      resource: `r${i}`,
      requestId: `req-${i}`,
    });
  }
  await store.close();
  return file;
}

/** Raw SQL on the file, as someone with disk access would: drop the append-only triggers first. */
function tamper(file: string, sql: string): void {
  const db = new Database(file);
  db.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;');
  db.exec(sql);
  db.close();
}

async function verifyFile(file: string) {
  const store = openSqliteStore({ file, readonly: true });
  try {
    return await verifyAudit(store);
  } finally {
    await store.close();
  }
}

describe('audit hash chain', () => {
  it('chains from the genesis hash and verifies', async () => {
    const store = openSqliteStore({ file: ':memory:' });
    expect(await verifyAudit(store)).toEqual({ ok: true, count: 0, head: GENESIS_HASH });
    const first = await appendAudit(store, { time: 5, actor: 'hub', action: 'enrollment_code.created' });
    const second = await appendAudit(store, {
      time: 6,
      actor: 'account:a',
      action: 'x',
      agent: 'ag',
      idempotencyKey: 'k',
    });
    expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH, agent: null, requestId: null });
    expect(second.seq).toBe(2);
    expect(second.prevHash).toBe(first.entryHash);
    expect(await verifyAudit(store)).toEqual({ ok: true, count: 2, head: second.entryHash });
    await store.close();
  });

  it('entry_hash = SHA-256(0x00 ‖ prev_hash ‖ canonical JSON of the fields) (known answer)', () => {
    const fields = {
      seq: 1,
      time: 0,
      actor: 'hub',
      agent: null,
      resource: null,
      action: 'a',
      requestId: null,
      idempotencyKey: null,
    };
    // Independent of the code under test: node:crypto over the bytes written out by hand.
    const canonical =
      '{"action":"a","actor":"hub","agent":null,"idempotency_key":null,"request_id":null,"resource":null,"seq":1,"time":0}';
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from([0]), Buffer.alloc(32), Buffer.from(canonical)]))
      .digest('hex');
    expect(auditEntryHash(GENESIS_HASH, fields)).toBe(expected);
  });

  it('an audit row commits or rolls back with the mutation it records', async () => {
    const store = openSqliteStore({ file: ':memory:' });
    await expect(
      store.transaction(async () => {
        await store.accounts.create({ accountId: 'a', devicePublicKey: key(1), createdAt: 1 });
        await appendAudit(store, { time: 1, actor: 'account:a', action: 'account.created' });
        throw new Error('route failed after both writes');
      }),
    ).rejects.toThrow('route failed');
    expect(await store.accounts.count()).toBe(0);
    expect(await store.audit.count()).toBe(0);
    await store.close();
  });

  it('the audit table refuses UPDATE and DELETE through SQL (triggers)', async () => {
    const file = await logWith(1);
    const db = new Database(file);
    expect(() => db.exec('DELETE FROM audit')).toThrow('append-only');
    expect(() => db.exec("UPDATE audit SET action = 'x'")).toThrow('append-only');
    db.close();
  });

  it('an edited row fails at that row', async () => {
    const file = await logWith(5);
    tamper(file, "UPDATE audit SET action = 'something.else' WHERE seq = 3");
    expect(await verifyFile(file)).toEqual({
      ok: false,
      seq: 3,
      reason: expect.stringContaining('entry_hash does not match'),
    });
  });

  it('an edited row with a recomputed entry_hash fails at the next row', async () => {
    const file = await logWith(5);
    const store = openSqliteStore({ file, readonly: true });
    const row3 = (await auditRows(store))[2]!;
    await store.close();
    const forged = auditEntryHash(row3.prevHash, { ...row3, action: 'forged' });
    tamper(file, `UPDATE audit SET action = 'forged', entry_hash = '${forged}' WHERE seq = 3`);
    expect(await verifyFile(file)).toMatchObject({ ok: false, seq: 4, reason: expect.stringContaining('prev_hash') });
  });

  it('a deleted row fails at its seq', async () => {
    const file = await logWith(5);
    tamper(file, 'DELETE FROM audit WHERE seq = 2');
    expect(await verifyFile(file)).toEqual({ ok: false, seq: 2, reason: 'entry 2 is missing (the next entry is 3)' });
  });

  it('a row inserted in the middle fails at its seq', async () => {
    const file = await logWith(5);
    // Make room at seq 3 (descending, to keep the primary key unique), then insert a plausible-looking row.
    tamper(
      file,
      `UPDATE audit SET seq = seq + 100 WHERE seq >= 3; UPDATE audit SET seq = seq - 99 WHERE seq >= 103;
       INSERT INTO audit (seq, time, actor, action, prev_hash, entry_hash)
       SELECT 3, 1003, 'hub', 'inserted', entry_hash, entry_hash FROM audit WHERE seq = 2;`,
    );
    expect(await verifyFile(file)).toMatchObject({ ok: false, seq: 3, reason: expect.stringContaining('entry_hash') });
  });

  it('a row appended with a made-up prev_hash fails at its seq', async () => {
    const file = await logWith(3);
    tamper(
      file,
      `INSERT INTO audit (seq, time, actor, action, prev_hash, entry_hash) VALUES (4, 1, 'hub', 'x', '${'ab'.repeat(32)}', '${'cd'.repeat(32)}')`,
    );
    expect(await verifyFile(file)).toMatchObject({ ok: false, seq: 4, reason: expect.stringContaining('prev_hash') });
  });

  it('two swapped rows fail at the first of them', async () => {
    const file = await logWith(5);
    tamper(
      file,
      'UPDATE audit SET seq = 100 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 4; UPDATE audit SET seq = 4 WHERE seq = 100;',
    );
    expect(await verifyFile(file)).toMatchObject({ ok: false, seq: 2, reason: expect.stringContaining('prev_hash') });
  });

  it('swapped contents (seq kept) fail at the first of them', async () => {
    const file = await logWith(5);
    tamper(
      file,
      `UPDATE audit SET action = CASE seq WHEN 2 THEN (SELECT action FROM audit WHERE seq = 4)
                                          ELSE (SELECT action FROM audit WHERE seq = 2) END WHERE seq IN (2, 4)`,
    );
    expect(await verifyFile(file)).toMatchObject({ ok: false, seq: 2 });
  });

  it('verify streams a long log (10,000 entries)', async () => {
    const store: HubStore = openSqliteStore({ file: ':memory:' });
    await store.transaction(async () => {
      for (let i = 0; i < 10_000; i++) await appendAudit(store, { time: i, actor: 'hub', action: 'bulk' });
    });
    expect(await verifyAudit(store)).toMatchObject({ ok: true, count: 10_000 });
    await store.close();
  });
});
