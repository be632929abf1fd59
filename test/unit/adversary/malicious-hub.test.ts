// @vitest-environment node
// The malicious-hub harness itself: each attack changes what the client gets, and nothing else.
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonLinesLogger } from '../../../hub/logger';
import { startHub, type RunningHub } from '../../../hub/server';
import { utf8Encode } from '../../../lib/bytes';
import { deviceKeyId, encodePublicKey } from '../../../lib/protocol/keys';
import { signRequest } from '../../../lib/protocol/request-signing';
import { MaliciousHub, jsonAnswer } from '../../adversary/malicious-hub';
import { hubFixture } from '../hub/flow';
import { tempDir } from '../hub/helpers';

describe('MaliciousHub over the in-process hub', () => {
  it('passes requests through untouched and records them', async () => {
    const hub = await hubFixture();
    const evil = MaliciousHub.inProcess(hub.app.request);
    const res = await evil.fetch('http://127.0.0.1:8787/v1/health');
    expect(await res.json()).toMatchObject({ ok: true });
    expect(evil.exchanges).toHaveLength(1);
    expect(evil.last('GET /v1/health')?.answer.status).toBe(200);
  });

  it('rewrites JSON answers for a route, a bounded number of times, and stops on request', async () => {
    const hub = await hubFixture();
    const evil = MaliciousHub.inProcess(hub.app.request);
    const attack = evil.rewriteJson('GET /v1/health', (json) => void (json.version = 'forged'), 1);
    expect((await (await evil.fetch('/v1/health')).json()).version).toBe('forged');
    expect((await (await evil.fetch('/v1/health')).json()).version).not.toBe('forged');
    expect(attack.hits).toBe(1);
    const forever = evil.rewriteJson('* /v1/:what', () => ({ replaced: true }));
    expect(await (await evil.fetch('/v1/health')).json()).toEqual({ replaced: true });
    forever.stop();
    expect((await (await evil.fetch('/v1/health')).json()).ok).toBe(true);
  });

  it('replays a recorded answer without asking the hub, and withholds with 503', async () => {
    const hub = await hubFixture();
    const evil = MaliciousHub.inProcess(hub.app.request);
    await evil.fetch('/v1/health');
    const recorded = evil.last('GET /v1/health')!;
    evil.replay('GET /v1/health', { ...recorded, answer: jsonAnswer({ ok: 'replayed' }) });
    expect(await (await evil.fetch('/v1/health')).json()).toEqual({ ok: 'replayed' });
    expect(evil.last('GET /v1/health')!.upstream).toBeUndefined();
    evil.reset();
    evil.withhold('GET /v1/health');
    const res = await evil.fetch('/v1/health');
    expect(res.status).toBe(503);
    expect((await res.json()).error.code).toBe('unavailable');
  });

  it('matches :params and * segments only within one path segment, and ignores the query', async () => {
    const hub = await hubFixture();
    const evil = MaliciousHub.inProcess(hub.app.request);
    const attack = evil.withhold('GET /v1/intents/:id');
    expect((await evil.fetch('/v1/intents/int_1?x=1')).status).toBe(503);
    expect((await evil.fetch('/v1/intents/int_1/execute')).status).not.toBe(503);
    expect(attack.hits).toBe(1);
  });
});

describe('MaliciousHub as an HTTP reverse proxy', () => {
  let running: RunningHub | undefined;
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    await running?.close();
    running = close = undefined;
  });

  it('fronts a real hub started with --public-origin: signed requests pass, answers can be forged', async () => {
    let hubUrl = '';
    const evil = MaliciousHub.overHttp(() => hubUrl);
    const proxy = await evil.listen();
    close = proxy.close;
    running = await startHub({
      port: 0,
      dataDir: tempDir(),
      publicOrigin: proxy.url,
      logger: jsonLinesLogger(() => {}),
    });
    hubUrl = `http://127.0.0.1:${running.port}`;
    expect(running.url).toBe(proxy.url);

    const privateKey = ed25519.utils.randomSecretKey();
    const publicKey = ed25519.getPublicKey(privateKey);
    const body = JSON.stringify({ enrollment_code: running.enrollmentCode, device_key: encodePublicKey(publicKey) });
    const headers = signRequest({
      role: 'human',
      keyId: deviceKeyId(publicKey),
      privateKey,
      method: 'POST',
      path: '/v1/accounts',
      body: utf8Encode(body),
      hub: proxy.url,
      now: Date.now(),
    });
    const enrolled = await fetch(`${proxy.url}/v1/accounts`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body,
    });
    expect(enrolled.status).toBe(201);

    evil.rewriteJson('GET /v1/health', (json) => void (json.version = 'forged'));
    expect((await (await fetch(`${proxy.url}/v1/health`)).json()).version).toBe('forged');
  });
});
