// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { createHubApp } from '../../../hub/app';
import { jsonLinesLogger } from '../../../hub/logger';
import { openSqliteStore } from '../../../hub/store/sqlite';
import { atOrigin } from './flow';

const WEB = 'http://127.0.0.1:5178';
const app = (allowOrigins?: string[]) =>
  atOrigin(
    createHubApp({
      store: openSqliteStore({ file: ':memory:' }),
      logger: jsonLinesLogger(() => {}),
      origin: 'http://127.0.0.1:8787',
      allowOrigins,
    }),
  );
const preflight = (origin: string) => ({
  method: 'OPTIONS',
  headers: {
    origin,
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'content-type, ck-signature',
  },
});

describe('hub CORS allow-list', () => {
  it('answers the preflight and the request of a listed origin, with the signed-request headers only', async () => {
    const hub = app([WEB]);
    const pre = await hub.request('/v1/pairings', preflight(WEB));
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(WEB);
    expect(pre.headers.get('access-control-allow-headers')).toContain('ck-signature');
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    const res = await hub.request('/v1/health', { headers: { origin: WEB } });
    expect(res.headers.get('access-control-allow-origin')).toBe(WEB);
    // Errors too, so the page can read the typed error code (e.g. device_revoked).
    const err = await hub.request('/v1/devices', { headers: { origin: WEB } });
    expect(err.status).toBe(401);
    expect(err.headers.get('access-control-allow-origin')).toBe(WEB);
  });

  it('gives other origins nothing, and no origin at all by default; never *', async () => {
    for (const hub of [app([WEB]), app()]) {
      // Not just unreadable: refused (hub/request-guard.ts), preflight included.
      const pre = await hub.request('/v1/pairings', preflight('http://127.0.0.1:6666'));
      expect(pre.status).toBe(403);
      expect(pre.headers.get('access-control-allow-origin')).toBeNull();
      const res = await hub.request('/v1/health', { headers: { origin: 'https://evil.example' } });
      expect(res.status).toBe(403);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    }
    expect(
      (await app().request('/v1/health', { headers: { origin: WEB } })).headers.get('access-control-allow-origin'),
    ).toBeNull();
    expect(() => app(['*'])).toThrow(TypeError);
    expect(() => app(['http://example.com'])).toThrow(TypeError);
  });
});
