// @vitest-environment node
// Issue 16, "Holds under load and abuse": request bodies are capped per route before they are read, signed routes
// check everything the headers can show before reading, bodies are strict JSON (fatal UTF-8, no duplicate names),
// paths are normal, and a client leaving mid-upload is an aborted request, not a hub failure (hub/ingress.ts).
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentClient, generateAgentKeys } from '../../../lib/agent';
import { utf8Encode } from '../../../lib/bytes';
import { signRequest } from '../../../lib/protocol/request-signing';
import { BodyBudget, BODY_RULES, bodyRuleFor, SMALL_BODY_BYTES } from '../../../hub/ingress';
import { startHub, type RunningHub } from '../../../hub/server';
import { jsonLinesLogger } from '../../../hub/logger';
import { hubFixture, ORIGIN } from './flow';
import { ROOT, tempDir } from './helpers';

/** A body that never ends: a route that tried to read it would never answer. */
const endless = () => new ReadableStream<Uint8Array>({ pull: () => new Promise<void>(() => {}) });

const json = { 'content-type': 'application/json' };

describe('body caps, before reading', () => {
  it('a declared Content-Length over the route cap is a 413 at once, and the connection is closed', async () => {
    const hub = await hubFixture();
    for (const [path, cap] of [
      ['/v1/accounts', 4 * 1024],
      ['/v1/pairings', 8 * 1024],
      ['/v1/intents', 64 * 1024],
    ] as const) {
      const res = await hub.app.request(path, {
        method: 'POST',
        headers: { ...json, 'content-length': String(cap + 1) },
        body: endless(),
        duplex: 'half',
      } as RequestInit);
      expect(res.status).toBe(413);
      expect(res.headers.get('connection')).toBe('close');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
    }
  });

  it('a chunked body is counted while it streams and cut at the cap', async () => {
    const hub = await hubFixture();
    const res = await hub.app.request('/v1/accounts', {
      method: 'POST',
      headers: json,
      body: '{"enrollment_code":"' + 'x'.repeat(5000) + '"}',
    });
    expect(res.status).toBe(413);
  });

  it('GET takes no body: one announced is refused unread', async () => {
    const hub = await hubFixture();
    const res = await hub.app.request('/v1/health', {
      method: 'GET',
      headers: { 'content-length': '10' },
    });
    expect(res.status).toBe(413);
    expect(bodyRuleFor('GET', '/v1/health').maxBytes).toBe(0);
  });

  it('unauthenticated routes have small caps (registration only as large as a 64 KiB manifest needs)', () => {
    const open = BODY_RULES.filter((r) => r.access === 'open');
    expect(open.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      'POST /v1/accounts',
      'POST /v1/agents',
      'POST /v1/pairings',
    ]);
    for (const r of open) if (r.path !== '/v1/agents') expect(r.maxBytes).toBeLessThanOrEqual(8 * 1024);
    expect(bodyRuleFor('POST', '/v1/intents/int_x/execute')).toEqual({ maxBytes: 64 * 1024, access: 'signed' });
    // A decision may carry an http.request's sealed response: signed, with room for a 1 MiB body as base64url.
    expect(bodyRuleFor('POST', '/v1/intents/int_x/decision')).toMatchObject({ access: 'signed' });
    expect(bodyRuleFor('POST', '/v1/intents/int_x/decision').maxBytes).toBeGreaterThan(2 * 1024 * 1024);
  });
});

