// @vitest-environment node
// Issue 13 item 13 (hub half): the hub does not keep what agents asked for forever. Whoever later reads the hub's
// database file (the operator, a backup, a thief) finds no payload of an intent decided or expired longer ago than
// the retention period; the rows stay, so the audit log still verifies, and clients get a typed answer.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyAudit } from '../../../hub/audit';
import { DEFAULT_INTENT_RETENTION_MS, purgeExpiredPayloads } from '../../../hub/intent-retention';
import { INTENT_TTL_MS } from '../../../hub/routes/intent-view';
import { dbFileIn, openSqliteStore } from '../../../hub/store/sqlite';
import { hubErrorText } from '../../../lib/protocol/api-errors';
import { hubFixture } from './flow';
import { tempDir } from './helpers';

const DAY = 24 * 60 * 60 * 1000;
const NONCE = 'AAECAwQFBgcICQoLDA0ODw';
const action = (marker: string, key: string) => ({
  kind: 'action.approve',
  payload: { summary: marker, risk: 'low' },
  idempotency_key: key,
  agent_nonce: NONCE,
});

/** Every byte the hub's database holds on disk: the file and its write-ahead log. */
function dbBytes(file: string): string {
  return [file, `${file}-wal`]
    .filter(existsSync)
    .map((f) => readFileSync(f).toString('latin1'))
    .join('');
}

describe('intent retention', () => {
  it('an old decided intent loses its payload on disk; pending and recent ones keep theirs; the audit log verifies', async () => {
    const dir = tempDir();
    const file = dbFileIn(dir);
    const store = openSqliteStore({ file });
    const hub = await hubFixture(undefined, { store });
    const device = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(device, {
      policy: {
        approval_required: ['action.approve', 'message.send', 'payment.send', 'secret.request', 'shell.exec'],
        daily_limit: null,
      },
    });

    const old = (await agent.send('POST', '/v1/intents', action('OLD-MARKER-7f3a', 'old'))).json;
    expect(
      (await device.send('POST', `/v1/intents/${old.intent_id}/decision`, { approval: hub.approvalFor(device, old) }))
        .json.status,
    ).toBe('approved');

    hub.clock.now += 20 * DAY;
    const recent = (await agent.send('POST', '/v1/intents', action('RECENT-MARKER-4b8e', 'recent'))).json;
    expect(
      (
        await device.send('POST', `/v1/intents/${recent.intent_id}/decision`, {
          approval: hub.approvalFor(device, recent, 'deny'),
        })
      ).json.status,
    ).toBe('denied');
    hub.clock.now += 11 * DAY; // `old` expired 31 days ago, `recent` 11 days ago
    const pending = (await agent.send('POST', '/v1/intents', action('PENDING-MARKER-91c2', 'pending'))).json;
    expect((await store.intents.get(pending.intent_id))!.status).toBe('pending');
    // A month on, SQLite has long checkpointed the old rows into the database file itself: start from there.
    await store.compact();
    expect(dbBytes(file)).toContain('OLD-MARKER-7f3a');
    expect(await purgeExpiredPayloads(store, hub.clock.now)).toEqual([old.intent_id]);
    expect(await purgeExpiredPayloads(store, hub.clock.now)).toEqual([]); // idempotent

    const bytes = dbBytes(file);
    expect(bytes).not.toContain('OLD-MARKER-7f3a');
    expect(bytes).toContain('PENDING-MARKER-91c2');
    expect(bytes).toContain('RECENT-MARKER-4b8e');

    // The row stays: id, hash, status, times and the signed decision.
    const row = (await store.intents.get(old.intent_id))!;
    expect(row).toMatchObject({ status: 'approved', payload: '' });
    expect(Buffer.from(row.payloadHash).toString('hex')).toBe(old.payload_hash);
    expect(row.decisionStatement).not.toBeNull();

    // Clients get a clear typed answer, for the agent and for the device.
    for (const caller of [agent, device]) {
      const res = await caller.send('GET', `/v1/intents/${old.intent_id}`);
      expect(res.status).toBe(410);
      expect(res.json.error.code).toBe('intent_purged');
    }
    expect(hubErrorText('intent_purged')).toMatch(/older than the hub keeps requests/);
    // Retrying the same request (same idempotency key) gets the same answer, not a crash.
    expect((await agent.send('POST', '/v1/intents', action('OLD-MARKER-7f3a', 'old'))).json.error.code).toBe(
      'intent_purged',
    );
    expect((await agent.send('GET', `/v1/intents/${recent.intent_id}`)).json.status).toBe('denied');

    // The audit chain hashes no payload: it still verifies, and the Activity list still loads.
    expect(await verifyAudit(store)).toMatchObject({ ok: true });
    const audit = await device.send('GET', '/v1/audit');
    expect(audit.status).toBe(200);
    const entries = audit.json.entries as { resource: string | null; intent?: unknown }[];
    expect(entries.filter((e) => e.resource === `intent:${old.intent_id}`).every((e) => e.intent === undefined)).toBe(
      true,
    );
    expect(entries.some((e) => e.resource === `intent:${recent.intent_id}` && e.intent !== undefined)).toBe(true);
    await store.close();
  });

  it('the default retention is 30 days after expiry, and an expired undecided intent is purged too', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(device, {
      policy: {
        approval_required: ['action.approve', 'message.send', 'payment.send', 'secret.request', 'shell.exec'],
        daily_limit: null,
      },
    });
    const lapsed = (await agent.send('POST', '/v1/intents', action('LAPSED', 'lapsed'))).json;
    hub.clock.now += INTENT_TTL_MS;
    await hub.store.intents.expireDue(hub.clock.now);
    hub.clock.now += DEFAULT_INTENT_RETENTION_MS - 1;
    expect(await purgeExpiredPayloads(hub.store, hub.clock.now)).toEqual([]);
    hub.clock.now += 1;
    expect(await purgeExpiredPayloads(hub.store, hub.clock.now)).toEqual([lapsed.intent_id]);
  });

  it('never touches a pending intent, whatever the cutoff', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const agent = await hub.claimedAgent(device, {
      policy: {
        approval_required: ['action.approve', 'message.send', 'payment.send', 'secret.request', 'shell.exec'],
        daily_limit: null,
      },
    });
    const pending = (await agent.send('POST', '/v1/intents', action('STILL-PENDING', 'p'))).json;
    expect(await hub.store.intents.purgePayloads(hub.clock.now + 1000 * DAY, 100)).toEqual([]);
    expect((await hub.store.intents.get(pending.intent_id))!.payload).toContain('STILL-PENDING');
  });
});
