// @vitest-environment node
import { describe, expect, it } from 'vitest';
import {
  base64UrlDecode,
  connectProofPayload,
  createDeviceIdentity,
  deviceIdOf,
  fromRecord,
  loadOrCreateDeviceIdentity,
  signConnectProof,
  toRecord,
} from '../../../lib/openclaw/device-identity';

const fields = {
  deviceId: 'd'.repeat(64),
  clientId: 'webchat-ui',
  clientMode: 'ui',
  role: 'operator',
  scopes: ['operator.read', 'operator.approvals', 'operator.admin'],
  signedAt: 1_790_000_000_123,
  token: 'gateway-token',
  nonce: 'nonce-abc',
  platform: '  MacOS Web ',
  deviceFamily: null,
};

/** An IndexedDB-faithful store double: values go through structured clone, as IndexedDB stores them. */
function cloneStore() {
  const m = new Map<string, unknown>();
  return {
    get: async (k: string) => (m.has(k) ? structuredClone(m.get(k)) : undefined),
    set: async (k: string, v: unknown) => void m.set(k, structuredClone(v)),
    raw: m,
  };
}

describe('openclaw device identity', () => {
  it('builds the exact v3 payload', () => {
    expect(connectProofPayload(fields)).toBe(
      `v3|${'d'.repeat(64)}|webchat-ui|ui|operator|operator.read,operator.approvals,operator.admin|1790000000123|gateway-token|nonce-abc|macos web|`,
    );
    // Only ASCII letters are lowercased; absent fields are empty; an empty token stays empty.
    expect(
      connectProofPayload({ ...fields, token: '', platform: undefined, deviceFamily: ' ÉCRAN Desktop ', scopes: [] }),
    ).toBe(`v3|${'d'.repeat(64)}|webchat-ui|ui|operator||1790000000123||nonce-abc||Écran desktop`);
  });

  it('derives device id and base64url public key from the raw key', async () => {
    const id = await createDeviceIdentity();
    expect(id.publicKeyRaw).toHaveLength(32);
    expect(id.deviceId).toMatch(/^[0-9a-f]{64}$/);
    expect(id.deviceId).toBe(await deviceIdOf(id.publicKeyRaw));
    expect(id.publicKeyBase64Url).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(base64UrlDecode(id.publicKeyBase64Url)).toEqual(id.publicKeyRaw);
    expect(id.privateKey.extractable).toBe(false);
    // Known answer: SHA-256 of 32 zero bytes.
    expect(await deviceIdOf(new Uint8Array(32))).toBe(
      '66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925',
    );
  });

  it('signs the v3 payload so that the public key verifies it', async () => {
    const id = await createDeviceIdentity();
    const f = { ...fields, deviceId: id.deviceId };
    const sig = await signConnectProof(id, f);
    expect(sig).toMatch(/^[A-Za-z0-9_-]{86}$/);
    const pub = await crypto.subtle.importKey('raw', id.publicKeyRaw as BufferSource, { name: 'Ed25519' }, true, [
      'verify',
    ]);
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(
      await crypto.subtle.verify(
        { name: 'Ed25519' },
        pub,
        base64UrlDecode(sig) as BufferSource,
        enc(connectProofPayload(f)),
      ),
    ).toBe(true);
    expect(
      await crypto.subtle.verify(
        { name: 'Ed25519' },
        pub,
        base64UrlDecode(sig) as BufferSource,
        enc(connectProofPayload({ ...f, nonce: 'other' })),
      ),
    ).toBe(false);
  });

  it('persists through structured clone (IndexedDB) with the private key still non-extractable', async () => {
    const store = cloneStore();
    const first = await loadOrCreateDeviceIdentity(store);
    const again = await loadOrCreateDeviceIdentity(store);
    expect(again.deviceId).toBe(first.deviceId);
    expect(again.privateKey.extractable).toBe(false);
    const sig = await signConnectProof(again, { ...fields, deviceId: again.deviceId });
    const pub = await crypto.subtle.importKey('raw', first.publicKeyRaw as BufferSource, { name: 'Ed25519' }, true, [
      'verify',
    ]);
    expect(
      await crypto.subtle.verify(
        { name: 'Ed25519' },
        pub,
        base64UrlDecode(sig) as BufferSource,
        new TextEncoder().encode(connectProofPayload({ ...fields, deviceId: again.deviceId })),
      ),
    ).toBe(true);
    expect(toRecord(first).v).toBe(1);
  });

  it('replaces a damaged record and rejects non-records', async () => {
    const store = cloneStore();
    await store.set('openclaw-device-identity', { v: 1, publicKeyRaw: new Uint8Array(3) });
    const id = await loadOrCreateDeviceIdentity(store);
    expect(id.deviceId).toMatch(/^[0-9a-f]{64}$/);
    await expect(fromRecord({ v: 2 })).rejects.toMatchObject({ code: 'identity_invalid' });
    await expect(fromRecord(null)).rejects.toMatchObject({ code: 'identity_invalid' });
  });
});
