import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * A minimal static file server for the built web vault (`dist/web`). Node-only, so it lives in `bin/`, not `lib/`.
 * Loopback only: the vault holds secrets, and nothing about it should be reachable from the network.
 */
export const HOST = '127.0.0.1';

/**
 * Sent with every response, errors included. The CSP allows WebAssembly compilation (Argon2id) and, for device
 * pairing with a hub, requests to loopback origins (the hub listens on loopback only), nothing looser.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "connect-src 'self' http://127.0.0.1:* http://localhost:*; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export function contentTypeFor(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root + path.sep);
}

/**
 * Maps a request path to a file under `root`, or null when it must be refused (traversal, NUL, bad encoding,
 * a symlink pointing outside `root`) or does not exist. A directory maps to its index.html.
 */
export async function resolveFile(root: string, urlPath: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  // Reject any `..` segment outright instead of normalising it away: no legitimate asset URL has one.
  if (decoded.split('/').includes('..')) return null;
  let file = path.resolve(root, '.' + decoded);
  if (!isInside(root, file)) return null;
  try {
    let info = await stat(file);
    if (info.isDirectory()) {
      file = path.join(file, 'index.html');
      info = await stat(file);
    }
    if (!info.isFile()) return null;
    const real = await realpath(file);
    return isInside(root, real) ? real : null;
  } catch {
    return null;
  }
}

function sendText(res: http.ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...extra });
  res.end(res.req.method === 'HEAD' ? undefined : text + '\n');
}

/** The request handler, exported so tests and other servers can mount it. `root` must be a real absolute path. */
export function createStaticHandler(root: string): http.RequestListener {
  return (req, res) => {
    void (async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendText(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
        return;
      }
      const urlPath = (req.url ?? '/').split('?')[0]!.split('#')[0]!;
      if (!urlPath.startsWith('/')) {
        sendText(res, 400, 'bad request');
        return;
      }
      const file = await resolveFile(root, urlPath);
      if (!file) {
        sendText(res, 404, 'not found');
        return;
      }
      const { size } = await stat(file);
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'Content-Type': contentTypeFor(file),
        'Content-Length': String(size),
        // Hashed assets could be cached forever, but a local vault gains nothing from it; always revalidate.
        'Cache-Control': 'no-cache',
      });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      createReadStream(file)
        .on('error', () => res.destroy())
        .pipe(res);
    })().catch(() => {
      if (!res.headersSent) sendText(res, 500, 'internal error');
      else res.destroy();
    });
  };
}

export interface WebServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `dir` on 127.0.0.1:`port` (0 = any free port).
 * @throws Error if `dir` has no index.html; the listen error (e.g. EADDRINUSE) if the port is taken.
 */
export async function startWebServer(options: { dir: string; port?: number }): Promise<WebServer> {
  let root: string;
  try {
    root = await realpath(path.resolve(options.dir));
    await stat(path.join(root, 'index.html'));
  } catch {
    throw new Error(
      `no built web vault in ${path.resolve(options.dir)} (index.html missing): run \`npm run build:web\` first`,
    );
  }
  const server = http.createServer(createStaticHandler(root));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${HOST}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
