// @vitest-environment node
// Forwarded client address and scheme (issue 16): honoured only when the TCP peer is a trusted proxy, from nowhere
// else. 127.0.0.2 plays the proxy and 127.0.0.1 anyone else (two loopback source addresses are two peers to the
// hub); the over-the-network version of this is in reachable-netns.test.ts.
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { afterEach, describe, expect, it } from 'vitest';
import { clientFromChain, normalizeAddress, parseForwarded } from '../../../hub/forwarded';
import { jsonLinesLogger } from '../../../hub/logger';
import { startHub, type RunningHub } from '../../../hub/server';
import { signKeyBinding } from '../../../lib/protocol/key-binding';
import { encodePublicKey } from '../../../lib/protocol/keys';
import { call } from '../../support/https-client';
import { tempDir } from './helpers';

const PROXY = '127.0.0.2';
const OTHER = '127.0.0.1';

/** POST /v1/agents (per-address limit: 10 at once) as a real agent would, from `localAddress` with `headers`. */
async function register(hubUrl: string, localAddress: string, headers: Record<string, string> = {}) {
  const seed = ed25519.utils.randomSecretKey();
  const signing_key = encodePublicKey(ed25519.getPublicKey(seed));
  const box_key = encodePublicKey(x25519.getPublicKey(x25519.utils.randomSecretKey()));
  const body = JSON.stringify({
    name: 'bot',
    signing_key,
    box_key,
    manifest: { markdown: '# bot' },
    requested_scopes: [],
    key_binding: signKeyBinding(seed, {
      hub: hubUrl,
      role: 'agent',
      signing_key,
      box_key,
      name: 'bot',
      time: Date.now(),
    }),
  });
  const res = await call(`${hubUrl}/v1/agents`, {
    method: 'POST',
    localAddress,
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  return res.status;
}

let hub: RunningHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

describe('forwarded header parsing', () => {
  it('RFC 7239 Forwarded: quoted values, IPv6 with port, case-insensitive names', () => {
    expect(
      parseForwarded(
        'for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711";PROTO=https;host="hub.test:8443"',
      ),
    ).toEqual([
      { for: '192.0.2.60', proto: 'http' },
      { for: '[2001:db8:cafe::17]:4711', proto: 'https', host: 'hub.test:8443' },
    ]);
  });

  it('the client is the first address from the right that is not a trusted proxy; what the client wrote counts for nothing', () => {
    const trusted = new Set(['10.0.0.5', '10.0.0.6']);
    // The client sent "X-Forwarded-For: 1.1.1.1"; the proxy appended the address it saw.
    expect(clientFromChain(['1.1.1.1', '198.51.100.7'], '10.0.0.5', trusted)).toBe('198.51.100.7');
    // Two trusted hops: skipped from the right.
    expect(clientFromChain(['198.51.100.7', '10.0.0.6'], '10.0.0.5', trusted)).toBe('198.51.100.7');
    expect(clientFromChain(['[2001:DB8::1]:4711'], '10.0.0.5', trusted)).toBe('2001:db8::1');
    expect(clientFromChain(['::ffff:198.51.100.7'], '10.0.0.5', trusted)).toBe('198.51.100.7');
    // Nothing forwarded, or garbage where the client should be: the proxy itself (tighter limits, not looser).
    expect(clientFromChain([], '10.0.0.5', trusted)).toBe('10.0.0.5');
    expect(clientFromChain(['1.1.1.1', 'unknown'], '10.0.0.5', trusted)).toBe('10.0.0.5');
    expect(normalizeAddress('hub.test')).toBeNull();
  });
});

describe('a hub trusting one proxy (X-Forwarded-*)', () => {
  it('per-address limits use the forwarded address from the proxy, and the peer address for anyone else', async () => {
    const lines: string[] = [];
    hub = await startHub({
      port: 0,
      dataDir: tempDir(),
      trustedProxies: [PROXY],
      logger: jsonLinesLogger((l) => lines.push(l)),
    });
    const url = hub.url;
    // Eleven clients behind the proxy: eleven budgets, although the proxy is one peer.
    const viaProxy: number[] = [];
    for (let i = 1; i <= 11; i++)
      viaProxy.push(await register(url, PROXY, { 'x-forwarded-for': `203.0.113.9, 198.51.100.${i}` }));
    expect(viaProxy).toEqual(Array(11).fill(201));
    // One client behind the proxy cannot get more by writing its own X-Forwarded-For entries in front.
    const oneClient: number[] = [];
    for (let i = 1; i <= 11; i++)
      oneClient.push(await register(url, PROXY, { 'x-forwarded-for': `203.0.113.${i}, 198.51.100.200` }));
    expect(oneClient.at(-1)).toBe(429);
    // Anyone else sending the same headers is just its own address.
    const direct: number[] = [];
    for (let i = 1; i <= 11; i++)
      direct.push(await register(url, OTHER, { 'x-forwarded-for': `198.51.100.${100 + i}` }));
    expect(direct.slice(0, 10)).toEqual(Array(10).fill(201));
    expect(direct.at(-1)).toBe(429);

    const clients = lines
      .map((l) => JSON.parse(l) as { event: string; client?: string })
      .filter((e) => e.event === 'request');
    expect(clients.slice(0, 11).map((e) => e.client)).toEqual(
      Array.from({ length: 11 }, (_, i) => `198.51.100.${i + 1}`),
    );
    expect(new Set(clients.slice(22).map((e) => e.client))).toEqual(new Set([OTHER]));
  });

  it('the scheme and host the proxy forwards are the origin checked; the same headers from anyone else are ignored', async () => {
    hub = await startHub({ port: 0, dataDir: tempDir(), trustedProxies: [PROXY], logger: jsonLinesLogger(() => {}) });
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'hub.example.com' };
    const fromProxy = await call(`${hub.url}/v1/health`, { localAddress: PROXY, headers: forwarded });
    expect(fromProxy.status).toBe(421);
    expect(JSON.parse(fromProxy.body).error).toMatchObject({
      code: 'wrong_hub_origin',
      message: `this hub is ${hub.url}; you used https://hub.example.com`,
      hub_origin: hub.url,
    });
    const fromOther = await call(`${hub.url}/v1/health`, { localAddress: OTHER, headers: forwarded });
    expect(fromOther.status).toBe(200);
    // The proxy forwarding what the client really used passes.
    const honest = await call(`${hub.url}/v1/health`, {
      localAddress: PROXY,
      headers: { 'x-forwarded-proto': 'http', 'x-forwarded-host': new URL(hub.url).host, host: 'upstream:1' },
    });
    expect(honest.status).toBe(200);
  });
});

describe('a hub trusting one proxy (Forwarded, RFC 7239)', () => {
  it('reads Forwarded only; X-Forwarded-* from the same proxy is ignored', async () => {
    const lines: string[] = [];
    hub = await startHub({
      port: 0,
      dataDir: tempDir(),
      trustedProxies: [PROXY],
      proxyHeaders: 'forwarded',
      logger: jsonLinesLogger((l) => lines.push(l)),
    });
    const host = new URL(hub.url).host;
    const ok = await call(`${hub.url}/v1/health`, {
      localAddress: PROXY,
      headers: { forwarded: `for=198.51.100.1;proto=http;host="${host}"`, 'x-forwarded-proto': 'https' },
    });
    expect(ok.status).toBe(200);
    const mismatch = await call(`${hub.url}/v1/health`, {
      localAddress: PROXY,
      headers: { forwarded: `for="[2001:db8::1]:4711";proto=https;host=hub.example.com` },
    });
    expect(mismatch.status).toBe(421);
    const ignored = await call(`${hub.url}/v1/health`, {
      localAddress: PROXY,
      headers: { 'x-forwarded-for': '198.51.100.9' },
    });
    expect(ignored.status).toBe(200);
    const clients = lines
      .map((l) => JSON.parse(l) as { event: string; client?: string })
      .filter((e) => e.event === 'request');
    expect(clients.map((e) => e.client)).toEqual(['198.51.100.1', '2001:db8::1', PROXY]);
  });
});
