// @vitest-environment node
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { encodePublicKey } from '../../../lib/protocol/keys';
import { signKeyBinding } from '../../../lib/protocol/key-binding';
import { startHub } from '../../../hub/server';
import { jsonLinesLogger } from '../../../hub/logger';
import { tempDir } from './helpers';

function register(url: string, localAddress: string): Promise<number> {
  const seed = ed25519.utils.randomSecretKey();
  const signing_key = encodePublicKey(ed25519.getPublicKey(seed));
  const box_key = encodePublicKey(x25519.getPublicKey(x25519.utils.randomSecretKey()));
  const body = JSON.stringify({
    name: 'bot',
    signing_key,
    box_key,
    manifest: { markdown: '# bot' },
    requested_scopes: [],
    key_binding: signKeyBinding(seed, { hub: url, role: 'agent', signing_key, box_key, name: 'bot', time: Date.now() }),
  });
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}/v1/agents`,
      { method: 'POST', localAddress, headers: { 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

let close: (() => Promise<void>) | undefined;
afterEach(async () => close?.());

describe('per-client limits see the real peer address', () => {
  it('one client exhausting its registrations does not block another address', async () => {
    const hub = await startHub({ port: 0, dataDir: tempDir(), logger: jsonLinesLogger(() => {}) });
    close = () => hub.close();
    const first: number[] = [];
    for (let i = 0; i < 11; i++) first.push(await register(hub.url, '127.0.0.1'));
    expect(first.at(-1)).toBe(429);
    // 127.0.0.2 is another loopback source address: a different client to the hub.
    expect(await register(hub.url, '127.0.0.2')).toBe(201);
  });
});
