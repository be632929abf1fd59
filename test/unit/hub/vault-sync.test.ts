// @vitest-environment node
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../../lib/bytes';
import { toBase64Url } from '../../../lib/protocol/base64url';
import { deviceKeyId, encodePublicKey } from '../../../lib/protocol/keys';
import { signVaultHead } from '../../../lib/protocol/vault-head';
import { envelopeHash, itemsHash, type SyncedEntry } from '../../../lib/protocol/vault-items-hash';
import type { VaultChange } from '../../../lib/protocol/vault-sync-wire';
import { verifyAudit } from '../../../hub/audit';
import { hubFixture, ORIGIN } from './flow';

async function setup() {
  const hub = await hubFixture();
  const device = await hub.enrolledDevice();
  const accountId = deviceKeyId(device.publicKey);
  /** What the hub should hold after each accepted push (the test's own bookkeeping). */
  const held: Record<string, SyncedEntry> = {};
  const change = (id: string, revision: number, base: number, bytes: Uint8Array | null): VaultChange => ({
    id,
    kind: 'secret',
    revision,
    base_revision: base,
    envelope: bytes ? toBase64Url(bytes) : null,
  });
  const head = (counter: number, after: Record<string, SyncedEntry>, signer = device.privateKey, account = accountId) =>
    signVaultHead(
      {
        hub: ORIGIN,
        account_id: account,
        counter,
        items_hash: itemsHash(after),
        device_key: encodePublicKey(ed25519.getPublicKey(signer)),
        time: hub.clock.now,
      },
      async (m) => ed25519.sign(m, signer),
    );
  const after = (changes: VaultChange[], bytes: Map<string, Uint8Array | null>) => {
    const next = { ...held };
    for (const c of changes)
      next[c.id] = {
        kind: c.kind,
        revision: c.revision,
        envelopeSha256: bytes.get(c.id) ? envelopeHash(bytes.get(c.id)!) : null,
      };
    return next;
  };
  return { hub, device, accountId, held, change, head, after };
}

describe('vault sync routes', () => {
  it('accepts a push based on the current counter with a matching signed head; pull returns changes since a counter', async () => {
    const { hub, device, change, head, after, held } = await setup();
    expect((await device.send('GET', '/v1/vault')).json).toEqual({ counter: 0, head: null, items: [] });
    const e1 = randomBytes(80);
    const e2 = randomBytes(90);
    const changes = [change('item-1', 1, 0, e1), change('item-2', 1, 0, e2)];
    const next = after(
      changes,
      new Map([
        ['item-1', e1],
        ['item-2', e2],
      ]),
    );
    const res = await device.send('POST', '/v1/vault', { base_counter: 0, changes, head: await head(1, next) });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json.counter).toBe(1);
    Object.assign(held, next);

    const del = [change('item-1', 2, 1, null)];
    const next2 = after(del, new Map([['item-1', null]]));
    expect(
      (await device.send('POST', '/v1/vault', { base_counter: 1, changes: del, head: await head(2, next2) })).status,
    ).toBe(200);
    const pulled = await device.send('GET', '/v1/vault?since=1');
    expect(pulled.json.counter).toBe(2);
    expect(pulled.json.items).toEqual([{ id: 'item-1', kind: 'secret', revision: 2, envelope: null, seq: 2 }]);
    expect(pulled.json.head.statement.counter).toBe(2);
    expect((await device.send('GET', '/v1/vault?since=0')).json.items.map((i: { id: string }) => i.id)).toEqual([
      'item-2',
      'item-1',
    ]);
    expect((await verifyAudit(hub.store)).ok).toBe(true);
  });

  it('refuses a stale base counter, an edit based on an old revision, and heads that do not describe the result', async () => {
    const { hub, device, change, head, after, held, accountId } = await setup();
    const e1 = randomBytes(64);
    const first = [change('item-1', 1, 0, e1)];
    const next = after(first, new Map([['item-1', e1]]));
    expect(
      (await device.send('POST', '/v1/vault', { base_counter: 0, changes: first, head: await head(1, next) })).status,
    ).toBe(200);
    Object.assign(held, next);

    const e2 = randomBytes(64);
    const edit = [change('item-1', 2, 1, e2)];
    const edited = after(edit, new Map([['item-1', e2]]));
    const code = async (body: unknown) => (await device.send('POST', '/v1/vault', body)).json.error?.code;
    expect(await code({ base_counter: 0, changes: edit, head: await head(1, edited) })).toBe('vault_stale');
    expect(await code({ base_counter: 1, changes: [change('item-1', 2, 0, e2)], head: await head(2, edited) })).toBe(
      'vault_conflict',
    );
    expect(await code({ base_counter: 1, changes: edit, head: await head(3, edited) })).toBe('vault_head_invalid');
    expect(await code({ base_counter: 1, changes: edit, head: await head(2, held) })).toBe('vault_head_invalid');
    const stranger = ed25519.utils.randomSecretKey();
    expect(await code({ base_counter: 1, changes: edit, head: await head(2, edited, stranger) })).toBe(
      'vault_head_invalid',
    );
    expect(
      await code({ base_counter: 1, changes: edit, head: await head(2, edited, device.privateKey, 'other-account') }),
    ).toBe('vault_head_invalid');
    const bad = await head(2, edited);
    expect(
      await code({ base_counter: 1, changes: edit, head: { ...bad, signature: toBase64Url(randomBytes(64)) } }),
    ).toBe('vault_head_invalid');
    expect(await code({ base_counter: 1, changes: [...edit, ...edit], head: bad })).toBe('protocol_invalid');
    expect(
      await code({
        base_counter: 1,
        changes: [change('ghost', 1, 0, null)],
        head: await head(2, { ...held, ghost: { kind: 'secret', revision: 1, envelopeSha256: null } }),
      }),
    ).toBe('protocol_invalid');
    // Nothing of the refused pushes was stored.
    expect((await hub.store.vault.head(accountId))?.counter).toBe(1);
    expect((await hub.store.vault.get(accountId, 'item-1'))?.revision).toBe(1);
    // Another account cannot read this vault.
    const other = await hub.enrolledDevice(await hub.extraEnrollmentCode());
    expect((await other.send('GET', '/v1/vault')).json).toEqual({ counter: 0, head: null, items: [] });
  });
});
