// @vitest-environment node
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECURITY_HEADERS, startWebServer, webVaultCsp, type WebServer } from '../../../bin/web-server';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Raw request: `fetch` would normalise `/../` away before it reaches the server. */
function request(server: WebServer, rawPath: string, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path: rawPath, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let tmp: string;
let server: WebServer;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'clawkeep-web-'));
  const root = path.join(tmp, 'web');
  mkdirSync(path.join(root, 'assets'), { recursive: true });
  writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>Clawkeep</title>');
  writeFileSync(path.join(root, 'assets', 'main-abc.js'), 'export {};');
  writeFileSync(path.join(root, 'assets', 'argon2.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d]));
  writeFileSync(path.join(root, 'assets', 'style.css'), 'body{}');
  writeFileSync(path.join(tmp, 'secret.txt'), 'outside the web root');
  symlinkSync(path.join(tmp, 'secret.txt'), path.join(root, 'link.txt'));
  server = await startWebServer({ dir: root, port: 0 });
});

afterAll(async () => {
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('web vault static server', () => {
  it('listens on 127.0.0.1 only', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('serves index.html for / with the security headers', async () => {
    const res = await request(server, '/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('<title>Clawkeep</title>');
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers[name.toLowerCase()]).toBe(value);
    expect(res.headers['content-security-policy']).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  });

  it.each([
    ['/assets/main-abc.js', 'text/javascript; charset=utf-8'],
    ['/assets/argon2.wasm', 'application/wasm'],
    ['/assets/style.css', 'text/css; charset=utf-8'],
    ['/index.html?x=1', 'text/html; charset=utf-8'],
  ])('serves %s as %s', async (p, type) => {
    const res = await request(server, p);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(type);
  });

  it('answers HEAD without a body', async () => {
    const res = await request(server, '/assets/main-abc.js', 'HEAD');
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('10');
    expect(res.body).toBe('');
  });

  it.each(['POST', 'PUT', 'DELETE', 'OPTIONS'])('refuses %s with 405', async (method) => {
    const res = await request(server, '/', method);
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('returns 404 for a missing file, with the security headers', async () => {
    const res = await request(server, '/nope.js');
    expect(res.status).toBe(404);
    expect(res.headers['content-security-policy']).toBe(SECURITY_HEADERS['Content-Security-Policy']);
  });

  it.each([
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E%2Fsecret.txt',
    '/assets/..%2f..%2fsecret.txt',
    '/..%5csecret.txt',
    '/index.html%00.js',
    '/%E0%A4%A',
    '/link.txt',
  ])('refuses %s', async (p) => {
    const res = await request(server, p);
    expect(res.status).toBe(404);
    expect(res.body).not.toContain('outside the web root');
  });

  it('refuses a request target that is not a path', async () => {
    const res = await request(server, 'http://example.com/');
    expect([400, 404]).toContain(res.status);
  });

  it('explains a missing build', async () => {
    await expect(startWebServer({ dir: path.join(tmp, 'nothing') })).rejects.toThrow(/npm run build:web/);
  });
});

/** The CSP's directives by name, each as its list of sources. */
function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp.split(';').map((d) => {
      const [name, ...sources] = d.trim().split(/\s+/);
      return [name!, sources];
    }),
  );
}

describe('the hubs the web vault may call (CSP connect-src, issue 16)', () => {
  const LOOPBACK = ["'self'", 'http://127.0.0.1:*', 'http://localhost:*'];

  it('allows loopback hubs only by default', () => {
    expect(directives(SECURITY_HEADERS['Content-Security-Policy']!).get('connect-src')).toEqual(LOOPBACK);
  });

  it('adds exactly the configured hub origins, and changes nothing else', async () => {
    const origins = ['https://hub.example.com', 'https://hub.test:8443', 'https://[2001:db8::1]:8443'];
    const configured = await startWebServer({ dir: path.join(tmp, 'web'), port: 0, hubOrigins: origins });
    try {
      for (const p of ['/', '/nope.js']) {
        const res = await request(configured, p);
        const csp = directives(String(res.headers['content-security-policy']));
        expect(csp.get('connect-src')).toEqual([...LOOPBACK, ...origins]);
        const others = (m: Map<string, string[]>) => [...m].filter(([name]) => name !== 'connect-src');
        expect(others(csp)).toEqual(others(directives(SECURITY_HEADERS['Content-Security-Policy']!)));
      }
    } finally {
      await configured.close();
    }
  });

  it('names an origin given twice once', () => {
    const csp = directives(webVaultCsp(['https://hub.example.com', 'https://hub.example.com']));
    expect(csp.get('connect-src')).toEqual([...LOOPBACK, 'https://hub.example.com']);
  });

  it.each([
    ['a trailing slash', 'https://hub.example.com/'],
    ['a path', 'https://hub.example.com/v1'],
    ['a wildcard', '*'],
    ['a wildcard host', 'https://*.example.com'],
    ['plain http to another machine', 'http://hub.example.com'],
    ['a host without a scheme', 'hub.example.com'],
    ['another directive smuggled in', "https://hub.example.com; script-src 'unsafe-inline'"],
    ['a CSP keyword', "'unsafe-inline'"],
    ['upper case (not as URL.origin writes it)', 'https://Hub.Example.com'],
    ['credentials', 'https://user:pw@hub.example.com'],
    ['nothing', ''],
  ])('refuses %s before listening', async (_what, value) => {
    expect(() => webVaultCsp([value])).toThrow(TypeError);
    await expect(startWebServer({ dir: path.join(tmp, 'web'), port: 0, hubOrigins: [value] })).rejects.toThrow(
      /not a hub origin/,
    );
  });
});