describe('one way to read a body', () => {
  it('no hub module reads a request body except hub/ingress.ts readBody (caps and budgets apply to every read)', () => {
    const files = readdirSync(path.join(ROOT, 'hub'), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && f !== 'ingress.ts')
      .map((f) => [f, readFileSync(path.join(ROOT, 'hub', f), 'utf8')] as const);
    expect(files.length).toBeGreaterThan(20);
    // Reading the node request's stream (forwarded.ts may look at its socket and headers, which is no body read).
    const readers =
      /\.req\.(json|text|arrayBuffer|blob|formData|parseBody)\(|\.req\.raw\.body\b|incoming\??\.(on|once|read|pipe|resume)\(|for await \([^)]*incoming/;
    expect(files.filter(([, text]) => readers.test(text)).map(([f]) => f)).toEqual([]);
  });
});

describe('signed routes: the headers are checked before the body is read', () => {
  it('an unknown key, a stale timestamp or missing headers are refused while the body is still arriving', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const send = (headers: Record<string, string>) =>
      hub.app.request('/v1/vault', {
        method: 'POST',
        headers: { ...json, ...headers },
        body: endless(),
        duplex: 'half',
      } as RequestInit);
    const signed = (keyId: string, now: number) =>
      signRequest({
        role: 'human',
        keyId,
        privateKey: device.privateKey,
        method: 'POST',
        path: '/v1/vault',
        hub: ORIGIN,
        now,
      });
    const cases: [Record<string, string>, string][] = [
      [{ ...signed('dev_AAAAAAAAAAAAAAAAAAAAAA', hub.clock.now) }, 'auth_unknown_key'],
      [{ ...signed(device.keyId, hub.clock.now - 61_000) }, 'auth_stale'],
      [{}, 'auth_missing'],
    ];
    for (const [headers, code] of cases) {
      const res = await send(headers);
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
      expect(res.headers.get('connection')).toBe('close');
    }
  });
});

describe('BodyBudget', () => {
  it('counts bytes taken and given back, and keeps room for small bodies that large ones cannot use', () => {
    const b = new BodyBudget(4 * SMALL_BODY_BYTES, 3 * SMALL_BODY_BYTES);
    // A large body may grow only to the large share...
    expect(b.take(SMALL_BODY_BYTES, 0)).toBe(true);
    expect(b.take(2 * SMALL_BODY_BYTES, SMALL_BODY_BYTES)).toBe(true);
    expect(b.take(1, 3 * SMALL_BODY_BYTES)).toBe(false);
    // ...while small bodies still fit in the rest.
    expect(b.take(SMALL_BODY_BYTES, 0)).toBe(true);
    expect(b.take(1, 0)).toBe(false);
    expect(b.inUse).toBe(4 * SMALL_BODY_BYTES);
    b.give(3 * SMALL_BODY_BYTES);
    expect(b.take(1, 3 * SMALL_BODY_BYTES)).toBe(true);
  });
});

describe('strict JSON bodies', () => {
  const register = (hub: Awaited<ReturnType<typeof hubFixture>>, body: Uint8Array | string) =>
    hub.app.request('/v1/agents', { method: 'POST', headers: json, body: body as BodyInit });

  it('invalid UTF-8 in a registration is refused with a typed error, not replaced', async () => {
    const hub = await hubFixture();
    const valid = utf8Encode('{"name":"é-bot"}');
    const bad = new Uint8Array([...valid.subarray(0, 9), 0xc3, 0x28, ...valid.subarray(11)]);
    const res = await register(hub, bad);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('protocol_invalid');
    expect(body.error.message).toMatch(/UTF-8/);
  });

  it('duplicate member names are refused in a registration and in a signed body', async () => {
    const hub = await hubFixture();
    const res = await register(hub, '{"name":"a","name":"b"}');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/duplicate/);

    const device = await hub.enrolledDevice();
    const text = '{"claim_code":"AAAA-AAAA","claim_code":"BBBB-BBBB"}';
    const signed = await device.send('POST', '/v1/claims/lookup', undefined, (init) => {
      init.body = text;
      init.headers['content-type'] = 'application/json';
      Object.assign(
        init.headers,
        signRequest({
          role: 'human',
          keyId: device.keyId,
          privateKey: device.privateKey,
          method: 'POST',
          path: '/v1/claims/lookup',
          body: utf8Encode(text),
          hub: ORIGIN,
          now: hub.clock.now,
        }),
      );
    });
    expect(signed.status).toBe(400);
    expect(signed.json.error.code).toBe('protocol_invalid');
    expect(signed.json.error.message).toMatch(/duplicate/);
  });
});

