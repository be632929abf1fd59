// @vitest-environment node
// Issue 13 item 13 (hub half), played by whoever reads the hub's database file once the retention period is over:
// the operator, a backup, a thief of the disk. They must find neither a long payload (which SQLite keeps in overflow
// pages, freed to the free list when the payload is blanked) nor a sealed secret the person approved but the agent
// never fetched (its row deleted). Freed pages and cells keep their old bytes unless the hub zeroes them.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { purgeExpiredPayloads } from '../../../hub/intent-retention';
import { INTENT_TTL_MS } from '../../../hub/routes/intent-view';
import { dbFileIn, openSqliteStore } from '../../../hub/store/sqlite';
import { utf8Encode } from '../../../lib/bytes';
import { toBase64Url } from '../../../lib/protocol/base64url';
import { sealSecret } from '../../../lib/protocol/sealed-secret';
import { hubFixture } from '../hub/flow';
import { tempDir } from '../hub/helpers';

const DAY = 24 * 60 * 60 * 1000;
const RETENTION = 30 * DAY;
const APPROVAL_REQUIRED = ['action.approve', 'message.send', 'payment.send', 'secret.request', 'shell.exec'];

/** Every byte the hub keeps on disk for its database: the file and its write-ahead log. */
function diskBytes(file: string): Buffer {
  return Buffer.concat([file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f)));
}

async function fileBackedHub() {
  const file = dbFileIn(tempDir());
  const store = openSqliteStore({ file });
  const hub = await hubFixture(undefined, { store });
  const device = await hub.enrolledDevice();
  const agent = await hub.claimedAgent(device, {
    granted: ['action:action.approve', 'action:message.send', 'secret:read:bank-login'],
    policy: { approval_required: APPROVAL_REQUIRED, daily_limit: null },
  });
  return { file, store, hub, device, agent };
}

describe('a reader of the hub database after the retention period', () => {
  it('finds neither a long payload kept in overflow pages nor an approved secret the agent never fetched', async () => {
    const { file, store, hub, device, agent } = await fileBackedHub();
    // ~12 KB: more than fits in one 4 KiB page, so SQLite spills it to overflow pages.
    const body = Array.from({ length: 700 }, (_, i) => `LONG-${i}-BODY`).join(' ');
    const message = (
      await agent.send('POST', '/v1/intents', {
        kind: 'message.send',
        payload: { summary: 'Quarterly numbers', channel: 'email', to: 'cfo@example.com', body },
        idempotency_key: 'msg',
        agent_nonce: 'AAECAwQFBgcICQoLDA0ODw',
      })
    ).json;
    expect(message.status).toBe('pending');
    expect(
      (
        await device.send('POST', `/v1/intents/${message.intent_id}/decision`, {
          approval: hub.approvalFor(device, message, 'deny'),
        })
      ).json.status,
    ).toBe('denied');

    const secret = (
      await agent.send('POST', '/v1/intents', {
        kind: 'secret.request',
        payload: { item: 'bank-login', reason: 'Pay the invoice' },
        idempotency_key: 'sec',
        agent_nonce: 'AQECAwQFBgcICQoLDA0ODw',
      })
    ).json;
    const sealed = sealSecret(agent.boxKey, utf8Encode('correct horse battery staple'), {
      intent_id: secret.intent_id,
      payload_hash: secret.payload_hash,
      agent_id: agent.agentId,
    });
    const decided = await device.send('POST', `/v1/intents/${secret.intent_id}/decision`, {
      approval: hub.approvalFor(device, secret),
      sealed_secret: toBase64Url(sealed),
    });
    expect(decided.json.status).toBe('approved');
    // The agent never executes: the ciphertext would stay on the hub for good.

    hub.clock.now += INTENT_TTL_MS + RETENTION;
    await store.compact(); // long since checkpointed into the database file
    const before = diskBytes(file);
    expect(before.includes('LONG-699-BODY')).toBe(true);
    expect(before.includes(Buffer.from(sealed))).toBe(true);

    expect((await purgeExpiredPayloads(store, hub.clock.now, RETENTION)).sort()).toEqual(
      [message.intent_id, secret.intent_id].sort(),
    );

    const after = diskBytes(file);
    expect(after.includes('-BODY')).toBe(false);
    // Not even a 16-byte run of the sealed blob is left anywhere in the file.
    for (let i = 0; i + 16 <= sealed.length; i += 16)
      expect(after.includes(Buffer.from(sealed.subarray(i, i + 16)))).toBe(false);
    expect(await store.sealedSecrets.get(secret.intent_id)).toBeNull();
    // The agent coming back late gets a typed refusal, not the secret.
    const late = await agent.send('POST', `/v1/intents/${secret.intent_id}/execute`);
    expect(late.json.error?.code).toMatch(/^intent_(purged|expired)$/);
    expect(late.json.sealed_secret).toBeUndefined();
    await store.close();
  });

  it('a backlog of old intents is purged in bounded passes, oldest first', async () => {
    const { store, hub, agent } = await fileBackedHub();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const created = await agent.send('POST', '/v1/intents', {
        kind: 'action.approve',
        payload: { summary: `Old step ${i}`, risk: 'low' },
        idempotency_key: `old-${i}`,
        agent_nonce: `${'ABCDE'[i]}AECAwQFBgcICQoLDA0ODw`,
      });
      expect(created.status).toBe(201);
      ids.push(created.json.intent_id);
      hub.clock.now += 1000;
    }
    hub.clock.now += INTENT_TTL_MS;
    await store.intents.expireDue(hub.clock.now);
    hub.clock.now += RETENTION;
    expect(await purgeExpiredPayloads(store, hub.clock.now, RETENTION, 2)).toEqual(ids.slice(0, 2));
    expect(await purgeExpiredPayloads(store, hub.clock.now, RETENTION, 2)).toEqual(ids.slice(2, 4));
    expect(await purgeExpiredPayloads(store, hub.clock.now, RETENTION, 2)).toEqual(ids.slice(4));
    expect(await purgeExpiredPayloads(store, hub.clock.now, RETENTION, 2)).toEqual([]);
    await store.close();
  });
});
