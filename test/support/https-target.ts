import { createHash, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createTestCa, type TestCa } from './test-ca';

/**
 * A real HTTPS server on loopback for issue 18's calls: a test CA's certificate for the given names (Chromium reaches
 * them by a host resolver rule and accepts the leaf by its key), every request recorded as it arrived (method, path,
 * headers, body), and a few routes:
 *
 * - `GET /echo-auth`: answers JSON `{ authorization }`, the Authorization header it received (a server that reflects
 *   the secret back).
 * - `GET /redirect?to=URL`: 302 to URL.
 * - anything else: 200 JSON `{ ok: true, method, path, bytes }` (`bytes` = the request body's length).
 */
export interface ReceivedRequest {
  method: string;
  /** Path with query, as sent. */
  url: string;
  /** The Host header as sent (`name:port`). */
  host: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface HttpsTarget {
  port: number;
  /** base64 SHA-256 of the leaf's public key, for Chromium's --ignore-certificate-errors-spki-list. */
  spki: string;
  /** The Chromium flags that make `names` resolve to this server and its certificate acceptable. */
  chromiumArgs: string[];
  received: ReceivedRequest[];
  close(): Promise<void>;
}

export async function startHttpsTarget(names: readonly string[]): Promise<HttpsTarget> {
  const ca: TestCa = createTestCa();
  const leaf = ca.issue({ names });
  const received: ReceivedRequest[] = [];
  const server: Server = createServer({ cert: leaf.cert, key: leaf.key }, (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // Bounded: a test server never holds more than a request the protocol allows (64 KiB bodies).
      if (size <= 1024 * 1024) chunks.push(c);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        host: req.headers.host ?? '',
        headers: req.headers,
        body,
      });
      const url = new URL(req.url ?? '/', 'https://target.invalid');
      if (url.pathname === '/echo-auth') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ authorization: req.headers.authorization ?? null }));
      } else if (url.pathname === '/redirect') {
        res.writeHead(302, { location: url.searchParams.get('to') ?? '/' });
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true, method: req.method, path: url.pathname, bytes: size }));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const spki = createHash('sha256')
    .update(new X509Certificate(leaf.cert).publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64');
  return {
    port,
    spki,
    chromiumArgs: [
      `--host-resolver-rules=${names.map((n) => `MAP ${n} 127.0.0.1`).join(', ')}`,
      `--ignore-certificate-errors-spki-list=${spki}`,
    ],
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      ca.cleanup();
    },
  };
}
