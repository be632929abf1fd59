// @vitest-environment node
import { ed25519 } from '@noble/curves/ed25519.js';
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { utf8Encode } from '../../../lib/bytes';
import { deviceKeyId, encodePublicKey } from '../../../lib/protocol/keys';
import { signRequest } from '../../../lib/protocol/request-signing';
import { intentEvents } from '../../../hub/events';
import { silentLogger } from '../../../hub/logger';
import { startHub } from '../../../hub/server';
import { tempDir } from './helpers';

describe('GET /v1/events on a real server', () => {
  it('streams over HTTP, unsubscribes when the client goes away, and close() ends open streams', async () => {
    const hub = await startHub({ port: 0, dataDir: tempDir(), logger: silentLogger });
    const privateKey = ed25519.utils.randomSecretKey();
    const publicKey = ed25519.getPublicKey(privateKey);
    const device = { role: 'human' as const, keyId: deviceKeyId(publicKey), privateKey };
    const sign = (method: string, path: string, body?: string) =>
      ({
        ...signRequest({
          ...device,
          method,
          path,
          body: body ? utf8Encode(body) : undefined,
          hub: hub.url,
          now: Date.now(),
        }),
      }) as Record<string, string>;
    const enrol = JSON.stringify({ enrollment_code: hub.enrollmentCode, device_key: encodePublicKey(publicKey) });
    const enrolled = await fetch(`${hub.url}/v1/accounts`, {
      method: 'POST',
      headers: { ...sign('POST', '/v1/accounts', enrol), 'content-type': 'application/json' },
      body: enrol,
    });
    expect(enrolled.status).toBe(201);

    const open = () => fetch(`${hub.url}/v1/events`, { headers: sign('GET', '/v1/events') });
    // A client that goes away: node:http, so the socket really closes (undici may park an aborted socket).
    const leaving = http.get(`${hub.url}/v1/events`, { headers: sign('GET', '/v1/events'), agent: false });
    const first = await new Promise<string>((resolve) =>
      leaving.on('response', (res) => res.once('data', (d: Buffer) => resolve(d.toString()))),
    );
    expect(first).toMatch(/^event: intents\ndata: \{"intents":\[\],"more":false\}\nid: [0-9]+\n\n$/);
    const kept = await open();
    await kept.body!.getReader().read();
    const count = () => intentEvents(hub.store).subscriberCount(device.keyId);
    expect(count()).toBe(2);

    leaving.destroy();
    for (let i = 0; i < 100 && count() > 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(count()).toBe(1);

    // The stream still open is ended by close(), which does not wait out its grace period for it.
    const started = Date.now();
    await hub.close();
    expect(count()).toBe(0);
    expect(Date.now() - started).toBeLessThan(2000);
  }, 20_000);
});
