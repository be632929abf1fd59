// @vitest-environment node
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8Encode } from '../../../lib/bytes';
import { fromBase64Url, toBase64Url } from '../../../lib/protocol/base64url';
import {
  requestSigningBytes,
  signRequest,
  verifyRequest,
  type Role,
  type VerifyRequestInput,
} from '../../../lib/protocol/request-signing';
import vectors from '../../vectors/protocol-request-signing.json';
import { bitFlips, expectCode } from './helpers';

const hub = vectors.hub;
const keyFor = (seed: string) => ed25519.getPublicKey(fromHex(seed));

function verifier(v: (typeof vectors.vectors)[number], over: Partial<VerifyRequestInput> = {}) {
  const seen = new Set<string>();
  const input: VerifyRequestInput = {
    headers: v.headers,
    method: v.method,
    path: v.path,
    body: v.body,
    hub,
    now: v.now,
    publicKeyFor: (role: Role, keyId: string) => (role === v.role && keyId === v.keyId ? keyFor(v.seed) : undefined),
    seenNonce: (keyId, nonce, _expiresAt, role) => {
      const k = `${role}/${keyId}/${nonce}`;
      if (seen.has(k)) return true;
      seen.add(k);
      return false;
    },
    ...over,
  };
  return { input, seen };
}

