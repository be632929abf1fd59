// @vitest-environment node
// A web page the person merely visits uses their browser against the local hub (issue 13 item 4): DNS rebinding
// (the page's own host name now resolves to 127.0.0.1, so the browser sends Host: <attacker's name>), a cross-site
// "simple" POST (text/plain needs no CORS preflight, the browser delivers it and only hides the answer) and any
// request carrying the page's Origin. The page runs the real clients (agent registration, pairing); the fetch it
// hands them adds what a browser would add for that page. hub/request-guard.ts must refuse all of it.
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonLinesLogger } from '../../../hub/logger';
import { startHub, type RunningHub } from '../../../hub/server';
import { AgentClient } from '../../../lib/agent/client';
import { JoinSession } from '../../../lib/hub-client/devices';
import { hubFixture, ORIGIN } from '../hub/flow';
import { tempDir } from '../hub/helpers';

type Init = { method?: string; headers?: Record<string, string> | Headers; body?: unknown };
type Rewrite = (url: URL, headers: Record<string, string>) => void;

function headersOf(init: Init | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init?.headers).forEach((v, k) => (out[k] = v));
  return out;
}

/** A fetch over real HTTP that lets the test set Host (undici would not), as a browser sends it for a page. */
function browserFetch(rewrite: Rewrite): typeof fetch {
  return (async (input: string | URL, init?: Init) => {
    const url = new URL(String(input));
    const headers = headersOf(init);
    rewrite(url, headers);
    const body =
      init?.body === undefined || init.body === null ? undefined : Buffer.from(init.body as string | Uint8Array);
    if (body) headers['content-length'] = String(body.length);
    return new Promise<Response>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: url.port, method: init?.method ?? 'GET', path: url.pathname + url.search, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve(
              new Response(Buffer.concat(chunks), {
                status: res.statusCode ?? 0,
                headers: res.headers as Record<string, string>,
              }),
            ),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }) as typeof fetch;
}

/** The same page's requests to the in-process hub (app.request), headers rewritten as the browser would. */
function pageFetch(hub: Awaited<ReturnType<typeof hubFixture>>, rewrite: Rewrite): typeof fetch {
  return (async (input: string | URL, init?: Init) => {
    const url = new URL(String(input));
    const headers = headersOf(init);
    rewrite(url, headers);
    return hub.app.request(url.toString(), { method: init?.method, headers, body: init?.body as BodyInit | undefined });
  }) as typeof fetch;
}

const registration = { name: 'evil-bot', manifest: { markdown: '# evil' }, requestedScopes: ['secret:read:bank'] };

let running: RunningHub | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

