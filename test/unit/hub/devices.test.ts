// @vitest-environment node
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { randomBytes, toHex, utf8Encode } from '../../../lib/bytes';
import { toBase64Url } from '../../../lib/protocol/base64url';
import { canonicalBytes } from '../../../lib/protocol/canonical';
import {
  buildPairingApproval,
  openPairingApproval,
  sealPairedKey,
  verifyDeviceChain,
  type DeviceListEntry,
} from '../../../lib/protocol/device-pairing';
import { encodePublicKey } from '../../../lib/protocol/keys';
import { verifyAudit } from '../../../hub/audit';
import { PAIRING_TTL_MS } from '../../../hub/routes/devices';
import { signKeyBinding } from '../../../lib/protocol/key-binding';
import { hubFixture, ORIGIN } from './flow';
import { auditRows } from './audit-rows';

type Hub = Awaited<ReturnType<typeof hubFixture>>;
type Device = ReturnType<Hub['newDevice']>;

/** A new device's keys and its POST /v1/pairings. */
async function startPairing(hub: Hub, name: string | null = 'Laptop') {
  const device = hub.newDevice();
  const boxPrivate = x25519.utils.randomSecretKey();
  const boxKey = x25519.getPublicKey(boxPrivate);
  const keys = { device_key: encodePublicKey(device.publicKey), box_key: encodePublicKey(boxKey) };
  const key_binding = signKeyBinding(device.privateKey, {
    hub: ORIGIN,
    role: 'device',
    signing_key: keys.device_key,
    box_key: keys.box_key,
    name,
    time: hub.clock.now,
  });
  const res = await device.send('POST', '/v1/pairings', { ...keys, name, key_binding });
  return { device, boxPrivate, boxKey, res };
}

const vault = { vaultId: randomBytes(16), vaultKey: randomBytes(32) };

/** What an approving device sends: a real CKDA statement and a real CKPV blob of `vault`. */
function approvalBy(hub: Hub, approver: Device, accountId: string, lookup: Record<string, any>, now = hub.clock.now) {
  return buildPairingApproval({
    hub: ORIGIN,
    accountId,
    pairingId: lookup.pairing_id,
    deviceKey: Uint8Array.from(Buffer.from(lookup.device_key, 'base64url')),
    boxKey: Uint8Array.from(Buffer.from(lookup.box_key, 'base64url')),
    signer: { publicKey: approver.publicKey, sign: async (m) => ed25519.sign(m, approver.privateKey) },
    seal: async (boxKey, context) => sealPairedKey(boxKey, vault, context),
    now,
  });
}

async function pairedDevice(hub: Hub, approver: Device, accountId: string, name = 'Laptop') {
  const p = await startPairing(hub, name);
  const lookup = await approver.send('POST', '/v1/pairings/lookup', { code: p.res.json.code });
  expect(lookup.status).toBe(200);
  const approval = await approvalBy(hub, approver, accountId, lookup.json);
  const res = await approver.send('POST', `/v1/pairings/${lookup.json.pairing_id}/approve`, approval);
  expect(res.status).toBe(201);
  return { ...p, pairingId: lookup.json.pairing_id as string };
}

