// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { createHubApp } from '../../../hub/app';
import { atOrigin } from './flow';
import { HubError } from '../../../hub/errors';
import { jsonLinesLogger } from '../../../hub/logger';
import { SECURITY_HEADERS } from '../../../hub/middleware';
import { bodyLimitFor, readBody } from '../../../hub/ingress';
import { openSqliteStore } from '../../../hub/store/sqlite';
import { StoreError } from '../../../hub/store/errors';
import { ProtocolError } from '../../../lib/protocol/errors';
import { HUB_VERSION } from '../../../hub/version';

const ORIGIN = 'http://127.0.0.1:8787';

/** An app over an in-memory store, logging into `lines`. Tests may add routes to exercise error paths. */
function setup() {
  const lines: string[] = [];
  const store = openSqliteStore({ file: ':memory:' });
  const app = atOrigin(
    createHubApp({
      store,
      now: () => 1_700_000_000_000,
      logger: jsonLinesLogger((l) => lines.push(l)),
      origin: ORIGIN,
    }),
  );
  return { app, lines, store };
}

async function errorBody(res: Response) {
  return (await res.json()) as { error: { code: string; message: string; request_id: string } };
}

function expectSecurityHeaders(res: Response) {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(name), name).toBe(value);
}

describe('hub app', () => {
  it('GET /v1/health answers {ok, version, hub_key, origin} with the security headers and a request id', async () => {
    const { app } = setup();
    const res = await app.request('/v1/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      ok: true,
      version: HUB_VERSION,
      hub_key: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      origin: ORIGIN,
    });
    expectSecurityHeaders(res);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('echoes a well-formed client request id and replaces a malformed one', async () => {
    const { app } = setup();
    const ok = await app.request('/v1/health', { headers: { 'x-request-id': 'client-abc_123' } });
    expect(ok.headers.get('x-request-id')).toBe('client-abc_123');
    const bad = await app.request('/v1/health', { headers: { 'x-request-id': 'evil\tinjected "x"' } });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('an unknown path is a 404 JSON error carrying the request id, with the security headers', async () => {
    const { app } = setup();
    const res = await app.request('/v1/nope', { headers: { 'x-request-id': 'rid-404' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await errorBody(res)).toEqual({
      error: { code: 'not_found', message: 'No such endpoint.', request_id: 'rid-404' },
    });
    expect(res.headers.get('x-request-id')).toBe('rid-404');
    expectSecurityHeaders(res);
  });

  it('a body over 64 KiB is a 413 JSON error, by Content-Length and while streaming', async () => {
    const { app } = setup();
    app.post('/v1/test-echo', async (c) => c.json({ n: (await readBody(c)).length }));
    const big = 'x'.repeat(64 * 1024 + 1);
    const declared = await app.request('/v1/health', {
      method: 'POST',
      body: big,
      headers: { 'content-length': String(big.length), 'content-type': 'application/json' },
    });
    expect(declared.status).toBe(413);
    expect((await errorBody(declared)).error.code).toBe('payload_too_large');
    expectSecurityHeaders(declared);
    const json = { 'content-type': 'application/json' };
    const streamed = await app.request('/v1/test-echo', { method: 'POST', body: big, headers: json });
    expect(streamed.status).toBe(413);
    expect((await errorBody(streamed)).error.code).toBe('payload_too_large');
    const fits = await app.request('/v1/test-echo', { method: 'POST', body: 'x'.repeat(64 * 1024), headers: json });
    expect(await fits.json()).toEqual({ n: 64 * 1024 });
  });

  it('POST /v1/agents has room for a 64 KiB manifest after worst-case JSON escaping; GET none; else 64 KiB', () => {
    expect(bodyLimitFor('GET', '/v1/health')).toBe(0);
    expect(bodyLimitFor('POST', '/v1/intents')).toBe(64 * 1024);
    expect(bodyLimitFor('post', '/v1/agents')).toBeGreaterThanOrEqual(
      JSON.stringify('\u0001'.repeat(64 * 1024)).length,
    );
    expect(bodyLimitFor('GET', '/v1/agents')).toBe(0);
    // A decision may carry an http.request's sealed response (up to a 1 MiB body, base64url).
    expect(bodyLimitFor('POST', '/v1/intents/int_x/decision')).toBeGreaterThan(2 * 1024 * 1024);
  });

  it('an unexpected error is a 500 `internal` with a generic message; the log names neither the message nor data', async () => {
    const { app, lines } = setup();
    app.get('/v1/test-boom', () => {
      throw new Error('db password is hunter2');
    });
    const res = await app.request('/v1/test-boom', { headers: { 'x-request-id': 'rid-500' } });
    expect(res.status).toBe(500);
    expect(await errorBody(res)).toEqual({
      error: { code: 'internal', message: 'Internal error.', request_id: 'rid-500' },
    });
    expectSecurityHeaders(res);
    const log = lines.join('\n');
    expect(log).not.toContain('hunter2');
    const failure = lines.map((l) => JSON.parse(l)).find((l) => l.event === 'request_failed');
    expect(failure).toMatchObject({ level: 'error', request_id: 'rid-500', code: 'internal', error: 'Error' });
    expect(failure.at).toMatch(/app\.test\.ts:\d+:\d+$/);
  });

  it('maps HubError, ProtocolError, StoreError and malformed JSON to API codes and statuses', async () => {
    const { app } = setup();
    app.get('/v1/test-hub', () => {
      throw new HubError('rate_limited', undefined, { headers: { 'Retry-After': '7' } });
    });
    app.get('/v1/test-stale', () => {
      throw new ProtocolError('auth_stale', 'The request timestamp is too far from the hub clock.');
    });
    app.get('/v1/test-missing', () => {
      throw new StoreError('not_found', 'get intent: no such intent');
    });
    app.get('/v1/test-conflict', () => {
      throw new StoreError('conflict', 'create intent: already exists');
    });
    app.get('/v1/test-storage', () => {
      throw new StoreError('storage_failed', 'SQLITE_IOERR at /secret/path');
    });
    app.post('/v1/test-json', async (c) => c.json(await c.req.json()));

    const limited = await app.request('/v1/test-hub');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect((await errorBody(limited)).error.code).toBe('rate_limited');

    const stale = await app.request('/v1/test-stale');
    expect(stale.status).toBe(401);
    expect((await errorBody(stale)).error.code).toBe('auth_stale');

    const missing = await app.request('/v1/test-missing');
    expect(missing.status).toBe(404);
    expect((await errorBody(missing)).error).toMatchObject({
      code: 'not_found',
      message: 'get intent: no such intent',
    });

    // A route must translate store conflicts into its API code (idempotency_conflict, ...); one that leaks is a bug.
    const conflict = await app.request('/v1/test-conflict');
    expect(conflict.status).toBe(500);
    expect((await errorBody(conflict)).error).toEqual(
      expect.objectContaining({ code: 'internal', message: 'Internal error.' }),
    );

    const storage = await app.request('/v1/test-storage');
    expect(storage.status).toBe(500);
    expect((await errorBody(storage)).error.message).toBe('Internal error.');

    const json = await app.request('/v1/test-json', {
      method: 'POST',
      body: '{"secret": "s3cr3t"',
      headers: { 'content-type': 'application/json' },
    });
    expect(json.status).toBe(400);
    const body = await errorBody(json);
    expect(body.error.code).toBe('protocol_invalid');
    expect(JSON.stringify(body)).not.toContain('s3cr3t');
  });

  it('the access log has method, path without query, status, duration and request id, and no headers or body', async () => {
    const { app, lines } = setup();
    app.post('/v1/test-echo', async (c) => c.json({ n: (await readBody(c)).length }));
    const res = await app.request('/v1/test-echo?token=query-secret', {
      method: 'POST',
      headers: {
        authorization: 'Bearer tok_SUPERSECRET',
        'x-clawkeep-signature': 'sig-SECRET',
        'content-type': 'application/json',
        'x-request-id': 'rid-log',
      },
      body: JSON.stringify({ password: 'body-SECRET-value' }),
    });
    expect(res.status).toBe(200);
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(Object.keys(entry).sort()).toEqual([
      'client',
      'duration_ms',
      'event',
      'level',
      'method',
      'path',
      'request_id',
      'status',
      'time',
    ]);
    expect(entry).toMatchObject({
      event: 'request',
      method: 'POST',
      path: '/v1/test-echo',
      status: 200,
      request_id: 'rid-log',
      // app.request has no socket; over TCP this is the peer (or a trusted proxy's forwarded client: forwarded.ts).
      client: 'in-process',
    });
    expect(typeof entry.duration_ms).toBe('number');
    for (const secret of ['SUPERSECRET', 'Bearer', 'sig-SECRET', 'body-SECRET', 'password', 'query-secret', 'token=']) {
      expect(lines[0]).not.toContain(secret);
    }
  });

  it('logs 404, 413 and request-guard refusals too', async () => {
    const { app, lines } = setup();
    await app.request('/v1/missing');
    await app.request('/v1/health', {
      method: 'POST',
      body: 'x',
      headers: { 'content-length': String(1 << 20), 'content-type': 'application/json' },
    });
    await app.request('http://evil.example:8787/v1/health');
    expect(lines.map((l) => JSON.parse(l).status)).toEqual([404, 413, 421]);
  });

  it('refuses an origin that is not a bare origin', async () => {
    const store = openSqliteStore({ file: ':memory:' });
    expect(() =>
      createHubApp({ store, logger: jsonLinesLogger(() => {}), origin: 'http://127.0.0.1:8787/path' }),
    ).toThrow(TypeError);
    await store.close();
  });
});
