// @vitest-environment node
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { toBase64, utf8Encode } from '../../../lib/bytes';
import { makeHttpCall } from '../../../lib/http-request/call';
import { HttpCallError } from '../../../lib/http-request/errors';
import { REDACTED } from '../../../lib/http-request/redact';
import type { HttpRequestIntent } from '../../../lib/protocol/http-request';

// A real server on loopback records what it received. Plain http here: the call module takes a parsed intent and
// does not choose the scheme (parseHttpRequest allows https only; the end-to-end test uses a TLS server).
interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function server(answer: (req: Received, res: http.ServerResponse) => void) {
  const received: Received[] = [];
  const s = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() };
      received.push(r);
      answer(r, res);
    });
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  return { origin, received };
}

const TOKEN = 'ghp_S3cretTokenValue_0123456789abcdef';
const vault: Record<string, string> = { 'GitHub token': TOKEN, 'Maps key': 'k&y=1 2/3', Bad: 'a\r\nx-evil: 1' };
const valueOf = (name: string) => {
  const v = vault[name];
  if (v === undefined) throw new Error(`no item ${name}`);
  return v;
};

function intent(origin: string, over: Partial<HttpRequestIntent> = {}): HttpRequestIntent {
  return {
    method: 'POST',
    url: `${origin}/repos/o/r/pulls`,
    host: new URL(origin).host,
    headers: [['authorization', 'Bearer {{secret:GitHub token}}']],
    body: { text: '{"title":"Fix"}' },
    reason: null,
    secretUses: [{ secret: 'GitHub token', in: 'header', header: 'authorization' }],
    ...over,
  };
}

describe('makeHttpCall (issue 18: the browser makes the approved call)', () => {
  it('the server receives the real secret; an echo of it comes back cut, and says so', async () => {
    const s = await server((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-echo', req.headers.authorization ?? '');
      res.end(JSON.stringify({ you_sent: req.headers.authorization, body: req.body }));
    });
    const r = await makeHttpCall(intent(s.origin), valueOf);
    expect(s.received[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(s.received[0]!.body).toBe('{"title":"Fix"}');
    expect(r.status).toBe(200);
    const text = new TextDecoder().decode(r.body);
    expect(text).toBe(JSON.stringify({ you_sent: `Bearer ${REDACTED}`, body: '{"title":"Fix"}' }));
    expect(r.headers).toContainEqual(['x-echo', `Bearer ${REDACTED}`]);
    expect(r.redacted).toEqual(['verbatim']);
    expect(JSON.stringify(r)).not.toContain(TOKEN);
  });

  it('a secret in a query value is sent percent-encoded and arrives as it is', async () => {
    const s = await server((_, res) => res.end('ok'));
    await makeHttpCall(
      intent(s.origin, { method: 'GET', url: `${s.origin}/geo?q=x&key={{secret:Maps key}}`, headers: [], body: null }),
      valueOf,
    );
    expect(new URL(s.received[0]!.url, s.origin).searchParams.get('key')).toBe(vault['Maps key']);
  });

  it('a base64 echo of the secret (a Basic header) comes back cut', async () => {
    const s = await server((_, res) => res.end(`seen: Basic ${toBase64(utf8Encode(`u:${TOKEN}`))}`));
    const r = await makeHttpCall(intent(s.origin), valueOf);
    expect(new TextDecoder().decode(r.body)).toBe(`seen: Basic ${REDACTED}`);
    expect(r.redacted).toEqual(['base64']);
  });

  it('a redirect to another origin is not followed: the other server never sees the secret', async () => {
    const other = await server((_, res) => res.end('captured'));
    const s = await server((_, res) => {
      res.statusCode = 307;
      res.setHeader('location', `${other.origin}/steal`);
      res.end();
    });
    const r = await makeHttpCall(intent(s.origin), valueOf);
    expect(r.status).toBe(307);
    expect(r.redirect).toEqual({ location: `${other.origin}/steal` });
    expect(other.received).toEqual([]);
  });

  it("a redirect's target that carries the secret comes back cut, and says so", async () => {
    const s = await server((_, res) => {
      res.statusCode = 302;
      res.setHeader('location', `https://elsewhere.example/cb?token=${encodeURIComponent(TOKEN)}`);
      res.end();
    });
    const r = await makeHttpCall(intent(s.origin), valueOf);
    expect(r.redirect?.location).not.toContain(TOKEN);
    expect(r.redirect?.location).toContain(REDACTED);
    expect(r.redacted.length).toBeGreaterThan(0);
  });

  it('a secret that cannot stand in a header (a line break) is refused before anything is sent, naming no value', async () => {
    const s = await server((_, res) => res.end());
    const err = await makeHttpCall(intent(s.origin, { headers: [['x-api-key', '{{secret:Bad}}']] }), valueOf).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HttpCallError);
    expect((err as HttpCallError).code).toBe('http_secret_unusable');
    expect((err as Error).message).not.toContain('evil');
    expect(s.received).toEqual([]);
  });

  it('an answer over the cap is refused whole, declared or streamed', async () => {
    const declared = await server((_, res) => res.end('x'.repeat(5000)));
    const streamed = await server((_, res) => {
      res.write('y'.repeat(3000));
      res.end('y'.repeat(3000));
    });
    for (const s of [declared, streamed]) {
      const err = await makeHttpCall(intent(s.origin), valueOf, { maxResponseBytes: 4096 }).catch((e: unknown) => e);
      expect((err as HttpCallError).code).toBe('http_response_too_large');
    }
  });

  it('no answer within the time limit is a timeout; a closed port is a failed call', async () => {
    const silent = await server(() => {}); // never answers
    const err = await makeHttpCall(intent(silent.origin), valueOf, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect((err as HttpCallError).code).toBe('http_call_timeout');
    const closed = await server(() => {});
    const port = new URL(closed.origin).port;
    await new Promise((r) => servers.pop()!.close(r));
    const err2 = await makeHttpCall(intent(`http://127.0.0.1:${port}`), valueOf).catch((e: unknown) => e);
    expect((err2 as HttpCallError).code).toBe('http_call_failed');
  });

  it('binary answers stay bytes', async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const s = await server((_, res) => {
      res.setHeader('content-type', 'application/octet-stream');
      res.end(Buffer.from(bytes));
    });
    const r = await makeHttpCall(intent(s.origin), valueOf);
    expect(r.body).toEqual(bytes);
    expect(r.redacted).toEqual([]);
  });
});