describe('over a real HTTP server', () => {
  let hub: RunningHub | undefined;
  const lines: string[] = [];
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
    lines.length = 0;
  });
  const start = async () => {
    hub = await startHub({ port: 0, dataDir: tempDir(), logger: jsonLinesLogger((l) => lines.push(l)) });
    return hub;
  };

  /** Sends `raw` on a fresh socket; resolves with everything the server wrote before closing or `idleMs` of quiet. */
  const rawRequest = (port: number, raw: string, idleMs = 1000) =>
    new Promise<string>((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      let out = '';
      let timer = setTimeout(() => socket.destroy(), idleMs);
      socket.on('data', (d) => {
        out += d.toString('utf8');
        clearTimeout(timer);
        timer = setTimeout(() => socket.destroy(), idleMs);
      });
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(out);
      });
      socket.on('error', reject);
      socket.write(raw);
    });

  it('a client leaving mid-upload is logged as request_aborted, not as a 500 failure', async () => {
    const { port } = await start();
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      `POST /v1/agents HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 2000\r\n\r\n{"name":"half`,
    );
    // Wait (bounded) until the hub started reading, then leave.
    await new Promise((r) => setTimeout(r, 200));
    socket.destroy();
    for (let i = 0; i < 50 && !lines.some((l) => l.includes('"request"')); i++)
      await new Promise((r) => setTimeout(r, 100));
    const events = lines.map((l) => JSON.parse(l) as { msg?: string; event?: string; status?: number });
    const text = lines.join('\n');
    expect(text).toContain('request_aborted');
    expect(text).not.toContain('request_failed');
    expect(events.some((e) => e.status === 500)).toBe(false);
  });

  it('paths with //, /./ or /../ (also as %2e) are refused before routing; the signature covers the raw target', async () => {
    const { port, url } = await start();
    for (const path of ['/v1/./health', '//v1/health', '/v1/../v1/health', '/v1/%2e/health', '/v1/%2E%2e/v1/health']) {
      const out = await rawRequest(
        port,
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
      );
      expect(out, path).toMatch(/^HTTP\/1\.1 400/);
      expect(out, path).toContain('protocol_invalid');
    }
    const ok = await rawRequest(
      port,
      `GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
    );
    expect(ok).toMatch(/^HTTP\/1\.1 200/);
    // The signature covers the target exactly as sent: a request signed for one path and sent as another that
    // normalises to it is refused (it used to pass: the hub verified against the normalised URL), and a target the
    // URL parser would re-encode (`"` becomes %22) verifies as sent.
    const keys = generateAgentKeys();
    const agent = new AgentClient({ fetch: (u, i) => fetch(u, i), keys });
    const agentId = (
      await agent.register({ hub: url, name: 'path-bot', manifest: { markdown: '# p' }, requestedScopes: [] })
    ).agent_id;
    const get = (sentPath: string, signedPath: string) => {
      const headers = signRequest({
        role: 'agent',
        keyId: agentId,
        privateKey: keys.signingPrivate,
        method: 'GET',
        path: signedPath,
        hub: url,
      });
      return new Promise<{ status: number; code: string }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: sentPath, headers: { ...headers } }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              code: (JSON.parse(text) as { error?: { code: string } }).error?.code ?? '',
            }),
          );
        });
        req.on('error', reject);
        req.end();
      });
    };
    expect(await get('/v1/agents/me', '/v1/agents/me')).toEqual({ status: 200, code: '' });
    expect(await get('/v1/x/../agents/me', '/v1/agents/me')).toEqual({ status: 400, code: 'protocol_invalid' });
    // Past authentication (the signature verified): the unclaimed agent is told so.
    expect(await get('/v1/intents/int_"q"', '/v1/intents/int_"q"')).toEqual({ status: 403, code: 'agent_not_claimed' });
  });
});