describe('CKRQ signed requests', () => {
  it.each(vectors.vectors)('$role $method $path: fixed inputs -> fixed headers, verified by node:crypto', async (v) => {
    const headers = signRequest({
      role: v.role as Role,
      keyId: v.keyId,
      privateKey: fromHex(v.seed),
      method: v.method,
      path: v.path,
      body: v.body,
      hub,
      now: v.now,
      nonce: fromHex(v.nonce),
    });
    expect(headers).toEqual(v.headers);
    const fields = {
      role: v.role as Role,
      key_id: v.keyId,
      method: v.method.toUpperCase(),
      path: v.path,
      body_sha256: v.body_sha256,
      timestamp: Number(v.headers['ck-timestamp']),
      nonce: v.headers['ck-nonce'],
      hub,
    };
    expect(toHex(requestSigningBytes(fields))).toBe(v.signedBytes);
    const nodeKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(keyFor(v.seed)) },
      format: 'jwk',
    });
    expect(nodeVerify(null, fromHex(v.signedBytes), nodeKey, fromBase64Url(v.headers['ck-signature']))).toBe(true);
    expect(await verifyRequest(verifier(v).input)).toEqual({ role: v.role, keyId: v.keyId });
  });

  const v = vectors.vectors[0]!;

  it('accepts a Headers object and bytes for the body; the empty body hashes the empty string', async () => {
    const headers = new Headers(Object.entries(v.headers).map(([k, x]) => [k.toUpperCase(), x] as [string, string]));
    expect(await verifyRequest(verifier(v, { headers, body: utf8Encode(v.body) }).input)).toEqual({
      role: v.role,
      keyId: v.keyId,
    });
    const empty = vectors.vectors[1]!;
    expect(empty.body_sha256).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(await verifyRequest(verifier(empty, { body: undefined }).input)).toMatchObject({ role: 'human' });
  });

  it('auth_missing: each header absent or malformed', async () => {
    for (const name of Object.keys(v.headers)) {
      const headers: Record<string, string | undefined> = { ...v.headers, [name]: undefined };
      await expectCode(() => verifyRequest(verifier(v, { headers }).input), 'auth_missing');
    }
    for (const [name, bad] of [
      ['ck-role', 'admin'],
      ['ck-key-id', 'a b'],
      ['ck-timestamp', '01795000000'],
      ['ck-timestamp', '-1'],
      ['ck-timestamp', '1e9'],
      ['ck-nonce', 'short'],
      ['ck-nonce', v.headers['ck-nonce'].slice(0, 21) + 'x'],
    ]) {
      await expectCode(
        () => verifyRequest(verifier(v, { headers: { ...v.headers, [name!]: bad } }).input),
        'auth_missing',
      );
    }
  });

  it('auth_stale: outside ±60 s, inclusive bounds accepted', async () => {
    const t = Number(v.headers['ck-timestamp']) * 1000;
    await expectCode(() => verifyRequest(verifier(v, { now: t + 60_001 }).input), 'auth_stale');
    await expectCode(() => verifyRequest(verifier(v, { now: t - 60_001 }).input), 'auth_stale');
    await verifyRequest(verifier(v, { now: t + 60_000 }).input);
    await verifyRequest(verifier(v, { now: t - 60_000 }).input);
    await expectCode(() => verifyRequest(verifier(v, { now: t + 11_000, maxSkewSeconds: 10 }).input), 'auth_stale');
  });

  it('auth_unknown_key: no key for this role and key id (async lookup too)', async () => {
    await expectCode(() => verifyRequest(verifier(v, { publicKeyFor: async () => null }).input), 'auth_unknown_key');
    await expectCode(
      () => verifyRequest(verifier(v, { headers: { ...v.headers, 'ck-role': 'human' } }).input),
      'auth_unknown_key',
    );
  });

  it('auth_bad_signature: any change to method, path, query, body, hub, key or signature', async () => {
    const changes: Partial<VerifyRequestInput>[] = [
      { method: 'PUT' },
      { path: '/v1/intents/' },
      { path: '/v1/intents?x=1' },
      { body: v.body + ' ' },
      { body: '' },
      { hub: 'https://other.example' },
      { publicKeyFor: () => ed25519.getPublicKey(new Uint8Array(32).fill(5)) },
      { headers: { ...v.headers, 'ck-timestamp': String(Number(v.headers['ck-timestamp']) + 1) } },
      { headers: { ...v.headers, 'ck-nonce': toBase64Url(new Uint8Array(16)) } },
      { headers: { ...v.headers, 'ck-signature': 'AAAA' } },
      { path: 'no-slash' },
    ];
    for (const over of changes) await expectCode(() => verifyRequest(verifier(v, over).input), 'auth_bad_signature');
    for (const sig of bitFlips(fromBase64Url(v.headers['ck-signature']), 32)) {
      await expectCode(
        () => verifyRequest(verifier(v, { headers: { ...v.headers, 'ck-signature': toBase64Url(sig) } }).input),
        'auth_bad_signature',
      );
    }
  });

  it('auth_replayed: the same nonce twice; the cache is told how long to keep it and is not touched for bad signatures', async () => {
    const { input, seen } = verifier(v);
    const calls: number[] = [];
    const seenNonce = input.seenNonce;
    input.seenNonce = (k, n, exp, r) => (calls.push(exp), seenNonce(k, n, exp, r));
    await verifyRequest({ ...input, body: 'tampered' }).catch(() => undefined);
    expect(seen.size).toBe(0);
    await verifyRequest(input);
    await expectCode(() => verifyRequest(input), 'auth_replayed');
    // One millisecond past the last accepted instant (ts + 60 s): alive at every instant the skew check accepts.
    expect(calls[0]).toBe((Number(v.headers['ck-timestamp']) + 60) * 1000 + 1);
  });

  it('signRequest refuses malformed input', async () => {
    const base = {
      role: 'agent' as Role,
      keyId: v.keyId,
      privateKey: fromHex(v.seed),
      method: 'GET',
      path: '/v1/agents/me',
      hub,
      now: v.now,
    };
    for (const over of [
      { path: 'v1' },
      { path: '/a b' },
      { path: '/a#frag' },
      { method: 'G T' },
      { hub: 'https://hub.example/' },
      { keyId: '' },
      { role: 'root' as Role },
    ]) {
      await expectCode(() => signRequest({ ...base, ...over }), 'protocol_invalid');
    }
    expect(() => signRequest({ ...base, nonce: new Uint8Array(8) })).toThrow(RangeError);
    expect(() => signRequest({ ...base, privateKey: new Uint8Array(16) })).toThrow(RangeError);
    // Random nonces by default: two signatures of the same request differ.
    expect(signRequest(base)['ck-nonce']).not.toBe(signRequest(base)['ck-nonce']);
  });
});
