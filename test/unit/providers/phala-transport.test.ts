// @vitest-environment node
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  backoffDelay,
  createPhalaClient,
  DEFAULT_RETRY,
  normalizeBaseUrl,
  PhalaApiError,
  sanitizeDetail,
  type PhalaClientOptions,
} from '../../../lib/providers/phala';

/**
 * Transport behaviour the CVM simulator cannot provoke (it has no failure injection for the API): a tiny node:http
 * server per test that speaks the API's JSON error shape `{"detail": …}` and fails on purpose. Real HTTP on
 * loopback; no timings are asserted — waits between attempts go through an injected `sleep` that records them.
 */

const API_KEY = 'phak_transport_test_key_0123456789';
const CVM = '0123456789abcdef0123456789abcdef';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

const servers: Server[] = [];

async function serve(handler: Handler): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      handler(req, res, seen.length);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`, seen };
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

const STATE = { status: 'running', uptime_seconds: 12 };
const CVM_OBJECT = {
  id: CVM,
  app_id: 'ab'.repeat(20),
  name: 'agent',
  status: 'running',
  created_at: '2026-01-01T00:00:00Z',
  instance_type: 'tdx.small',
  kms_info: { id: 'kms', slug: 'kms', encrypted_env_pubkey: 'cd'.repeat(32) },
  public_urls: [],
  guest_agent_url: null,
};
const PROVISION = {
  name: 'agent-one',
  composeFile: {
    dockerComposeFile: 'services: {}\n',
    allowedEnvs: ['A'],
    gatewayEnabled: true,
    kmsEnabled: true as const,
    publicLogs: false,
  },
  envKeys: ['A'],
};

function client(url: string, extra: Partial<PhalaClientOptions> = {}) {
  const waits: number[] = [];
  const c = createPhalaClient({
    apiKey: API_KEY,
    baseUrl: url,
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...extra,
  });
  return { c, waits };
}

async function caught(promise: Promise<unknown>): Promise<PhalaApiError> {
  const err = await promise.then(
    () => {
      throw new Error('expected a PhalaApiError');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PhalaApiError);
  return err as PhalaApiError;
}

describe('headers and URLs', () => {
  it('sends the key only in X-API-Key, with X-Phala-Version; never in the URL', async () => {
    const { url, seen } = await serve((_q, res) => json(res, 200, STATE));
    const { c } = client(url);
    await c.getState(CVM);
    expect(seen[0]!.headers['x-api-key']).toBe(API_KEY);
    expect(seen[0]!.headers['x-phala-version']).toBe('2026-01-21');
    expect(seen[0]!.headers.cookie).toBeUndefined();
    expect(seen[0]!.url).toBe(`/api/v1/cvms/${CVM}/state`);
    expect(seen[0]!.url).not.toContain(API_KEY);
    await client(url, { apiVersion: '2026-06-23' }).c.getState(CVM);
    expect(seen[1]!.headers['x-phala-version']).toBe('2026-06-23');
  });

  it('never sends the API key to a guest agent', async () => {
    const { url, seen } = await serve((_q, res) =>
      json(res, 200, { quote: 'aa'.repeat(100), event_log: '[]', report_data: 'bb'.repeat(64), vm_config: '{}' }),
    );
    const { c } = client('https://cloud-api.phala.com/api/v1');
    const quote = await c.guestGetQuote(url.replace('/api/v1', '/guest/x'), 'bb'.repeat(64));
    expect(quote.reportData).toBe('bb'.repeat(64));
    expect(seen[0]!.url).toBe(`/guest/x/GetQuote?report_data=${'bb'.repeat(64)}`);
    expect(seen[0]!.headers['x-api-key']).toBeUndefined();
    expect(seen[0]!.headers['x-phala-version']).toBeUndefined();
  });

  it('accepts https anywhere and http on loopback only; no credentials, query or fragment', () => {
    expect(normalizeBaseUrl('https://cloud-api.phala.com/api/v1/')).toBe('https://cloud-api.phala.com/api/v1');
    expect(normalizeBaseUrl('http://127.0.0.1:8080/api/v1')).toBe('http://127.0.0.1:8080/api/v1');
    expect(normalizeBaseUrl('http://localhost:1/x')).toBe('http://localhost:1/x');
    for (const bad of [
      'http://cloud-api.phala.com/api/v1',
      'https://u:p@host/api',
      'https://host/api?key=1',
      'https://host/#x',
      'ftp://host',
      'nonsense',
    ]) {
      expect(() => normalizeBaseUrl(bad)).toThrow(PhalaApiError);
    }
    expect(() => createPhalaClient({ apiKey: API_KEY, baseUrl: 'http://example.com/api/v1' })).toThrow(/https/);
    expect(() => createPhalaClient({ apiKey: 'has space' })).toThrow(PhalaApiError);
    expect(() => createPhalaClient({ apiKey: '' })).toThrow(PhalaApiError);
  });

  it('refuses a guest URL that is plain http off loopback', async () => {
    const { c } = client('https://cloud-api.phala.com/api/v1');
    expect((await caught(c.guestInfo('http://evil.example/guest'))).code).toBe('invalid_argument');
  });

  it('refuses redirects, so the key never follows one to another origin', async () => {
    const other = await serve((_q, res) => json(res, 200, STATE));
    const { url, seen } = await serve((_q, res) => {
      res.writeHead(307, { location: `${other.url}/cvms/${CVM}/state` });
      res.end();
    });
    const { c } = client(url, { retry: { retries: 0 } });
    const err = await caught(c.getState(CVM));
    expect(err.code).toBe('network');
    expect(seen).toHaveLength(1);
    expect(other.seen).toHaveLength(0);
  });
});

describe('retries', () => {
  it('retries a GET on 503 with growing backoff, then succeeds', async () => {
    const { url, seen } = await serve((_q, res, n) =>
      n < 3 ? json(res, 503, { detail: 'busy' }) : json(res, 200, STATE),
    );
    const { c, waits } = client(url, { retry: { retries: 2, baseDelayMs: 100, maxDelayMs: 1000 } });
    expect((await c.getState(CVM)).status).toBe('running');
    expect(seen).toHaveLength(3);
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBeLessThan(100);
    expect(waits[1]).toBeLessThan(200);
  });

  it('gives up after the allowed retries with server_error and the sanitised detail', async () => {
    const { url, seen } = await serve((_q, res) => json(res, 502, { detail: 'bad gateway' }));
    const { c } = client(url, { retry: { retries: 3 } });
    const err = await caught(c.getCvm(CVM));
    expect(err.code).toBe('server_error');
    expect(err.status).toBe(502);
    expect(err.detail).toBe('bad gateway');
    expect(seen).toHaveLength(4);
  });

  it('does not retry a 500 (the request reached the application)', async () => {
    const { url, seen } = await serve((_q, res) => json(res, 500, { detail: 'boom' }));
    expect((await caught(client(url).c.getCvm(CVM))).code).toBe('server_error');
    expect(seen).toHaveLength(1);
  });

  it.each([
    ['provisionCvm', (c: ReturnType<typeof createPhalaClient>) => c.provisionCvm(PROVISION)],
    [
      'createCvm',
      (c: ReturnType<typeof createPhalaClient>) =>
        c.createCvm({
          appId: 'ab'.repeat(20),
          composeHash: 'cd'.repeat(32),
          encryptedEnv: 'ef'.repeat(80),
          envKeys: ['A'],
        }),
    ],
    [
      'updateEnv',
      (c: ReturnType<typeof createPhalaClient>) => c.updateEnv(CVM, { encryptedEnv: 'ef'.repeat(80), envKeys: ['A'] }),
    ],
    ['restart', (c: ReturnType<typeof createPhalaClient>) => c.restart(CVM)],
  ])('never retries %s, not on 503 and not on 429', async (_name, call) => {
    for (const status of [503, 429]) {
      const { url, seen } = await serve((_q, res) =>
        json(res, status, { detail: 'try later' }, { 'retry-after': '0' }),
      );
      const err = await caught(call(client(url, { retry: { retries: 5 } }).c));
      expect(err.code).toBe(status === 429 ? 'rate_limited' : 'server_error');
      expect(seen).toHaveLength(1);
    }
  });

  it('never retries a POST whose connection broke (it may have been processed)', async () => {
    const { url, seen } = await serve((q) => q.socket.destroy());
    const err = await caught(client(url, { retry: { retries: 5 } }).c.provisionCvm(PROVISION));
    expect(err.code).toBe('network');
    expect(seen).toHaveLength(1);
    expect(JSON.parse(seen[0]!.body).compose_file.kms_enabled).toBe(true);
  });

  it('retries a GET after a network error', async () => {
    const { url, seen } = await serve((q, res, n) => (n === 1 ? q.socket.destroy() : json(res, 200, STATE)));
    expect((await client(url).c.getState(CVM)).status).toBe('running');
    expect(seen).toHaveLength(2);
  });

  it('honours a short Retry-After on 429 and gives a long one back to the caller', async () => {
    const short = await serve((_q, res, n) =>
      n === 1 ? json(res, 429, { detail: 'slow down' }, { 'retry-after': '2' }) : json(res, 200, STATE),
    );
    const { c, waits } = client(short.url, { retry: { retries: 2, baseDelayMs: 10, maxDelayMs: 5000 } });
    await c.getState(CVM);
    expect(waits).toEqual([2000]);

    const long = await serve((_q, res) => json(res, 429, { detail: 'slow down' }, { 'retry-after': '120' }));
    const err = await caught(client(long.url).c.getState(CVM));
    expect(err.code).toBe('rate_limited');
    expect(err.retryAfterS).toBe(120);
    expect(long.seen).toHaveLength(1);
  });

  it('treats a 404 on a DELETE retried after a lost answer as deleted', async () => {
    const { url, seen } = await serve((q, res, n) =>
      n === 1 ? q.socket.destroy() : json(res, 404, { detail: 'CVM not found.' }),
    );
    await expect(client(url).c.deleteCvm(CVM)).resolves.toBeUndefined();
    expect(seen.map((s) => s.method)).toEqual(['DELETE', 'DELETE']);
  });

  it('keeps a 404 on a DELETE after a real answer (503) as not_found', async () => {
    const { url } = await serve((_q, res, n) =>
      n === 1 ? json(res, 503, { detail: 'busy' }) : json(res, 404, { detail: 'CVM not found.' }),
    );
    expect((await caught(client(url).c.deleteCvm(CVM))).code).toBe('not_found');
    const first = await serve((_q, res) => json(res, 404, { detail: 'CVM not found.' }));
    expect((await caught(client(first.url).c.deleteCvm(CVM))).code).toBe('not_found');
  });

  it('computes full-jitter backoff within the doubling ceiling', () => {
    const retry = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelay(0, retry, () => 0.999)).toBe(99);
    expect(backoffDelay(3, retry, () => 0.999)).toBe(799);
    expect(backoffDelay(10, retry, () => 0.999)).toBe(999);
    expect(backoffDelay(5, retry, () => 0)).toBe(0);
  });
});

describe('timeouts and cancellation', () => {
  it('times out a request that gets no answer (timeout), and retries it only for a GET', async () => {
    const { url, seen } = await serve((_q, res, n) => (n === 1 ? undefined : json(res, 200, STATE)));
    expect((await client(url, { timeoutMs: 200 }).c.getState(CVM)).status).toBe('running');
    expect(seen).toHaveLength(2);

    const hang = await serve(() => undefined);
    const err = await caught(client(hang.url, { timeoutMs: 150 }).c.start(CVM));
    expect(err.code).toBe('timeout');
    expect(err.status).toBeNull();
    expect(hang.seen).toHaveLength(1);
  });

  it('stops at once when the caller aborts (aborted), without retrying', async () => {
    const { url, seen } = await serve(() => undefined);
    const controller = new AbortController();
    const pending = client(url, { timeoutMs: 60_000 }).c.getState(CVM, { signal: controller.signal });
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    expect((await caught(pending)).code).toBe('aborted');
    expect(seen).toHaveLength(1);
  });
});

describe('error details and bad responses', () => {
  it('redacts the API key a server echoes, strips control characters and caps the length', async () => {
    const { url } = await serve((_q, res) =>
      json(res, 403, { detail: `key ${API_KEY} is not allowed\n\u0007here ${'x'.repeat(1000)}` }),
    );
    const err = await caught(client(url).c.getCvm(CVM));
    expect(err.code).toBe('forbidden');
    expect(err.detail).toMatch(/^key \[redacted\] is not allowed here x+…$/);
    expect(err.detail!.length).toBe(300);
    expect(`${err.message} ${JSON.stringify(err)}`).not.toContain(API_KEY);
  });

  it('reads structured and FastAPI-style details, and survives a non-JSON error body', async () => {
    const structured = await serve((_q, res) =>
      json(res, 409, { detail: { error_code: 'X', message: 'CVM is busy' } }),
    );
    const conflict = await caught(client(structured.url).c.stop(CVM));
    expect([conflict.code, conflict.detail]).toEqual(['conflict', 'CVM is busy']);

    const fastapi = await serve((_q, res) =>
      json(res, 422, { detail: [{ loc: ['body', 'name'], msg: 'field required', type: 'missing' }] }),
    );
    const invalid = await caught(client(fastapi.url).c.provisionCvm(PROVISION));
    expect([invalid.code, invalid.detail]).toEqual(['invalid_request', 'field required']);

    const html = await serve((_q, res) => {
      res.writeHead(418, { 'content-type': 'text/html' });
      res.end('<html>teapot</html>');
    });
    const other = await caught(client(html.url).c.getCvm(CVM));
    expect([other.code, other.status, other.detail]).toEqual(['http_error', 418, null]);

    const chain = await serve((_q, res) => json(res, 465, { detail: { message: 'compose hash not registered' } }));
    expect(
      (await caught(client(chain.url).c.updateEnv(CVM, { encryptedEnv: 'ab'.repeat(80), envKeys: [] }))).code,
    ).toBe('precondition_required');
  });

  it('rejects a 2xx that breaks the wire shape, naming the field (bad_response)', async () => {
    const shortKey = await serve((_q, res) =>
      json(res, 200, { ...CVM_OBJECT, kms_info: { ...CVM_OBJECT.kms_info, encrypted_env_pubkey: 'cd'.repeat(31) } }),
    );
    const err = await caught(client(shortKey.url).c.getCvm(CVM));
    expect(err.code).toBe('bad_response');
    expect(err.message).toContain('kms_info.encrypted_env_pubkey');
    expect(err.message).toContain('64 hex characters');

    const notJson = await serve((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":');
    });
    expect((await caught(client(notJson.url).c.getState(CVM))).code).toBe('bad_response');

    const badSig = await serve((_q, res) =>
      json(res, 200, { public_key: 'ab'.repeat(32), signature: 'zz'.repeat(65) }),
    );
    expect((await caught(client(badSig.url).c.getEnvPubkey('kms', 'ab'.repeat(20)))).message).toContain('signature');
  });

  it('ignores unknown fields, maps unknown statuses to unknown, and strips a 0x prefix', async () => {
    const { url } = await serve((_q, res) =>
      json(res, 200, {
        ...CVM_OBJECT,
        status: 'hibernating',
        extra: { nested: true },
        app_id: `app_${'AB'.repeat(20)}`,
        kms_info: { ...CVM_OBJECT.kms_info, encrypted_env_pubkey: `0x${'CD'.repeat(32)}` },
      }),
    );
    const cvm = await client(url).c.getCvm(CVM);
    expect(cvm.status).toBe('unknown');
    expect(cvm.rawStatus).toBe('hibernating');
    expect(cvm.appId).toBe('ab'.repeat(20));
    expect(cvm.kmsInfo?.encryptedEnvPubkey).toBe('cd'.repeat(32));
    expect(cvm.publicUrls).toEqual([]);
    expect(cvm.uptimeSeconds).toBeNull();
  });

  it('caps the response size (bad_response)', async () => {
    const { url } = await serve((_q, res) =>
      json(res, 200, { lines: Array.from({ length: 2000 }, () => 'x'.repeat(100)) }),
    );
    const err = await caught(client(url, { maxResponseBytes: 10_000 }).c.getLogs(CVM));
    expect(err.code).toBe('bad_response');
    expect(err.message).toMatch(/larger than 10000 bytes/);
  });

  it('parses dstack-style /Info with tcb_info as a JSON string', async () => {
    const tcb = {
      mrtd: '11'.repeat(48),
      rtmr0: '22'.repeat(48),
      rtmr1: '33'.repeat(48),
      rtmr2: '44'.repeat(48),
      rtmr3: '55'.repeat(48),
      event_log: [{ imr: 3 }],
      app_compose: '{}',
      os_image_hash: '66'.repeat(32),
      compose_hash: '77'.repeat(32),
    };
    const { url } = await serve((_q, res) =>
      json(res, 200, {
        app_id: 'ab'.repeat(20),
        instance_id: 'cd'.repeat(20),
        app_name: 'a',
        tcb_info: JSON.stringify(tcb),
        key_provider_info: '{"name":"kms"}',
      }),
    );
    const info = await client('https://cloud-api.phala.com/api/v1').c.guestInfo(url);
    expect(info.tcbInfo.mrtd).toBe(tcb.mrtd);
    expect(info.tcbInfo.eventLog).toBe('[{"imr":3}]');
    expect(info.tcbInfo.composeHash).toBe(tcb.compose_hash);
  });
});

describe('sanitizeDetail', () => {
  it('returns null for nothing and never keeps a secret', () => {
    expect(sanitizeDetail(undefined, [])).toBeNull();
    expect(sanitizeDetail('   ', [])).toBeNull();
    expect(sanitizeDetail(`a${API_KEY}b${API_KEY}`, [API_KEY])).toBe('a[redacted]b[redacted]');
    expect(sanitizeDetail(42, [])).toBe('42');
  });
});
