// @vitest-environment node
// Issue 16: "an agent that registered with http://localhost:8787 is claimed fine and then fails every call with
// auth_bad_signature". A hub whose public origin is https://hub.example.com now answers any other origin with
// `wrong_hub_origin` and the sentence "this hub is https://hub.example.com; you used http://localhost:8787"; the
// agent SDK and the hub client write that sentence themselves from the answer's `hub_origin`.
import { describe, expect, it } from 'vitest';
import { createHubApp } from '../../../hub/app';
import { jsonLinesLogger } from '../../../hub/logger';
import { openSqliteStore } from '../../../hub/store/sqlite';
import { AgentClient } from '../../../lib/agent/client';
import { responseError } from '../../../lib/hub-client/client';
import { wrongHubOriginText } from '../../../lib/protocol/api-errors';
import { ErrorBodySchema, parseWire } from '../../../lib/protocol/wire';

const PUBLIC = 'https://hub.example.com';

function hub() {
  const store = openSqliteStore({ file: ':memory:' });
  return createHubApp({ store, origin: PUBLIC, logger: jsonLinesLogger(() => {}) });
}

describe('a request at another origin than the public one', () => {
  it('is answered wrong_hub_origin (421) naming both origins, on every route, before any signature is checked', async () => {
    const app = hub();
    for (const [method, path] of [
      ['GET', '/v1/health'],
      ['GET', '/v1/agents/me'],
      ['POST', '/v1/agents'],
    ] as const) {
      const res = await app.request(`http://localhost:8787${path}`, {
        method,
        headers: { 'content-type': 'application/json', 'ck-signature': 'x' },
        body: method === 'POST' ? '{}' : undefined,
      });
      expect(res.status).toBe(421);
      const body = (await res.json()) as { error: Record<string, string> };
      expect(body.error).toMatchObject({
        code: 'wrong_hub_origin',
        message: 'this hub is https://hub.example.com; you used http://localhost:8787',
        hub_origin: PUBLIC,
      });
      expect(parseWire(ErrorBodySchema, body).error.hub_origin).toBe(PUBLIC);
    }
    // Scheme alone differs: still another origin.
    const http = await app.request('http://hub.example.com/v1/health');
    expect(((await http.json()) as { error: { message: string } }).error.message).toBe(
      'this hub is https://hub.example.com; you used http://hub.example.com',
    );
    // The public origin itself, default port written out or not, is answered.
    expect((await app.request('https://hub.example.com/v1/health')).status).toBe(200);
    expect((await app.request('https://hub.example.com:443/v1/health')).status).toBe(200);
  });

  it('the agent SDK explains it in its own words with the hub origin and the origin it was given', async () => {
    const app = hub();
    const agent = new AgentClient({
      fetch: async (url, init) => app.request(url, { method: init.method, headers: init.headers, body: init.body }),
    });
    await expect(
      agent.register({
        hub: 'http://localhost:8787',
        name: 'bot',
        manifest: { markdown: '# bot' },
        requestedScopes: [],
      }),
    ).rejects.toMatchObject({
      code: 'wrong_hub_origin',
      message: 'this hub is https://hub.example.com; you used http://localhost:8787',
    });
    expect(agent.state).toBeUndefined();
  });

  it('the hub client (extension, web vault) too; a hub_origin that is not an origin gets the generic text', async () => {
    const app = hub();
    const res = await app.request('http://localhost:8787/v1/health');
    // app.request answers without a URL; a real fetch's Response carries the one the request went to.
    Object.defineProperty(res, 'url', { value: 'http://localhost:8787/v1/health' });
    expect(await responseError(res)).toMatchObject({
      code: 'wrong_hub_origin',
      status: 421,
      message: 'this hub is https://hub.example.com; you used http://localhost:8787',
    });
    const forged = new Response(
      JSON.stringify({ error: { code: 'wrong_hub_origin', message: 'x', request_id: 'r', hub_origin: 'call +1 555' } }),
      { status: 421 },
    );
    Object.defineProperty(forged, 'url', { value: 'http://localhost:8787/v1/health' });
    expect((await responseError(forged)).message).toBe(
      'This hub has another public address than the one used. Use the hub URL its operator gave.',
    );
    expect(wrongHubOriginText('https://evil.example/path', 'http://localhost:8787')).toBeNull();
  });
});
