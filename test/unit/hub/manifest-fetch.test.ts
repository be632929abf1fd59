// @vitest-environment node
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchManifest } from '../../../hub/manifest-fetch';

// A loopback test server on 127.0.0.2 (all of 127/8 is loopback on Linux), allowed only by the test allowlist,
// so 127.0.0.1 / localhost stay forbidden in the same tests. No traffic ever leaves this machine: forbidden
// addresses are refused after DNS resolution and before any connection is made.
let base = '';
let server: http.Server;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/manifest.md')
      return res
        .writeHead(200, { 'content-type': 'text/markdown; charset=utf-8' })
        .end('# Research bot\nReads papers.');
    if (req.url === '/to-private') return res.writeHead(302, { location: 'http://10.0.0.1/manifest.md' }).end();
    if (req.url === '/to-metadata')
      return res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end();
    if (req.url === '/to-ok') return res.writeHead(302, { location: '/manifest.md' }).end();
    if (req.url === '/html') return res.writeHead(200, { 'content-type': 'text/html' }).end('<script>');
    if (req.url === '/drip') {
      // A hostile manifest host: valid headers at once, then one byte every 250 ms for 10 s. Each byte resets an
      // idle timer, so only a total deadline ends this early.
      res.writeHead(200, { 'content-type': 'text/plain' });
      let sent = 0;
      const drip = setInterval(() => {
        if (++sent > 40) {
          clearInterval(drip);
          res.end();
        } else res.write('x');
      }, 250);
      res.on('close', () => clearInterval(drip));
      return;
    }
    if (req.url === '/big') return res.writeHead(200, { 'content-type': 'text/plain' }).end('x'.repeat(70_000));
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  base = `http://127.0.0.2:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const test = { testAllowList: ['127.0.0.2/32'] };

describe('fetchManifest (SSRF protection)', () => {
  it('fetches an allowed manifest and hashes it; follows a safe redirect', async () => {
    const m = await fetchManifest(`${base}/manifest.md`, test);
    expect(m.markdown).toContain('Research bot');
    expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await fetchManifest(`${base}/to-ok`, test)).sha256).toBe(m.sha256);
  });

  it.each([
    'http://127.0.0.1/manifest.md',
    'http://localhost/manifest.md',
    'http://[::1]/manifest.md',
    'http://10.0.0.1/manifest.md',
    'http://169.254.169.254/latest/meta-data',
    'http://[::ffff:127.0.0.1]/x',
    'http://0.0.0.0/x',
  ])('refuses %s before connecting', async (url) => {
    // http allowed (test mode) but nothing on the allowlist: only the address rules decide.
    await expect(fetchManifest(url, { testAllowList: [] })).rejects.toMatchObject({ code: 'manifest_url_forbidden' });
  });

  it('re-checks every redirect hop', async () => {
    await expect(fetchManifest(`${base}/to-private`, test)).rejects.toMatchObject({ code: 'manifest_url_forbidden' });
    await expect(fetchManifest(`${base}/to-metadata`, test)).rejects.toMatchObject({ code: 'manifest_url_forbidden' });
  });

  it('production rules: https only, no credentials, text types only, size cap', async () => {
    await expect(fetchManifest('http://example.com/m.md')).rejects.toMatchObject({ code: 'manifest_url_invalid' });
    await expect(fetchManifest('https://user:pw@example.com/m.md')).rejects.toMatchObject({
      code: 'manifest_url_invalid',
    });
    await expect(fetchManifest('not a url')).rejects.toMatchObject({ code: 'manifest_url_invalid' });
    await expect(fetchManifest('https://127.0.0.1/m.md')).rejects.toMatchObject({ code: 'manifest_url_forbidden' });
    await expect(fetchManifest(`${base}/html`, test)).rejects.toMatchObject({ code: 'manifest_bad_type' });
    await expect(fetchManifest(`${base}/big`, test)).rejects.toMatchObject({ code: 'manifest_too_large' });
  });

  it('a server dripping bytes slowly is cut off at the total deadline, not kept alive by each byte', async () => {
    const started = Date.now();
    await expect(fetchManifest(`${base}/drip`, { ...test, timeoutMs: 1000 })).rejects.toMatchObject({
      code: 'manifest_fetch_timeout',
    });
    // Generous bound: an idle timeout would only fail after the whole 10 s drip (and then the fetch would succeed).
    expect(Date.now() - started).toBeLessThan(5000);
  }, 15_000);
});