describe('device pairing', () => {
  it('pairs a new device in one approval: it opens the vault key, signs requests, and the chain verifies', async () => {
    const hub = await hubFixture();
    const a = await hub.enrolledDevice();
    const b = await startPairing(hub, 'Work laptop');
    expect(b.res.status).toBe(201);
    expect(b.res.json.code).toMatch(/^[B-Z]{4}-[B-Z]{4}$/);
    // The hub keeps only the code's hash.
    expect(JSON.stringify(await hub.store.pairings.get(b.res.json.pairing_id))).not.toContain(
      b.res.json.code.replace('-', ''),
    );

    // Before approval the new device is nobody.
    expect((await b.device.send('GET', '/v1/devices')).json.error.code).toBe('auth_unknown_key');
    const waiting = await b.device.send('GET', `/v1/pairings/${b.res.json.pairing_id}`);
    expect(waiting.json).toMatchObject({ status: 'pending', approval: null });

    // Entry is forgiving about case and dashes, like claim codes.
    const lookup = await a.send('POST', '/v1/pairings/lookup', {
      code: b.res.json.code.toLowerCase().replace('-', ' '),
    });
    expect(lookup.status).toBe(200);
    expect(lookup.json).toMatchObject({
      pairing_id: b.res.json.pairing_id,
      fingerprint: b.res.json.fingerprint,
      name: 'Work laptop',
      device_key: encodePublicKey(b.device.publicKey),
    });

    const approved = await a.send(
      'POST',
      `/v1/pairings/${lookup.json.pairing_id}/approve`,
      await approvalBy(hub, a, a.keyId, lookup.json),
    );
    expect(approved.status).toBe(201);
    expect(approved.json.device_key_id).toBe(b.device.keyId);

    const done = await b.device.send('GET', `/v1/pairings/${b.res.json.pairing_id}`);
    expect(done.json.status).toBe('approved');
    expect(done.json.account_id).toBe(a.keyId);
    const opened = openPairingApproval(done.json.approval, {
      hub: ORIGIN,
      pairingId: b.res.json.pairing_id,
      deviceKey: b.device.publicKey,
      boxPrivate: b.boxPrivate,
    });
    expect(toHex(opened.vaultKey)).toBe(toHex(vault.vaultKey));
    expect(toHex(opened.vaultId)).toBe(toHex(vault.vaultId));

    // B is now a device of A's account: it sees the same account and its device list, whose chain verifies.
    const list = await b.device.send('GET', '/v1/devices');
    expect(list.status).toBe(200);
    expect(list.json.account_id).toBe(a.keyId);
    const chain = verifyDeviceChain(list.json.devices as DeviceListEntry[], { hub: ORIGIN, accountId: a.keyId });
    expect([...chain.keys()].sort()).toEqual([a.keyId, b.device.keyId].sort());
    // And it can act for the account, e.g. read the audit log, which recorded the addition.
    const audit = await b.device.send('GET', '/v1/audit');
    expect(audit.status).toBe(200);
    expect((await verifyAudit(hub.store)).ok).toBe(true);
    expect((await auditRows(hub.store)).map((r) => r.action)).toEqual(
      expect.arrayContaining(['pairing.create', 'device.add']),
    );

    // The code is spent.
    const again = await a.send('POST', '/v1/pairings/lookup', { code: b.res.json.code });
    expect(again.json.error.code).toBe('pairing_code_invalid');
  });

  it('a paired device acts for the account: it claims an agent with its own key and decides its intents', async () => {
    const hub = await hubFixture();
    const a = await hub.enrolledDevice();
    const b = await pairedDevice(hub, a, a.keyId);
    const agent = await hub.claimedAgent(b.device);
    const intent = await agent.send('POST', '/v1/intents', {
      kind: 'action.approve',
      payload: { summary: 'Deploy', risk: 'low' },
      idempotency_key: 'k1',
      agent_nonce: 'AAECAwQFBgcICQoLDA0ODw',
    });
    expect(intent.status).toBe(201);
    // A sees the installation and the pending intent too: one account, two devices.
    expect((await a.send('GET', '/v1/installations')).json.installations).toHaveLength(1);
    expect((await a.send('GET', '/v1/intents?status=pending')).json.intents).toHaveLength(1);
    // A decision is checked against the key of the device that sends it: B's statement under A's request is refused.
    const byB = hub.approvalFor(b.device, intent.json);
    expect(
      (await a.send('POST', `/v1/intents/${intent.json.intent_id}/decision`, { approval: byB })).json.error.code,
    ).toBe('approval_invalid');
    const ok = await b.device.send('POST', `/v1/intents/${intent.json.intent_id}/decision`, { approval: byB });
    expect(ok.status).toBe(200);
    expect(ok.json.status).toBe('approved');
  });

  it('a paired device can pair a third: the chain runs through it back to the enrolling key', async () => {
    const hub = await hubFixture();
    const a = await hub.enrolledDevice();
    const b = await pairedDevice(hub, a, a.keyId);
    const c = await pairedDevice(hub, b.device, a.keyId, 'Phone');
    const list = (await c.device.send('GET', '/v1/devices')).json.devices as DeviceListEntry[];
    expect(verifyDeviceChain(list, { hub: ORIGIN, accountId: a.keyId }).size).toBe(3);
    // The hub cannot slip in a device the account never signed for: a forged entry breaks the chain check.
    const stranger = hub.newDevice();
    const forged = structuredClone(list);
    forged[2] = { ...forged[2]!, device_key_id: stranger.keyId, device_key: encodePublicKey(stranger.publicKey) };
    expect(() => verifyDeviceChain(forged, { hub: ORIGIN, accountId: a.keyId })).toThrow(
      expect.objectContaining({ code: 'device_statement_invalid' }),
    );
    // Nor drop the enrolling device, nor claim another account.
    expect(() => verifyDeviceChain(list.slice(1), { hub: ORIGIN, accountId: a.keyId })).toThrow(
      expect.objectContaining({ code: 'device_statement_invalid' }),
    );
    expect(() => verifyDeviceChain(list, { hub: ORIGIN, accountId: b.device.keyId })).toThrow(
      expect.objectContaining({ code: 'device_statement_invalid' }),
    );
  });

  it('removing a device revokes it at once: its next request fails with device_revoked; the enrolling device stays', async () => {
    const hub = await hubFixture();
    const a = await hub.enrolledDevice();
    const b = await pairedDevice(hub, a, a.keyId);
    expect((await b.device.send('GET', '/v1/devices')).status).toBe(200);
    // Only with a CKDR the calling device signed for this hub, account and device (issue 13 item 9).
    const stranger = hub.newDevice();
    for (const body of [
      undefined,
      { removal: null },
      hub.removalFor(a, b.device, a.keyId, { hub: 'https://other.example' }),
      hub.removalFor(a, b.device, stranger.keyId),
      hub.removalFor(a, stranger),
      hub.removalFor(a, b.device, a.keyId, { removed_by: encodePublicKey(b.device.publicKey) }),
      hub.removalFor(stranger, b.device, a.keyId),
    ]) {
      expect((await a.send('DELETE', `/v1/devices/${b.device.keyId}`, body)).json.error.code).toBe(
        'revocation_invalid',
      );
    }
    expect((await b.device.send('GET', '/v1/devices')).status).toBe(200);
    const removed = await a.send('DELETE', `/v1/devices/${b.device.keyId}`, hub.removalFor(a, b.device));
    expect(removed.status).toBe(200);
    // The signed removal is stored and served with the list, for other devices and agents to verify.
    const entry = (await a.send('GET', '/v1/devices')).json.devices.find(
      (d: DeviceListEntry) => d.device_key_id === b.device.keyId,
    );
    expect(entry.removal).toEqual(hub.removalFor(a, b.device).removal);
    expect(removed.json).toEqual({ device_key_id: b.device.keyId, revoked_at: hub.clock.now });
    const next = await b.device.send('GET', '/v1/devices');
    expect(next.status).toBe(403);
    expect(next.json.error.code).toBe('device_revoked');
    // Every route, not just this one: it cannot approve a new device either.
    const p = await startPairing(hub);
    expect((await b.device.send('POST', '/v1/pairings/lookup', { code: p.res.json.code })).json.error.code).toBe(
      'device_revoked',
    );
    // A request not really signed by B learns nothing about the revocation.
    const forged = await b.device.send('GET', '/v1/devices', undefined, (init) => {
      init.headers['ck-signature'] = init.headers['ck-signature']!.replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A'));
    });
    expect(forged.json.error.code).toBe('auth_bad_signature');
    // Twice is not_found; the enrolling device cannot be removed; another account's device is not ours to remove.
    expect((await a.send('DELETE', `/v1/devices/${b.device.keyId}`)).json.error.code).toBe('not_found');
    expect((await a.send('DELETE', `/v1/devices/${a.keyId}`)).json.error.code).toBe('forbidden');
    const other = await hub.enrolledDevice(await hub.extraEnrollmentCode());
    const c = await pairedDevice(hub, a, a.keyId, 'Phone');
    expect((await other.send('DELETE', `/v1/devices/${c.device.keyId}`)).json.error.code).toBe('not_found');
    expect((await auditRows(hub.store)).map((r) => r.action)).toContain('device.remove');
    expect(
      (await a.send('GET', '/v1/devices')).json.devices.find((d: DeviceListEntry) => d.device_key_id === b.device.keyId)
        .revoked_at,
    ).toBe(removed.json.revoked_at);
  });

  it('refuses approvals that are not exactly for this hub, account, caller, pairing, keys and sealed blob', async () => {
    const hub = await hubFixture();
    const a = await hub.enrolledDevice();
    const other = await hub.enrolledDevice(await hub.extraEnrollmentCode());
    const b = await startPairing(hub);
    const lookup = (await a.send('POST', '/v1/pairings/lookup', { code: b.res.json.code })).json;
    const good = await approvalBy(hub, a, a.keyId, lookup);
    const post = (device: Device, body: unknown) =>
      device.send('POST', `/v1/pairings/${lookup.pairing_id}/approve`, body);
    const resign = (statement: Record<string, unknown>, signer: Device = a) => ({
      ...good,
      device: {
        statement,
        signature: toBase64Url(
          ed25519.sign(new Uint8Array([...utf8Encode('CKDA'), 1, ...canonicalBytes(statement)]), signer.privateKey),
        ),
      },
    });
    const cases: [string, Device, unknown][] = [
      ['other hub', a, resign({ ...good.device.statement, hub: 'http://127.0.0.1:9999' })],
      ['other account', a, resign({ ...good.device.statement, account_id: other.keyId })],
      [
        'other box key',
        a,
        resign({
          ...good.device.statement,
          box_key: encodePublicKey(x25519.getPublicKey(x25519.utils.randomSecretKey())),
        }),
      ],
      ['other pairing', a, resign({ ...good.device.statement, pairing_id: 'pair_other' })],
      ['sealed hash mismatch', a, resign({ ...good.device.statement, sealed_sha256: '0'.repeat(64) })],
      ['bad signature', a, { ...good, device: { ...good.device, signature: toBase64Url(new Uint8Array(64)) } }],
      ['signed by another key than the caller', a, resign({ ...good.device.statement }, other)],
      ['extra field', a, resign({ ...good.device.statement, extra: 1 })],
      ['not a CKPV blob', a, { ...good, sealed_vault_key: toBase64Url(randomBytes(40)) }],
      // A device of another account cannot add itself to A's: the statement names A's account and A's key.
      ['caller from another account', other, good],
    ];
    for (const [what, device, body] of cases) {
      const res = await post(device, body);
      expect([what, res.status, res.json.error.code]).toEqual([what, 400, 'device_statement_invalid']);
    }
    expect(await hub.store.devices.listByAccount(a.keyId)).toEqual([]);
    // The same re-signing with nothing changed is accepted: the refusals above are about the changed field.
    const ok = await post(a, resign({ ...good.device.statement }));
    expect(ok.status).toBe(201);
    // Once decided, a second approval is refused.
    expect((await post(a, good)).json.error.code).toBe('pairing_not_pending');
  });

  it('a pairing can be refused: the new device sees denied, and it can no longer be approved', async () => {
    const hub = await hubFixture();
    const a = await hub.enrolledDevice();
    const b = await startPairing(hub);
    const lookup = (await a.send('POST', '/v1/pairings/lookup', { code: b.res.json.code })).json;
    const approval = await approvalBy(hub, a, a.keyId, lookup);
    const denied = await a.send('POST', `/v1/pairings/${lookup.pairing_id}/deny`);
    expect(denied.json).toEqual({ pairing_id: lookup.pairing_id, status: 'denied' });
    expect((await b.device.send('GET', `/v1/pairings/${b.res.json.pairing_id}`)).json).toMatchObject({
      status: 'denied',
      approval: null,
    });
    expect((await a.send('POST', `/v1/pairings/${lookup.pairing_id}/approve`, approval)).json.error.code).toBe(
      'pairing_not_pending',
    );
    expect((await a.send('POST', `/v1/pairings/${lookup.pairing_id}/deny`)).json.error.code).toBe(
      'pairing_not_pending',
    );
    expect((await a.send('POST', '/v1/pairings/lookup', { code: b.res.json.code })).json.error.code).toBe(
      'pairing_code_invalid',
    );
    expect(await hub.store.devices.listByAccount(a.keyId)).toEqual([]);
  });

  it('a pairing expires: lookup and approval refuse it, the new device sees expired', async () => {
    const hub = await hubFixture();
    const a = await hub.enrolledDevice();
    const b = await startPairing(hub);
    const lookup = (await a.send('POST', '/v1/pairings/lookup', { code: b.res.json.code })).json;
    const approval = await approvalBy(hub, a, a.keyId, lookup);
    hub.clock.now += PAIRING_TTL_MS;
    expect((await a.send('POST', '/v1/pairings/lookup', { code: b.res.json.code })).json.error.code).toBe(
      'pairing_code_invalid',
    );
    expect((await a.send('POST', `/v1/pairings/${lookup.pairing_id}/approve`, approval)).json.error.code).toBe(
      'pairing_not_pending',
    );
    expect((await b.device.send('GET', `/v1/pairings/${b.res.json.pairing_id}`)).json.status).toBe('expired');
  });

  it('stores the new device key binding and returns it in the lookup; refuses a missing or mismatched one with key_binding_invalid', async () => {
    const hub = await hubFixture();
    const a = await hub.enrolledDevice();
    const b = await startPairing(hub, 'Laptop');
    const lookup = (await a.send('POST', '/v1/pairings/lookup', { code: b.res.json.code })).json;
    expect(lookup.key_binding.statement).toMatchObject({
      hub: ORIGIN,
      role: 'device',
      signing_key: lookup.device_key,
      box_key: lookup.box_key,
      name: 'Laptop',
    });
    const c = hub.newDevice();
    const keys = {
      device_key: encodePublicKey(c.publicKey),
      box_key: encodePublicKey(x25519.getPublicKey(x25519.utils.randomSecretKey())),
    };
    const bind = (over: Record<string, unknown>) =>
      signKeyBinding(c.privateKey, {
        hub: ORIGIN,
        role: 'device',
        signing_key: keys.device_key,
        box_key: keys.box_key,
        name: 'Phone',
        time: hub.clock.now,
        ...over,
      });
    const otherBox = encodePublicKey(x25519.getPublicKey(x25519.utils.randomSecretKey()));
    for (const [what, body] of [
      ['missing', { ...keys, name: 'Phone' }],
      ['another hub', { ...keys, name: 'Phone', key_binding: bind({ hub: 'https://other.example' }) }],
      // (name and role mismatches: test/unit/hub/agents-route.test.ts; pairing creation is rate-limited at 5 here)
      ['another box key', { ...keys, box_key: otherBox, name: 'Phone', key_binding: bind({}) }],
    ] as const) {
      const res = await c.send('POST', '/v1/pairings', body);
      expect([what, res.status, res.json.error?.code]).toEqual([what, 400, 'key_binding_invalid']);
    }
    expect((await c.send('POST', '/v1/pairings', { ...keys, name: 'Phone', key_binding: bind({}) })).status).toBe(201);
  });

  it('pairing creation needs proof of possession of the device key, and a key already on the hub cannot pair', async () => {
    const hub = await hubFixture();
    const a = await hub.enrolledDevice();
    const thief = hub.newDevice();
    const res = await thief.send('POST', '/v1/pairings', {
      device_key: encodePublicKey(a.publicKey),
      box_key: encodePublicKey(x25519.getPublicKey(x25519.utils.randomSecretKey())),
      name: null,
    });
    expect(res.status).toBe(401);
    const own = await a.send('POST', '/v1/pairings', {
      device_key: encodePublicKey(a.publicKey),
      box_key: encodePublicKey(x25519.getPublicKey(x25519.utils.randomSecretKey())),
      name: null,
    });
    expect(own.json.error.code).toBe('device_already_enrolled');
    // Only the pairing's own device may poll it.
    const b = await startPairing(hub);
    expect((await thief.send('GET', `/v1/pairings/${b.res.json.pairing_id}`)).status).toBe(401);
  });

  it('rate-limits code guessing per account and pairing creation per address', async () => {
    const hub = await hubFixture();
    const a = await hub.enrolledDevice();
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await a.send('POST', '/v1/pairings/lookup', { code: 'BCDF-GHJK' })).status);
    expect(codes.slice(0, 5)).toEqual([404, 404, 404, 404, 404]);
    expect(codes[5]).toBe(429);
    // Even the right code is refused while limited: guessing cannot continue.
    const b = await startPairing(hub);
    expect((await a.send('POST', '/v1/pairings/lookup', { code: b.res.json.code })).status).toBe(429);
    const created: number[] = [b.res.status];
    for (let i = 0; i < 5; i++) created.push((await startPairing(hub)).res.status);
    expect(created).toEqual([201, 201, 201, 201, 201, 429]);
  });
});