describe('a web page cannot reach the hub through the browser', () => {
  it("a DNS-rebinding page (Host: the attacker's name) can neither register an agent nor open a pairing", async () => {
    running = await startHub({ port: 0, dataDir: tempDir(), logger: jsonLinesLogger(() => {}) });
    const hub = running.url;
    const port = new URL(hub).port;
    const before = await running.store.audit.count();
    // The attacker's name resolves to 127.0.0.1 now; the browser still names it in Host.
    const rebound = browserFetch((_url, headers) => void (headers.host = `rebind.attacker.example:${port}`));

    const agent = new AgentClient({ fetch: rebound });
    await expect(agent.register({ hub, ...registration })).rejects.toThrow();
    const raw = await rebound(`${hub}/v1/agents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(raw.status).toBe(421);
    // Refused as another origin than the hub's (issue 16); the answer names only the hub's own public origin.
    expect((await raw.json()).error).toMatchObject({
      code: 'wrong_hub_origin',
      hub_origin: hub,
      message: `this hub is ${hub}; you used http://rebind.attacker.example:${port}`,
    });
    await expect(JoinSession.start({ hub, name: 'page', fetch: rebound })).rejects.toMatchObject({
      code: 'wrong_hub_origin',
    });
    expect(await running.store.audit.count()).toBe(before);

    // The same requests with the hub's own Host work: the refusal above is the Host check and nothing else.
    const honest = browserFetch(() => {});
    await expect(new AgentClient({ fetch: honest }).register({ hub, ...registration })).resolves.toMatchObject({
      agent_id: expect.any(String),
    });
    await expect(JoinSession.start({ hub, name: 'page', fetch: honest })).resolves.toBeInstanceOf(JoinSession);
  });

  it('a rebinding request in absolute form (GET http://127.0.0.1/... with a foreign Host) is refused too', async () => {
    running = await startHub({ port: 0, dataDir: tempDir(), logger: jsonLinesLogger(() => {}) });
    const { port } = new URL(running.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: `${running!.url}/v1/health`,
          headers: { host: `rebind.attacker.example:${port}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(421);
  });

  for (const origin of [undefined, 'https://evil.example']) {
    it(`a cross-site text/plain POST to /v1/agents and /v1/pairings creates nothing (${origin ? 'with' : 'without'} an Origin header)`, async () => {
      const hub = await hubFixture();
      const before = await hub.store.audit.count();
      // A page sends text/plain to skip the CORS preflight; the JSON inside is what the real client would send.
      const simplePost = pageFetch(hub, (_url, headers) => {
        if (headers['content-type']) headers['content-type'] = 'text/plain;charset=UTF-8';
        if (origin) headers.origin = origin;
      });
      const agent = new AgentClient({ fetch: simplePost });
      const registering = agent.register({ hub: ORIGIN, ...registration });
      await expect(registering).rejects.toThrow();
      await expect(JoinSession.start({ hub: ORIGIN, name: 'page', fetch: simplePost })).rejects.toMatchObject({
        code: origin ? 'origin_forbidden' : 'content_type_unsupported',
      });
      const raw = await simplePost(`${ORIGIN}/v1/agents`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(raw.status).toBe(origin ? 403 : 415);
      expect(await hub.store.audit.count()).toBe(before);
    });
  }

  it('a foreign Origin is refused on every route: public, signed and preflight', async () => {
    const hub = await hubFixture();
    const device = await hub.enrolledDevice();
    const evil = { origin: 'https://evil.example' };
    const refused = async (res: { status: number; json: Record<string, any> } | Response) => {
      const status = res.status;
      const json = res instanceof Response ? ((await res.json()) as Record<string, any>) : res.json;
      expect(status).toBe(403);
      expect(json.error.code).toBe('origin_forbidden');
    };
    await refused(await hub.app.request('/v1/health', { headers: evil }));
    await refused(await device.send('GET', '/v1/devices', undefined, (init) => Object.assign(init.headers, evil)));
    await refused(
      await hub.app.request('/v1/pairings', {
        method: 'OPTIONS',
        headers: { ...evil, 'access-control-request-method': 'POST' },
      }),
    );
    for (const origin of [
      'null',
      'http://127.0.0.1:5178',
      'chrome-extension://not-an-extension-id',
      'http://127.0.0.1:8787.evil.example',
    ]) {
      await refused(await hub.app.request('/v1/health', { headers: { origin } }));
    }
  });

  it('still answers its own clients: no Origin (agents, CLI), its own origin, browser extensions', async () => {
    const hub = await hubFixture();
    for (const headers of <Record<string, string>[]>[
      {},
      { origin: ORIGIN },
      { origin: 'chrome-extension://abcdefghijklmnopabcdefghijklmnop' },
      { origin: 'moz-extension://0d3c5a4e-9f1b-4c2a-8e7d-1a2b3c4d5e6f' },
    ]) {
      expect((await hub.app.request('/v1/health', { headers })).status).toBe(200);
    }
    const device = await hub.enrolledDevice();
    const fromExtension = await device.send(
      'GET',
      '/v1/devices',
      undefined,
      (init) => void (init.headers.origin = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop'),
    );
    expect(fromExtension.status).toBe(200);
  });
});
