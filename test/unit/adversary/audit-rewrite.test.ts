// @vitest-environment node
// Issue 13 item 8: a hub operator who rewrites the audit log (deletes entries and recomputes the chain, so
// `clawkeep audit verify` alone says intact) or replays an older head is caught by the devices that saw the log.
import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { HubSettings } from '../../../lib/ext/hub/hub-core';
import { HUB_SETTINGS } from '../../../lib/storage/persisted-keys';
import { auditEntryHash, GENESIS_HASH, verifyAudit } from '../../../hub/audit';
import type { HubStore } from '../../../hub/store/port';
import { MaliciousHub, type Exchange } from '../../adversary/malicious-hub';
import { hubFixture, ORIGIN } from '../hub/flow';
import { enrolledDevice } from './enrolled-device';

const HUB_SETTINGS_KEY = HUB_SETTINGS.key;

/** What an operator with the database file does: delete rows, then renumber and rehash the whole chain. */
function deleteAndRecompute(store: HubStore, deleteSeqs: number[]): void {
  const db = (store as unknown as { db: Database.Database }).db;
  const rows = db.prepare('SELECT * FROM audit ORDER BY seq').all() as Record<string, any>[];
  // The append-only triggers stop a bug, not the operator: they own the file.
  db.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;');
  db.prepare('DELETE FROM audit').run();
  const insert = db.prepare(
    'INSERT INTO audit (seq, time, actor, agent, resource, action, request_id, idempotency_key, prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  let prev = GENESIS_HASH;
  let seq = 1;
  for (const r of rows.filter((r) => !deleteSeqs.includes(r.seq))) {
    const fields = {
      seq,
      time: r.time,
      actor: r.actor,
      agent: r.agent,
      resource: r.resource,
      action: r.action,
      requestId: r.request_id,
      idempotencyKey: r.idempotency_key,
    };
    const hash = auditEntryHash(prev, fields);
    insert.run(seq, r.time, r.actor, r.agent, r.resource, r.action, r.request_id, r.idempotency_key, prev, hash);
    prev = hash;
    seq++;
  }
}

/** An enrolled device whose every hub call goes through the malicious-hub wrapper. */
async function enrolledBehindMaliciousHub(hub: Awaited<ReturnType<typeof hubFixture>>) {
  const device = await enrolledDevice(hub);
  const proxy = MaliciousHub.inProcess(hub.app.request);
  device.target.fetch = (url, init) => proxy.fetch(url, init as never);
  return { ...device, proxy };
}

const kept = (local: { data: Record<string, unknown> }) =>
  (local.data[HUB_SETTINGS_KEY] as HubSettings).auditHeads?.[ORIGIN];

describe('the audit log is evident to the devices that read it', () => {
  it('honest growth is verified and the kept head moves forward', async () => {
    const hub = await hubFixture();
    const { svc, local } = await enrolledDevice(hub);
    expect((await svc.activity()).integrity?.status).toBe('first');
    const before = kept(local)!.statement.seq;
    await hub.registeredAgent('a');
    await hub.registeredAgent('b');
    const page = await svc.activity();
    expect(page.integrity?.status).toBe('verified');
    expect(kept(local)!.statement.seq).toBe(before + 2);
  });

  it('a hub operator who deletes entries and recomputes the chain is caught; the device keeps the last good head', async () => {
    const hub = await hubFixture();
    const { svc, local } = await enrolledDevice(hub);
    await hub.registeredAgent('a');
    await hub.registeredAgent('b');
    await svc.activity();
    const good = structuredClone(kept(local)!);
    const n = good.statement.seq;

    deleteAndRecompute(hub.store, [n - 1]);
    // The rewritten chain is internally consistent: the database alone cannot tell.
    expect((await verifyAudit(hub.store)).ok).toBe(true);
    // More activity afterwards, so the new head is longer than the kept one (the hub needs a consistency proof).
    await hub.registeredAgent('c');
    await hub.registeredAgent('d');

    const page = await svc.activity();
    expect(page.integrity?.status).toBe('rewritten');
    expect(page.integrity?.since).toBe(good.statement.time);
    expect(page.integrity?.reason).toMatch(new RegExp(`does not contain the ${n} entries seen before unchanged`));
    expect(page.integrity?.kept).toEqual(good);
    expect(kept(local)).toEqual(good);
  });

  it('truncation (entries removed at the end) is caught as a rollback', async () => {
    const hub = await hubFixture();
    const { svc, local } = await enrolledDevice(hub);
    await hub.registeredAgent('a');
    await svc.activity();
    const good = structuredClone(kept(local)!);
    deleteAndRecompute(hub.store, [good.statement.seq]);
    const page = await svc.activity();
    expect(page.integrity?.status).toBe('rewritten');
    expect(page.integrity?.reason).toMatch(/entries were removed/);
    expect(kept(local)).toEqual(good);
  });

  it('a hub that replays an older signed head (rollback) is caught', async () => {
    const hub = await hubFixture();
    const { svc, local, proxy } = await enrolledBehindMaliciousHub(hub);
    await svc.activity();
    const old: Exchange = proxy.last('GET /v1/audit')!;
    const n = kept(local)!.statement.seq;
    await hub.registeredAgent('a');
    await svc.activity();
    const good = structuredClone(kept(local)!);
    expect(good.statement.seq).toBe(n + 1);
    proxy.replay('GET /v1/audit', old);
    const page = await svc.activity();
    expect(page.integrity?.status).toBe('rewritten');
    expect(page.integrity?.reason).toMatch(new RegExp(`shows ${n} entries where it showed ${n + 1}`));
    expect(kept(local)).toEqual(good);
  });

  it('a head that is not signed by the pinned hub key (or a withheld proof) is refused', async () => {
    const hub = await hubFixture();
    const { svc, local, proxy } = await enrolledBehindMaliciousHub(hub);
    await svc.activity();
    const good = structuredClone(kept(local)!);
    await hub.registeredAgent('a');
    proxy.rewriteJson(
      'GET /v1/audit',
      (json) => ({
        ...json,
        signed_head: { ...json.signed_head, statement: { ...json.signed_head.statement, seq: 9 } },
      }),
      1,
    );
    const forged = await svc.activity();
    expect(forged.integrity?.status).toBe('rewritten');
    expect(forged.integrity?.reason).toMatch(/signature is invalid/);
    proxy.rewriteJson('GET /v1/audit', (json) => ({ ...json, consistency: null }), 1);
    const page = await svc.activity();
    expect(page.integrity?.status).toBe('rewritten');
    expect(page.integrity?.reason).toMatch(/did not prove/);
    expect(kept(local)).toEqual(good);
  });
});
